""" "Did this help?": only after an answer, once, never in the way."""

from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path

from adapters.console import render, run_console
from bot import (
    DisclaimerSection,
    Engine,
    FeedbackSection,
    Message,
    Reply,
    ReplyKind,
    SourcesSection,
)
from bot._stats import Stats
from bot._stats_store import open_store


def counting(engine: Engine, tmp_path: Path) -> Stats:
    engine.stats = Stats(
        open_store(dsn=None, data_dir=tmp_path), today=lambda: _dt.date(2026, 3, 12)
    )
    return engine.stats


def events(stats: Stats) -> dict[tuple[str, str], int]:
    return {(k.entry, k.event): n for k, n in stats.counts.items() if k.event.endswith("helped")}


async def say(
    engine: Engine, text: str = "", action: str | None = None, key: str = "teams:a"
) -> Reply:
    return await engine.handle(Message(key, text, action=action))


async def test_offered_after_an_answer_just_before_the_disclaimer(engine: Engine) -> None:
    reply = await say(engine, "ik word gepest")
    assert reply.kind is ReplyKind.ANSWER
    kinds = [type(s) for s in reply.sections()]
    assert kinds[-2:] == [FeedbackSection, DisclaimerSection]
    assert kinds.index(SourcesSection) < kinds.index(FeedbackSection)
    fb = reply.feedback
    assert fb is not None
    assert (fb.yes_action, fb.no_action) == ("feedback:yes:pesten", "feedback:no:pesten")
    assert (fb.yes_label, fb.no_label) == ("ja", "nee")
    assert "Heeft dit antwoord je geholpen? Typ ja of nee." in reply.plain_text()
    english = await say(engine, "i am being bullied", key="teams:en")
    assert english.feedback is not None and english.feedback.yes_label == "yes"
    assert "Did this answer help you? Type yes or no." in english.plain_text()


async def test_never_after_crisis_commands_clarify_or_unknown(engine: Engine) -> None:
    for text in ("ik wil niet meer leven", "menu", "privacy", "pesten verlof", "xyzzy", "hulp"):
        reply = await say(engine, text)
        assert reply.kind is not ReplyKind.ANSWER, text
        assert reply.feedback is None, text
        assert not any(isinstance(s, FeedbackSection) for s in reply.sections())
    # Nor in one-shot `ask` (no next message could answer it).
    assert engine.ask("ik word gepest").feedback is None


async def test_typed_answer_counts_once(engine: Engine, tmp_path: Path) -> None:
    stats = counting(engine, tmp_path)
    await say(engine, "ik word gepest")
    thanks = await say(engine, "Ja")
    assert thanks.kind is ReplyKind.INFO
    assert thanks.text == engine.kb.text("feedback_thanks", "nl")
    assert thanks.feedback is None
    # Once per answer: a second "ja" is ordinary text again.
    again = await say(engine, "ja")
    assert again.text != thanks.text
    assert events(stats) == {("pesten", "helped"): 1}
    await say(engine, "i am being bullied", key="teams:en")
    await say(engine, "no", key="teams:en")
    assert events(stats) == {("pesten", "helped"): 1, ("pesten", "not_helped"): 1}


async def test_ja_nee_without_an_answer_before_are_ordinary_text(
    engine: Engine, tmp_path: Path
) -> None:
    stats = counting(engine, tmp_path)
    for first in ["menu", "xyzzy blub", "ik wil niet meer leven"]:
        await say(engine, first, key=f"teams:{first}")
        reply = await say(engine, "nee", key=f"teams:{first}")
        assert reply.text != engine.kb.text("feedback_thanks", "nl")
    assert events(stats) == {}


async def test_ignoring_it_loses_nothing(engine: Engine, tmp_path: Path) -> None:
    stats = counting(engine, tmp_path)
    await say(engine, "ik word gepest")
    follow = await say(engine, "wat is een misstand")
    assert follow.entry == "misstand"
    late = await say(engine, "2")  # the related choice of the first answer is gone, as before
    assert late.kind is not ReplyKind.ANSWER or late.entry != "klacht"
    assert events(stats) == {}
    # The choices of an answer survive the thanks: "1" still opens the related entry.
    await say(engine, "ik word gepest", key="teams:b")
    await say(engine, "nee", key="teams:b")
    related = await say(engine, "1", key="teams:b")
    assert related.entry == "klacht"


async def test_buttons(engine: Engine, tmp_path: Path) -> None:
    stats = counting(engine, tmp_path)
    first = await say(engine, "ik word gepest")
    assert first.feedback is not None
    reply = await say(engine, action=first.feedback.no_action)
    assert reply.text == engine.kb.text("feedback_thanks", "nl")
    assert events(stats) == {("pesten", "not_helped"): 1}
    # A button pressed on an older card later: thanked, never counted for another entry.
    second = await say(engine, "wat is een misstand")
    assert second.feedback is not None
    stale = await say(engine, action=first.feedback.yes_action)
    assert stale.text == engine.kb.text("feedback_thanks", "nl")
    assert events(stats) == {("pesten", "not_helped"): 1}
    # The plain action without an entry applies to the answer just given.
    await say(engine, "wat is een misstand")
    await say(engine, action="feedback:yes")
    assert events(stats) == {("pesten", "not_helped"): 1, ("misstand", "helped"): 1}
    # Nonsense after "feedback:" is not a feedback answer.
    odd = await say(engine, action="feedback:maybe")
    assert odd.text != engine.kb.text("feedback_thanks", "nl")


async def test_console_shows_and_takes_it(engine: Engine) -> None:
    reply = engine.respond(Message("console:x", "ik word gepest"))
    styled = render(reply, color=True)
    assert "Heeft dit antwoord je geholpen?" in styled and "ja" in styled and "nee" in styled
    out = io.StringIO()
    await run_console(engine, io.StringIO("ik word gepest\nja\n"), out)
    text = out.getvalue()
    assert "Typ ja of nee." in text
    assert engine.kb.text("feedback_thanks", "nl") in text
