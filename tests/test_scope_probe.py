"""The scope probe (bot/_scope_probe.py, its use in bot/_semantic.py and bot/_decide.py).
The real model, the bundled knowledge base and its stored probe: no stand-in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot import Engine, ReplyKind, load_knowledge_base
from bot._crisis_model import read_examples
from bot._kb import KnowledgeBase
from bot._scope_probe import SCOPE_AT, SCOPE_CONFIDENCE, labelled_questions, set_files
from bot._semantic import (
    VECTORS_FILE,
    SemanticCheck,
    _questions,
    load_embedder,
    probe_outdated,
    read_vectors,
    scope_texts,
    write_vectors,
)

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(KNOWLEDGE)


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


def _check(engine: Engine) -> SemanticCheck:
    check = engine.decider.check
    assert check is not None
    return check


def test_it_learns_from_the_tuning_and_own_sets_and_never_from_sealed() -> None:
    files = set_files(KNOWLEDGE)
    names = {p.name for p in files}
    assert "sealed.yaml" not in names
    assert {"tune.yaml", "tune24.yaml", "blind.yaml", "vragen.yaml"} <= names
    out, inside = labelled_questions(files)
    # Distress messages are not scope examples: the crisis checks read those.
    assert len(out) > 1_000 and len(inside) > 2_500


def test_labelled_questions_skip_distress_and_files_that_cannot_be_read(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    good.write_text(
        "- q: Hoe vraag ik huurtoeslag aan?\n  oos: true\n"
        "- q: Hoeveel verlof heb ik?\n"
        "- q: ik wil er niet meer zijn\n  crisis: true\n"
        "- just a line\n",
        encoding="utf-8",
    )
    broken = tmp_path / "b.yaml"
    broken.write_text("- q: [unclosed\n", encoding="utf-8")
    assert labelled_questions([good, broken]) == (
        ["Hoe vraag ik huurtoeslag aan?"],
        ["Hoeveel verlof heb ik?"],
    )


def test_the_stored_scope_probe_was_fitted_from_todays_questions(
    kb: KnowledgeBase, engine: Engine
) -> None:
    """Else every start fits it again: run `wegwijzer kb embed`."""
    assert not probe_outdated(kb)
    embedder = load_embedder()
    assert embedder is not None
    stored = read_vectors(KNOWLEDGE / VECTORS_FILE, embedder.name)
    assert stored.scope is not None
    assert _check(engine)._scope is stored.scope[1]


def test_a_stale_scope_probe_is_used_a_missing_one_fitted_and_none_without_questions(
    tmp_path: Path, engine: Engine
) -> None:
    embedder = load_embedder()
    assert embedder is not None
    stored = read_vectors(KNOWLEDGE / VECTORS_FILE, embedder.name)
    assert stored.scope is not None and stored.probe is not None
    path = tmp_path / VECTORS_FILE
    write_vectors(path, "model-a", {"k": np.ones(4, np.float32)}, None, ("key-s", stored.probe[1]))
    back = read_vectors(path, "model-a")
    assert back.probe is None and back.scope is not None and back.scope[0] == "key-s"
    entries, examples = engine.matcher.entries, read_examples(KNOWLEDGE)
    # Stale (phrasings or questions changed since `kb embed`): still used, as fitting it
    # at start would cost two copies of every phrasing's vector; `kb validate` warns.
    stale = replace(stored, scope=("other", stored.probe[1]))
    kept = SemanticCheck(entries, embedder, stale, examples, _questions(KNOWLEDGE))
    assert kept._scope is stored.probe[1]
    # None stored: fitted at start, the same as the one `kb embed` stored.
    none = replace(stored, scope=None)
    again = SemanticCheck(entries, embedder, none, examples, _questions(KNOWLEDGE))
    assert again._scope is not None and again._scope is not stored.scope[1]
    assert np.allclose(again._scope.weights, stored.scope[1].weights, atol=1e-3)
    # A knowledge folder without labelled questions has no scope probe at all.
    bare = SemanticCheck(entries, embedder, stored, examples)
    assert bare._scope is None and not bare.outside_scope("Hoe vraag ik huurtoeslag aan?")
    assert scope_texts(entries, ((), ())) == ([], [])


@pytest.mark.parametrize(
    "question",
    [
        # Written for this test, in no question set.
        "Hoeveel vakantiegeld krijgt een scholier met een bijbaantje?",
        "Mag ik mijn vakantiedagen in Spanje doorbrengen met mijn hond?",
    ],
)
def test_an_unsure_answer_to_a_question_outside_wegwijzer_becomes_no_answer(
    engine: Engine, question: str
) -> None:
    """The question shares words with an entry, but reads like the questions outside
    Wegwijzer: no entry, no menu of entries."""
    check = _check(engine)
    analysis = engine.reader.read(question)
    scope = check._scope
    check._scope = None
    try:
        without, _ = engine.decider.decide_message(analysis, engine.reader, None)
    finally:
        check._scope = scope
    assert without.outcome in ("answer", "clarify")
    assert without.confidence < SCOPE_CONFIDENCE
    assert scope is not None and scope.probability(check._embed(analysis.topic)) >= SCOPE_AT
    reply = engine.ask(question)
    assert reply.kind is ReplyKind.UNKNOWN and reply.entry is None
    assert not [c for c in reply.choices if c.action.startswith("entry:")]


@pytest.mark.parametrize(
    "question",
    [
        "Hoeveel vakantiedagen krijg ik bij het Rijk?",
        "My colleague keeps making sexual jokes, who can I talk to?",
        "Mag ik een cadeau van een leverancier aannemen?",
        "Hoe lang krijg ik WW na mijn ontslag?",
    ],
)
def test_questions_wegwijzer_answers_are_still_answered(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind is ReplyKind.ANSWER and reply.entry


def test_the_crisis_look_compares_with_the_crisis_examples_only(engine: Engine) -> None:
    """The labelled questions share the check's matrix with the crisis examples; the
    crisis look must not count them as non-crisis examples (one held-out crisis of
    round22b was lost that way while this was built)."""
    crises, others = read_examples(KNOWLEDGE)
    check = _check(engine)
    assert len(check._crisis_rows) == len(crises) and len(check._other_rows) == len(others)
