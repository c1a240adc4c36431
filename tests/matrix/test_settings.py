"""Settings, rendering and backoff: the adapter's pure parts, no homeserver needed."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from nio import RoomSendError

from adapters.matrix import PLATFORM, SettingsError, load_settings, serve
from adapters.matrix._bot import MatrixBot
from adapters.matrix._incoming import Seen as _Seen
from adapters.matrix._render import render, render_html
from bot import Choice, Contact, ContactMethod, CrisisNotice, Engine, Reply, ReplyKind, Source

pytestmark = pytest.mark.matrix

GOOD = {
    "WEGWIJZER_MATRIX_HOMESERVER": "https://matrix.example.org",
    "WEGWIJZER_MATRIX_USER": "@wegwijzer:example.org",
    "WEGWIJZER_MATRIX_PASSWORD": "secret",
    "WEGWIJZER_MATRIX_PICKLE_KEY": "0123456789abcdef",
    "WEGWIJZER_DATA_DIR": "/tmp/wegwijzer-data",
}


def test_good_settings() -> None:
    s = load_settings(GOOD)
    assert s.allowed == ("example.org",)  # default: the bot's own homeserver
    assert s.allows("@anne:example.org") and not s.allows("@eve:evil.example")
    assert s.store_dir == Path("/tmp/wegwijzer-data/matrix")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"WEGWIJZER_MATRIX_PICKLE_KEY": ""}, "PICKLE_KEY"),
        ({"WEGWIJZER_MATRIX_PICKLE_KEY": "short"}, "PICKLE_KEY"),
        ({"WEGWIJZER_MATRIX_HOMESERVER": "matrix.example.org"}, "HOMESERVER"),
        ({"WEGWIJZER_MATRIX_USER": "wegwijzer"}, "USER"),
        ({"WEGWIJZER_MATRIX_PASSWORD": ""}, "PASSWORD"),
        ({"WEGWIJZER_MATRIX_ALLOWED": "@bad user"}, "ALLOWED"),
        ({"WEGWIJZER_MATRIX_ALLOWED": " , "}, "ALLOWED"),
        ({"WEGWIJZER_MATRIX_RETRY_BASE_SECONDS": "soon"}, "RETRY_BASE"),
    ],
)
def test_bad_settings_are_refused_by_name(change: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        load_settings({**GOOD, **change})


def test_allowed_users_and_domains() -> None:
    s = load_settings({**GOOD, "WEGWIJZER_MATRIX_ALLOWED": "@anne:other.org, rijk.nl"})
    assert s.allows("@anne:other.org") and s.allows("@bob:rijk.nl")
    assert not s.allows("@bob:other.org") and not s.allows("@bob:example.org")


def test_config_file_offers_settings_and_the_environment_wins(tmp_path: Path) -> None:
    conf = tmp_path / "matrix.env"
    conf.write_text(
        "# Wegwijzer\nWEGWIJZER_MATRIX_PICKLE_KEY=from-file-0123456789\n"
        'WEGWIJZER_MATRIX_ALLOWED="rijk.nl"\n'
    )
    env = {**GOOD, "WEGWIJZER_MATRIX_CONFIG": str(conf), "WEGWIJZER_MATRIX_PICKLE_KEY": ""}
    s = load_settings(env)
    assert s.pickle_key == "from-file-0123456789" and s.allowed == ("rijk.nl",)
    env["WEGWIJZER_MATRIX_ALLOWED"] = "example.org"
    assert load_settings(env).allowed == ("example.org",)
    conf.write_text("no equals sign\n")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        load_settings(env)


async def test_serve_refuses_to_start_without_a_pickle_key(engine: Engine) -> None:
    with pytest.raises(ValueError, match="PICKLE_KEY"):
        await asyncio.wait_for(serve(engine, {**GOOD, "WEGWIJZER_MATRIX_PICKLE_KEY": ""}), 5)


def test_wegwijzer_run_exits_with_a_clear_message(tmp_path: Path, test_kb_dir: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        **GOOD,
        "WEGWIJZER_MATRIX_PICKLE_KEY": "",
        "WEGWIJZER_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--knowledge", str(test_kb_dir), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2
    assert "WEGWIJZER_MATRIX_PICKLE_KEY" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing written before the settings are good


def test_html_escapes_everything_and_numbers_choices() -> None:
    evil = '<img src=x onerror="alert(1)">&'
    reply = Reply(
        kind=ReplyKind.ANSWER,
        lang="nl",
        title=evil,
        text=f"Alinea {evil}\n\n- punt {evil}\n- punt twee",
        crisis=CrisisNotice(evil, (Contact("emergency", "112", evil),)),
        sources=(Source(evil, "javascript:alert(1)"), Source("Wet", "https://wetten.nl", "art 1")),
        reviewed=dt.date(2026, 1, 1),
        contacts=(
            Contact(
                "vpoo",
                evil,
                evil,
                methods=(
                    ContactMethod("phone", "070 123 45 67"),
                    ContactMethod("email", "vp@example.org"),
                    ContactMethod("matrix", "@vp:example.org"),
                ),
            ),
        ),
        choices=(Choice(1, evil, "menu"), Choice(2, "Twee", "talk")),
        choices_prompt=evil,
        footer=evil,
    )
    out = render_html(reply)
    assert "<img" not in out and "javascript:" not in out
    assert "&lt;img" in out and "&amp;" in out
    assert "<ol><li>" in out and "<ul><li>punt" in out
    assert 'href="tel:0701234567"' in out and 'href="mailto:vp@example.org"' in out
    assert 'href="https://matrix.to/#/@vp:example.org"' in out
    content = render(reply)
    assert content["msgtype"] == "m.notice" and content["format"] == "org.matrix.custom.html"
    assert content["body"] == reply.plain_text()
    assert out.index("112") < out.index("<h4>")  # crisis first


def test_backoff_is_exponential_with_jitter_and_honours_retry_after(engine: Engine) -> None:
    settings = load_settings(
        {
            **GOOD,
            "WEGWIJZER_MATRIX_RETRY_BASE_SECONDS": "1",
            "WEGWIJZER_MATRIX_RETRY_MAX_SECONDS": "30",
        }
    )
    bot = MatrixBot(engine, settings)
    for failures in range(8):
        cap = min(30.0, 2.0**failures)
        delays = {bot.retry_delay(ConnectionError(), failures) for _ in range(20)}
        assert all(0 <= d <= cap for d in delays)  # full jitter below the doubling cap
        assert len(delays) > 1  # jittered
    limited = RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=1234)
    assert bot.retry_delay(limited, 0) == pytest.approx(1.234)
    assert bot.retry_delay(RoomSendError("x", "M_LIMIT_EXCEEDED", retry_after_ms=10**9), 0) == 30


def test_event_ids_are_deduplicated_within_a_bounded_memory() -> None:
    seen = _Seen(size=3)
    assert seen.add("$a") and not seen.add("$a")
    for eid in ("$b", "$c", "$d"):
        assert seen.add(eid)
    assert seen.add("$a")  # the oldest fell out: memory stays bounded


def test_platform_contract_names_the_variable() -> None:
    assert PLATFORM.name == "matrix" and PLATFORM.env_switch == "WEGWIJZER_MATRIX_HOMESERVER"
    PLATFORM.check(GOOD)
    with pytest.raises(SettingsError, match="WEGWIJZER_MATRIX_USER"):
        PLATFORM.check({**GOOD, "WEGWIJZER_MATRIX_USER": "wegwijzer"})


def test_shared_backoff_has_full_jitter_under_a_doubling_cap() -> None:
    import random

    from adapters._backoff import backoff_delay

    rng = random.Random(7)
    for attempt in range(12):
        cap = min(60.0, 2.0**attempt)
        delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8 and min(delays) < cap * 0.2  # spread over all of it
    assert backoff_delay(10**6, base=0.5, cap=3) <= 3  # no overflow in a long outage


def test_counsellor_details_are_folded_unless_shown() -> None:
    base = Reply(
        kind=ReplyKind.ANSWER,
        lang="nl",
        title="Titel",
        text="Antwoord",
        details="Artikel <9>\n\n- termijn",
        labels={"details": "Voor vertrouwenspersonen"},
    )
    folded = render_html(base)
    assert "<details><summary>Voor vertrouwenspersonen</summary><p>Artikel &lt;9&gt;</p>" in folded
    assert folded.index("<h4>") < folded.index("<details>")
    shown = render_html(replace(base, details_shown=True))
    assert "<details open><summary>" in shown


def test_reading_what_the_person_wrote() -> None:
    from adapters.matrix._incoming import read_message, without_name

    bot = "@wegwijzer:example.org"
    reply = read_message(
        {
            "msgtype": "m.text",
            "body": f"> <@anna:example.org> {bot} menu\n> 1. Iets\n\n2",
            "format": "org.matrix.custom.html",
            "formatted_body": (
                "<mx-reply><blockquote><a href='https://matrix.to/#/@anna:example.org'>"
                f"Anna</a><br><a href='https://matrix.to/#/{bot}'>W</a> menu</blockquote>"
                "</mx-reply>2"
            ),
            "m.relates_to": {"m.in_reply_to": {"event_id": "$menu"}},
        },
        bot,
    )
    assert reply.text == "2" and not reply.mentioned  # a quoted mention is no address
    plain = read_message(
        {
            "msgtype": "m.text",
            "body": "> <@anna:example.org> hoi\n\nvergeet",
            "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}},
        },
        bot,
    )
    assert plain.text == "vergeet"
    quote = read_message({"msgtype": "m.text", "body": "> geen fallback\n\nvraag"}, bot)
    assert quote.text == "> geen fallback\n\nvraag"  # not a reply: their own quote stays
    pill = read_message(
        {
            "msgtype": "m.text",
            "format": "org.matrix.custom.html",
            "formatted_body": 'menu <a href="https://matrix.to/#/%40wegwijzer%3Aexample.org">'
            "Wegwijzer</a>",
        },
        bot,
    )
    assert pill.text == "menu" and pill.mentioned
    html_only = read_message(
        {
            "msgtype": "m.text",
            "format": "org.matrix.custom.html",
            "formatted_body": "<p>ik word <b>gepest</b> &amp; meer</p>",
        },
        bot,
    )
    assert html_only.text == "ik word gepest & meer" and not html_only.mentioned
    edit = read_message(
        {
            "msgtype": "m.text",
            "body": "* 2",
            "m.new_content": {"body": "2"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$one"},
        },
        bot,
    )
    assert edit.edit
    thread = read_message(
        {
            "msgtype": "m.text",
            "body": "menu",
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": "$root",
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": "$root"},
            },
        },
        bot,
    )
    assert thread.thread_root == "$root" and thread.text == "menu"
    assert without_name("Wegwijzer: menu", ["wegwijzer"]) == ("menu", True)
    assert without_name("ik vraag het wegwijzer", ["wegwijzer"])[1] is False


def test_shared_rooms_are_remembered_as_keyed_hashes(tmp_path: Path) -> None:
    from adapters.matrix._rooms import RoomKinds

    kinds = RoomKinds(tmp_path, "pickle-key-0123456789")
    kinds.use_direct({"@anna:example.org": ["!dm:example.org"]})
    assert kinds.is_direct("!dm:example.org", 2)
    assert not kinds.is_direct("!other:example.org", 2)  # no DM signal: a shared room
    assert not kinds.is_direct("!dm:example.org", 3)
    assert kinds.mark_group("!dm:example.org") and not kinds.mark_group("!dm:example.org")
    stored = (tmp_path / "groups.json").read_text()
    assert "!dm" not in stored and "example.org" not in stored
    again = RoomKinds(tmp_path, "pickle-key-0123456789")
    again.load()
    again.use_direct({"@anna:example.org": ["!dm:example.org"]})
    assert not again.is_direct("!dm:example.org", 2)  # once shared, shared for good


async def test_taking_the_private_chat_offer_is_a_reply_kind(engine: Engine) -> None:
    """Matrix keeps no store of offers: the engine's reply says "open a direct chat"."""
    from bot import Channel, Message

    offer = await engine.handle(Message("k", "ik word gepest", Channel.GROUP))
    assert offer.kind is ReplyKind.GROUP
    opened = await engine.handle(Message("k", "1", Channel.GROUP))
    assert opened.kind is ReplyKind.OPEN_DIRECT
