"""One behavioural contract for every adapter, run against each implementation.

Each adapter's test package subclasses `AdapterContract` and provides a `harness`
fixture: something that sends one message as a person would on that platform and
returns the text the person sees (rendered in that platform's idiom, flattened to text),
plus a list of every place the adapter wrote or logged to. The same tests then run
against the console, Matrix, Teams and the web chat.

What only some platforms have (replies that quote an earlier message, edits, rooms shared
with other people) is an optional capability of the harness: a platform without it names
the reason in `Harness.lacks`, and those tests are skipped with that reason. The same test
then holds for every platform that has the thing, compared on what the person sees.

`PlatformContract` checks the platform contract itself (adapters/_contract.py) for every
platform in the registry; tests/test_platforms.py runs it.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters import Platform, SettingsError, configured, load


@dataclass(frozen=True)
class Addressed:
    """What the person sees after addressing the bot in a shared room.

    Attributes:
        text: The bot's answer in the room, flattened to text.
        opens_direct: The answer came with a way straight into a direct chat with the bot:
            an invite to a new direct chat (Matrix) or a button that opens the personal
            chat (Teams). A bare "shall we talk in private?" is not one.
    """

    text: str
    opens_direct: bool = False


@dataclass
class Shared:
    """A room the person shares with other people and the bot (a Matrix room, a Teams
    group chat), where the bot answers only when it is addressed.

    Attributes:
        say: Write without addressing the bot; returns the bot's answer, or None when
            none came within a short, bounded wait.
        address: Write to the bot the way the platform's clients mention it.
        reply: `reply(text, quoted)`: a colleague replies to the person's last message to
            the bot, quoting it (`quoted`, which mentions the bot) but not addressing the
            bot; returns the bot's answer, or None as for `say`. None when the platform
            has no replies.
    """

    say: Callable[[str], Awaitable[str | None]]
    address: Callable[[str], Awaitable[Addressed]]
    reply: Callable[[str, str], Awaitable[str | None]] | None = None


@dataclass
class Harness:
    """How the contract talks to one adapter.

    Attributes:
        send: Send one message in a fresh or ongoing 1:1 chat; returns what the person sees.
        written: Folders the adapter may write to (searched for canaries).
        captured: Returns all output and logs captured so far.
        reply: `reply(text, quoted)` answers the bot's last message in the 1:1 chat with a
            reply that quotes it, as the platform's clients send it: `text` is the
            person's own words, `quoted` the quoted message as the client copies it in.
            Returns what the person sees.
        edit: Edits the person's last message in the 1:1 chat into `text`; returns the
            bot's answer, or None when none came within a short, bounded wait.
        shared: A room shared with other people, see `Shared`.
        welcome: Opens a new direct chat with the bot; returns its greeting.
        lacks: For each capability above the platform does not have, why not.
    """

    send: Callable[[str], Awaitable[str]]
    written: list[Path] = field(default_factory=list)
    captured: Callable[[], str] = lambda: ""
    reply: Callable[[str, str], Awaitable[str]] | None = None
    edit: Callable[[str], Awaitable[str | None]] | None = None
    shared: Shared | None = None
    welcome: Callable[[], Awaitable[str]] | None = None
    lacks: dict[str, str] = field(default_factory=dict)

    def needs(self, capability: str) -> Any:
        """The capability, or skip the test with the platform's reason for lacking it."""
        found = getattr(self, capability)
        if found is None:
            reason = self.lacks.get(capability)
            if not reason:
                pytest.fail(f"the harness has no {capability!r} and gives no reason in `lacks`")
            pytest.skip(reason)
        return found


def new_canary() -> str:
    return f"kanarie{uuid.uuid4().hex}"


def words(seen: str) -> str:
    """The text with every run of whitespace as one space: renderers wrap lines."""
    return " ".join(seen.split())


def assert_private(harness: Harness, canary: str, *seen: str | None) -> None:
    """The canary is in nothing the person saw, nothing logged, nothing written."""
    for s in seen:
        assert canary not in (s or "")
    assert canary not in harness.captured()
    for root in harness.written:
        for path in root.rglob("*"):
            if path.is_file():
                assert canary.encode() not in path.read_bytes(), path


#: What the person sees when the bot forgot the conversation (knowledge/texts.yaml).
FORGOTTEN = "Ik heb alles van dit gesprek gewist"
#: The welcome's privacy line, and its invitation to ask.
PRIVACY_LINE = "Ik bewaar niets van wat je schrijft"
ASK = "Typ je vraag"
#: The shared-room offer to continue in private ("group" in knowledge/texts.yaml).
PRIVATE_OFFER = "privéchat"


class AdapterContract:
    """Behaviour every platform must show. Subclasses provide the `harness` fixture."""

    async def test_answers_a_question_with_help_and_sources(self, harness: Harness) -> None:
        seen = await harness.send("ik word gepest door mijn leidinggevende")
        assert "Pesten" in seen
        assert "Vertrouwenspersoon" in seen or "vertrouwenspersoon" in seen
        assert "https://" in seen  # sources

    async def test_crisis_comes_first(self, harness: Harness) -> None:
        seen = await harness.send("ik wil niet meer leven")
        assert "113" in seen and "112" in seen
        assert seen.index("112") < 200

    async def test_numbered_choice_by_number(self, harness: Harness) -> None:
        menu = await harness.send("menu")
        assert "1" in menu
        theme = await harness.send("1")
        assert theme.strip() and theme != menu
        assert "ken ik niet" not in theme  # the number was understood as the menu choice

    async def test_unknown_is_honest(self, harness: Harness) -> None:
        seen = await harness.send("zorp blarf frobnicated gizmo")
        assert "geen goed antwoord" in seen

    async def test_outside_topic_says_where_it_goes(self, harness: Harness) -> None:
        seen = await harness.send("schrijf een gedicht over de herfst")
        assert "niet mee helpen" in seen and "geen teksten" in seen

    @pytest.mark.parametrize("text", ["", "\x00\u202e\u200b", "😀", "x" * 70_000])
    async def test_bad_input_gets_a_reply(self, harness: Harness, text: str) -> None:
        seen = await harness.send(text)
        assert seen.strip()

    async def test_canary_is_never_stored_or_echoed(self, harness: Harness) -> None:
        canary = new_canary()
        seen = [
            await harness.send(text)
            for text in (
                f"ik word gepest {canary}",
                canary,
                f"ik wil dood {canary}",
                f"vergeet {canary}",
            )
        ]
        assert_private(harness, canary, *seen)

    # ------------------------------------------------------------ replies

    async def test_a_reply_to_the_menu_picks_by_its_own_number(self, harness: Harness) -> None:
        """A reply "2" that quotes the menu is the person's "2", not the quoted menu."""
        reply = harness.needs("reply")
        canary = new_canary()
        menu = await harness.send("menu")
        typed = await harness.send("2")
        assert await harness.send("menu") == menu
        replied = await reply("2", f"{menu}\n{canary}")
        assert words(replied) == words(typed)  # the same theme as "2" typed plainly
        assert_private(harness, canary, menu, typed, replied)

    async def test_a_reply_saying_forget_forgets(self, harness: Harness) -> None:
        """A reply "vergeet" that quotes an answer wipes the conversation, and the quote
        (which holds what the person wrote before) is not read."""
        reply = harness.needs("reply")
        canary = new_canary()
        answer = await harness.send(f"ik word gepest {canary}")
        assert "Pesten" in answer
        bye = await reply("vergeet", f"ik word gepest {canary}\n{answer}")
        assert FORGOTTEN in words(bye)
        assert "Pesten" not in bye  # not an answer to the quoted question
        assert_private(harness, canary, answer, bye)

    # ------------------------------------------------------------ edits

    async def test_an_edit_gets_no_second_answer(self, harness: Harness) -> None:
        """Menu, "1", then "1" edited into "2": the edit is not answered against the
        choices of now (the first theme's), nor at all."""
        edit = harness.needs("edit")
        canary = new_canary()
        await harness.send("menu")
        theme = await harness.send("1")
        assert await edit("2") is None
        assert await edit(f"ik word gepest {canary}") is None
        # Platforms answer in order: a late answer to an edit would be seen here instead.
        later = await harness.send(f"ik word gepest door mijn leidinggevende {canary}")
        assert "Pesten" in later
        assert_private(harness, canary, theme, later)

    # ------------------------------------------------------------ shared rooms

    async def test_in_a_shared_room_only_an_address_is_answered_never_personally(
        self, harness: Harness
    ) -> None:
        """Unaddressed words get nothing; addressed personal words get the offer of a
        private chat, not a personal answer others would read; "1" then opens it."""
        shared: Shared = harness.needs("shared")
        canary = new_canary()
        assert await shared.say(f"ik word gepest door mijn leidinggevende {canary}") is None
        offer = await shared.address(f"ik word gepest door mijn leidinggevende {canary}")
        assert PRIVATE_OFFER in words(offer.text)
        assert "Pesten" not in offer.text
        opened = await shared.address("1")
        assert opened.opens_direct, opened.text
        assert words(opened.text) != words(offer.text)  # not the offer again
        assert "Pesten" not in opened.text
        assert_private(harness, canary, offer.text, opened.text)

    async def test_in_a_shared_room_a_quoted_mention_is_no_address(self, harness: Harness) -> None:
        """A colleague's reply that quotes a message to the bot is not itself to the bot."""
        shared: Shared = harness.needs("shared")
        if shared.reply is None:
            pytest.skip(harness.lacks.get("reply", "this platform has no replies"))
        canary = new_canary()
        menu = await shared.address("menu")
        quoted = f"Wegwijzer menu {canary}"
        assert await shared.reply(f"haha, ik word ook gepest {canary}", quoted) is None
        # Platforms answer in order: a late answer to the reply would be seen here instead.
        privacy = await shared.address("privacy")
        assert PRIVACY_LINE in words(privacy.text)
        assert_private(harness, canary, menu.text, privacy.text)

    # ------------------------------------------------------------ welcome

    async def test_a_new_direct_chat_starts_with_the_privacy_line(self, harness: Harness) -> None:
        welcome = harness.needs("welcome")
        greeting = words(await welcome())
        assert PRIVACY_LINE in greeting
        assert ASK in greeting
        assert greeting.index(PRIVACY_LINE) < 400  # said up front, not below the fold


#: Settings each platform must refuse. By default the platform's own switch set to
#: garbage; the console has no switch, so its language setting is used.
BAD_SETTINGS: dict[str, dict[str, str]] = {
    "console": {"WEGWIJZER_LANG": "klingon"},
}


class PlatformContract:
    """What every registered platform must expose (adapters/_contract.py), checked
    without connecting anywhere. Subclasses provide the `platform_name` fixture."""

    def test_exports_a_platform_under_its_registry_name(self, platform_name: str) -> None:
        platform = load(platform_name)
        assert isinstance(platform, Platform)
        assert platform.name == platform_name
        assert isinstance(platform.env_switch, str)
        assert platform.env_switch == "" or platform.env_switch.startswith("WEGWIJZER_")
        assert inspect.iscoroutinefunction(platform.serve)

    def test_bad_settings_raise_a_settings_error_naming_the_variable(
        self, platform_name: str
    ) -> None:
        platform = load(platform_name)
        bad = BAD_SETTINGS.get(platform_name) or {platform.env_switch: "\x00 not valid"}
        with pytest.raises(SettingsError) as caught:
            platform.check(bad)
        assert isinstance(caught.value, ValueError)  # the older contract still holds
        assert any(var in str(caught.value) for var in bad) or "WEGWIJZER_" in str(caught.value)

    def test_is_switched_on_only_by_its_own_variable(self, platform_name: str) -> None:
        platform = load(platform_name)
        assert all(p.name != platform_name for p in configured({}))
        if platform.env_switch:
            names = [p.name for p in configured({platform.env_switch: "x"})]
            assert names == [platform_name]

    def test_has_a_behaviour_suite(self, platform_name: str) -> None:
        """Every platform runs `AdapterContract` in tests/test_<name>_contract.py or
        tests/<name>/test_contract.py."""
        tests = Path(__file__).resolve().parent
        places = [tests / f"test_{platform_name}_contract.py", tests / platform_name]
        found = [
            p
            for place in places
            for p in ([place] if place.is_file() else sorted(place.glob("test_contract*.py")))
            if "(AdapterContract)" in p.read_text(encoding="utf-8")
        ]
        assert found, f"no AdapterContract subclass for {platform_name}"
