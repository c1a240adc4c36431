"""The crisis probe over the sentence model's vectors (bot/_crisis_probe.py, its use in
bot/_semantic.py). The real model and the bundled examples: no stand-in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot import Engine, ReplyKind, load_knowledge_base
from bot._analysis import Analysis
from bot._crisis_model import read_example_file, read_examples
from bot._crisis_probe import PROBE_AT, PROBE_PROBABILITY, Probe, fit_probe
from bot._kb import KnowledgeBase
from bot._kbtools import lint
from bot._semantic import (
    _READ_WORDS,
    LOOK_FLOOR,
    VECTORS_FILE,
    SemanticCheck,
    load_embedder,
    probe_outdated,
    read_vectors,
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


def test_the_stored_probe_was_fitted_from_todays_examples(kb: KnowledgeBase) -> None:
    """Else every start fits it again: run `wegwijzer kb embed`."""
    assert not probe_outdated(kb)
    embedder = load_embedder()
    assert embedder is not None
    stored = read_vectors(KNOWLEDGE / VECTORS_FILE, embedder.name)
    assert stored.probe is not None
    assert _check(Engine(kb))._probe is stored.probe[1]


def test_a_probe_is_written_and_read_back_and_a_stale_one_is_fitted_again(
    tmp_path: Path, engine: Engine
) -> None:
    """Fitted by `kb embed`, stored beside the vectors, read back; fitted at load when
    the examples changed since."""
    embedder = load_embedder()
    assert embedder is not None
    rng = np.random.default_rng(7)
    crises = rng.normal(1.0, 1.0, (30, 8)).astype(np.float32)
    others = rng.normal(-1.0, 1.0, (60, 8)).astype(np.float32)
    probe = fit_probe(crises, others)
    assert probe is not None
    assert probe.probability(crises.mean(0)) > 0.99 > 0.01 > probe.probability(others.mean(0))
    assert fit_probe(crises, others[:0]) is None
    path = tmp_path / VECTORS_FILE
    write_vectors(path, "model-a", {"k": crises[0]}, ("key-1", probe))
    back = read_vectors(path, "model-a").probe
    assert back is not None and back[0] == "key-1"
    assert np.allclose(back[1].weights, probe.weights) and back[1].bias == pytest.approx(probe.bias)
    write_vectors(path, "model-b", {"k": crises[0]})
    assert read_vectors(path, "model-b").probe is None
    # A stored probe of other examples is not used: the check fits its own, the same
    # as the one `kb embed` stored.
    stored = read_vectors(KNOWLEDGE / VECTORS_FILE, embedder.name)
    assert stored.probe is not None
    stale = replace(stored, probe=("other", probe))
    again = SemanticCheck(engine.kb.entries, embedder, stale, read_examples(KNOWLEDGE))
    assert again._probe is not None and again._probe is not stored.probe[1]
    assert np.allclose(again._probe.weights, stored.probe[1].weights, atol=1e-3)


def _probe_only(check: SemanticCheck, topic: str, probability: float) -> bool:
    """Whether `topic` is a crisis by the probe and by nothing else of the look."""
    probe = check._probe
    check._probe = None
    try:
        without = check.crisis_like(topic, probability)
    finally:
        check._probe = probe
    return not without and check.crisis_like(topic, probability)


def _unflagged(engine: Engine) -> Iterator[tuple[str, Analysis, float, bool]]:
    """Held-out messages neither the rules nor the crisis model flag: the text, its
    analysis, the crisis model's probability and whether it is a crisis."""
    model = engine.crisis.model
    assert model is not None
    for path in sorted((KNOWLEDGE / "crisis_heldout").glob("*.yaml")):
        crises, others = read_example_file(path)
        for group, is_crisis in ((crises, True), (others, False)):
            for text in group:
                analysis = engine.reader.read(text)
                if engine.crisis.signal(analysis.text, folded=analysis.folded) is not None:
                    continue
                probability = model.probability(analysis.text, folded=analysis.folded)
                if probability < model.threshold:
                    yield text, analysis, probability, is_crisis


def test_the_probe_finds_held_out_crises_the_other_signals_miss(engine: Engine) -> None:
    """Over the held-out batches (never trained on), at round 20: 25 crises found by the
    probe alone among those the rules and the crisis model miss, 3 false alarms (fire
    doors, a farewell mail, a scraped hand). The bounds leave room, not slack to hide in."""
    check = _check(engine)
    found = alarms = 0
    for _, analysis, probability, is_crisis in _unflagged(engine):
        if probability < PROBE_PROBABILITY:
            continue
        hit = _probe_only(check, analysis.topic, probability)
        check.forget()
        found += hit and is_crisis
        alarms += hit and not is_crisis
    assert found >= 20
    assert alarms <= 5


def test_the_probe_needs_the_crisis_models_nod_and_a_message_read_whole(
    engine: Engine,
) -> None:
    """Found by the probe alone; not under PROBE_PROBABILITY, and not as the last words of
    a long story (on real sets its alarms there were all stories about harassment)."""
    check, model = _check(engine), engine.crisis.model
    assert model is not None
    text = "Ik ben totaal op en ik wil niet meer"
    analysis = engine.reader.read(text)
    probability = model.probability(analysis.text, folded=analysis.folded)
    assert engine.crisis.signal(analysis.text, folded=analysis.folded) is None
    assert PROBE_PROBABILITY <= probability < model.threshold
    assert check._probe is not None
    assert check._probe.probability(check._embed(analysis.topic)) >= PROBE_AT
    assert _probe_only(check, analysis.topic, probability)
    assert not check.crisis_like(analysis.topic, max(LOOK_FLOOR, PROBE_PROBABILITY / 2))
    story = " ".join(["Vorige maand ging het op kantoor nog goed."] * 8) + " " + analysis.topic
    assert len(story.split()) > _READ_WORDS
    assert not check.crisis_like(story, probability)
    check.forget()
    reply = engine.ask(text)
    assert reply.crisis is not None and reply.kind is ReplyKind.CRISIS
    assert reply.text == engine.kb.text("crisis_unsure", "nl")


def test_a_probe_reads_a_vector_as_weights_and_a_bias() -> None:
    probe = Probe(np.array([2.0, 0.0], dtype=np.float32), -1.0)
    assert probe.probability(np.array([0.5, 9.0], dtype=np.float32)) == pytest.approx(0.5)
    back = Probe.from_array(probe.to_array())
    assert np.allclose(back.weights, probe.weights) and back.bias == probe.bias


def test_validate_warns_when_the_crisis_examples_changed_since_the_probe(
    tmp_path: Path,
) -> None:
    """A new example changes what the probe learns from: `kb validate` says so and names
    the command that stores a new one."""
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy, ignore=shutil.ignore_patterns("tests"))
    (copy / "crisis_examples" / "extra.yaml").write_text(
        "crisis:\n  - ik heb alles voor morgen klaargelegd, het afscheid is geschreven\n"
        "not_crisis:\n  - waar leg ik mijn verlofaanvraag neer\n",
        encoding="utf-8",
    )
    kb = load_knowledge_base(copy)
    assert probe_outdated(kb)
    problems = [p for p in lint(kb) if "probes" in p.message]
    assert len(problems) == 1 and problems[0].severity == "warning"
    assert VECTORS_FILE in problems[0].path and "wegwijzer kb embed" in problems[0].message


def test_an_answered_message_the_probe_reads_as_a_crisis_keeps_its_answer(
    engine: Engine,
) -> None:
    """Where an answer fits, only the probe is asked (not the nearest-example look): the
    numbers come first and the answer under them, as when the crisis model alone sees
    danger; the crisis model's floor is higher there. Held-out batches at round 20: 4
    crises found this way, no false alarm."""
    check = _check(engine)
    found = alarms = 0
    for text, analysis, probability, is_crisis in _unflagged(engine):
        # The language as the engine guesses it: the decision (and so the path) can differ.
        lang = analysis.lang or engine.matcher.language_of(analysis.text)
        decision, _ = engine.decider.decide_message(analysis, engine.reader, lang)
        hit = decision.outcome == "answer" and check.probe_crisis(
            analysis.topic, probability, answered=True
        )
        check.forget()
        if not hit:
            continue
        reply = engine.ask(text)
        assert reply.kind is ReplyKind.ANSWER and reply.crisis is not None
        assert reply.routes[0] == "emergency"
        found += is_crisis
        alarms += not is_crisis
    assert found >= 3
    assert alarms <= 2
