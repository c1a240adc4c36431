"""One behavioural contract for every adapter, run against each implementation.

Each adapter's test package subclasses `AdapterContract` and provides a `harness`
fixture: something that sends one message as a person would on that platform and
returns the text the person sees (rendered in that platform's idiom, flattened to text),
plus a list of every place the adapter wrote or logged to. The same tests then run
against the console, Matrix and Teams.

`PlatformContract` checks the platform contract itself (adapters/_contract.py) for every
platform in the registry; tests/test_platforms.py runs it.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters import Platform, SettingsError, configured, load


@dataclass
class Harness:
    """How the contract talks to one adapter.

    Attributes:
        send: Send one message in a fresh or ongoing 1:1 chat; returns what the person sees.
        written: Folders the adapter may write to (searched for canaries).
        captured: Returns all output and logs captured so far.
    """

    send: Callable[[str], Awaitable[str]]
    written: list[Path] = field(default_factory=list)
    captured: Callable[[], str] = lambda: ""


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
        seen = await harness.send("schrijf een gedicht over de herfst")
        assert "geen goed antwoord" in seen

    @pytest.mark.parametrize("text", ["", "\x00\u202e\u200b", "😀", "x" * 70_000])
    async def test_bad_input_gets_a_reply(self, harness: Harness, text: str) -> None:
        seen = await harness.send(text)
        assert seen.strip()

    async def test_canary_is_never_stored_or_echoed(self, harness: Harness) -> None:
        canary = f"kanarie{uuid.uuid4().hex}"
        for text in (
            f"ik word gepest {canary}",
            canary,
            f"ik wil dood {canary}",
            f"vergeet {canary}",
        ):
            seen = await harness.send(text)
            assert canary not in seen
        assert canary not in harness.captured()
        for root in harness.written:
            for path in root.rglob("*"):
                if path.is_file():
                    assert canary.encode() not in path.read_bytes(), path


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
