"""Counsellors' details: folded for everyone, unfolded on request, for a counsellor, or
for a counsellors-only deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import DetailsSection, Engine, Message, ReplyKind, load_knowledge_base

DETAILS_NL = "Wettelijke basis: art. 3 lid 2 Arbowet. Termijn: geen."


@pytest.fixture
def kb_dir(test_kb_dir: Path) -> Path:
    """The test knowledge base with a details block on 'pesten' (nl only)."""
    path = test_kb_dir / "entries" / "test.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "      keywords: [pesten, gepest, pestgedrag]\n"
    assert anchor in text
    text = text.replace(anchor, anchor + f"      details: |\n        {DETAILS_NL}\n", 1)
    path.write_text(text, encoding="utf-8")
    return test_kb_dir


@pytest.fixture
def engine(kb_dir: Path) -> Engine:
    return Engine(load_knowledge_base(kb_dir))


def details_of(reply_sections: tuple[object, ...]) -> DetailsSection | None:
    return next((s for s in reply_sections if isinstance(s, DetailsSection)), None)


def test_details_are_folded_for_everyone(engine: Engine) -> None:
    reply = engine.respond(Message("c", "ik word gepest"))
    assert reply.entry == "pesten"
    section = details_of(reply.sections())
    assert section is not None and not section.shown
    assert "meer detail" in section.label
    assert DETAILS_NL not in reply.plain_text()


def test_more_detail_shows_the_last_entrys_details(engine: Engine) -> None:
    engine.respond(Message("c", "ik word gepest"))
    reply = engine.respond(Message("c", "meer detail"))
    assert reply.kind is ReplyKind.ANSWER and reply.entry == "pesten"
    assert reply.details_shown
    section = details_of(reply.sections())
    assert section is not None and section.shown
    assert "meer detail" not in section.label  # shown: just the heading
    assert DETAILS_NL in reply.plain_text()
    assert reply.sources  # details come with their sources


def test_counsellor_sees_details_with_every_answer_until_forget(engine: Engine) -> None:
    said = engine.respond(Message("c", "ik ben vertrouwenspersoon"))
    assert said.kind is ReplyKind.INFO and said.text
    assert engine.respond(Message("c", "ik word gepest")).details_shown
    assert engine.respond(Message("c", "vergeet")).kind is ReplyKind.FORGOTTEN
    assert not engine.respond(Message("c", "ik word gepest")).details_shown


def test_counsellor_in_english(engine: Engine) -> None:
    engine.respond(Message("e", "I am a counsellor"))
    reply = engine.respond(Message("e", "ik word gepest"))
    assert reply.details_shown


def test_saying_you_are_a_counsellor_after_an_answer_unfolds_it(engine: Engine) -> None:
    engine.respond(Message("c", "ik word gepest"))
    reply = engine.respond(Message("c", "ik ben vertrouwenspersoon"))
    assert reply.details_shown and DETAILS_NL in reply.plain_text()


def test_counsellor_flag_is_per_conversation(engine: Engine) -> None:
    engine.respond(Message("a", "ik ben vertrouwenspersoon"))
    assert not engine.respond(Message("b", "ik word gepest")).details_shown


def test_counsellors_deployment_shows_details_always(kb_dir: Path) -> None:
    engine = Engine(load_knowledge_base(kb_dir), counsellors=True)
    reply = engine.ask("ik word gepest")
    assert reply.details_shown and DETAILS_NL in reply.plain_text()


def test_entry_without_details_says_so_kindly(engine: Engine) -> None:
    engine.respond(Message("c", "hoe dien ik een klacht in"))
    reply = engine.respond(Message("c", "meer detail"))
    assert reply.kind is ReplyKind.INFO
    assert "Een klacht indienen" in reply.text  # names the entry it is about
    assert not reply.details


def test_more_detail_before_any_answer(engine: Engine) -> None:
    reply = engine.respond(Message("c", "meer detail"))
    assert reply.kind is ReplyKind.INFO and reply.text and reply.choices


def test_no_details_block_no_details_section(engine: Engine) -> None:
    engine.respond(Message("c", "ik ben vertrouwenspersoon"))
    reply = engine.respond(Message("c", "hoe dien ik een klacht in"))
    assert details_of(reply.sections()) is None and not reply.details_shown


def test_english_reply_without_english_details_stays_folded_in_dutch(engine: Engine) -> None:
    """An entry's details are per language; without them in English there is nothing to show."""
    engine.respond(Message("e", "I am a counsellor"))
    reply = engine.respond(Message("e", "i am being bullied"))
    assert reply.lang == "en" and details_of(reply.sections()) is None


def run_cli(kb: Path, env_audience: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEGWIJZER_")}
    env["WEGWIJZER_AUDIENCE"] = env_audience
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--knowledge", str(kb), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_audience_setting_in_the_cli(kb_dir: Path) -> None:
    shown = json.loads(run_cli(kb_dir, "counsellors", "ask", "--json", "ik word gepest").stdout)
    assert DETAILS_NL in shown["reply"]
    folded = json.loads(run_cli(kb_dir, "everyone", "ask", "--json", "ik word gepest").stdout)
    assert DETAILS_NL not in folded["reply"]


def test_unknown_audience_is_refused_clearly(kb_dir: Path) -> None:
    out = run_cli(kb_dir, "managers", "ask", "ik word gepest")
    assert out.returncode == 2
    assert "WEGWIJZER_AUDIENCE" in out.stderr and "Traceback" not in out.stderr
