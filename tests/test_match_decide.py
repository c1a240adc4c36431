"""Matching (issue 11): reading a message once, the learned ranker, the one decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot import Engine, ReplyKind, load_knowledge_base
from bot._analysis import Reader, load_reader
from bot._decide import (
    ANSWER_AT,
    FUSE_LEARNED,
    LEARNED_MIN,
    LONG_ANSWER_AT,
    Candidate,
    confidence,
    decide,
)
from bot._ranker import Ranker
from bot._text import LIGHT_WORDS, STOPWORDS

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"


@pytest.fixture(scope="module")
def real_engine() -> Engine:
    return Engine(load_knowledge_base(KNOWLEDGE))


# ---------------------------------------------------------------- reading a message


def test_reader_finds_sentences_and_questions() -> None:
    a = Reader().read("Ik werk hier al jaren. Mijn baas pest me. Wat kan ik doen? Mag ik verlof")
    assert len(a.sentences) == 4
    assert a.questions == ("Wat kan ik doen?", "Mag ik verlof")
    assert a.lang == "nl"
    assert a.folded.startswith("ik werk hier")


def test_topic_drops_organisations_places_people_and_dates() -> None:
    reader = load_reader(KNOWLEDGE, {"collega", "pesten"})
    topic = reader.topic(
        "Op 12 maart 2025 pestte mijn collega Anouk de Vries me bij Rijkswaterstaat in Den Haag"
    )
    for gone in ("12", "maart", "2025", "anouk", "vries", "rijkswaterstaat", "den haag"):
        assert gone not in topic.split() and f" {gone} " not in f" {topic} "
    assert "collega" in topic and "pestte" in topic


def test_topic_keeps_a_date_that_names_a_day_off(real_engine: Engine) -> None:
    """ "Ben ik vrij op 5 mei?" is about Bevrijdingsdag; other dates still go."""
    reader = load_reader(KNOWLEDGE, set())
    assert reader.topic("Ben ik op 5 mei 2025 vrij?").split() == [
        "ben",
        "ik",
        "op",
        "5",
        "mei",
        "vrij",
    ]
    assert "maart" not in reader.topic("Ben ik op 3 maart vrij?").split()
    for question in ("Ben ik vrij op 5 mei?", "Krijg ik 27 april vrij?"):
        assert real_engine.ask(question).entry == "verlof-feestdagen"


def test_topic_drops_in_the_netherlands_even_where_the_knowledge_base_says_it() -> None:
    """Every answer is about the Netherlands: saying so names no topic."""
    reader = load_reader(KNOWLEDGE, {"overtime", "in", "the", "netherlands", "nederland"})
    assert reader.topic("What are the rules on overtime in the Netherlands?").split() == [
        "what",
        "are",
        "the",
        "rules",
        "on",
        "overtime",
    ]
    assert "nederland" not in reader.topic("Hoeveel verlof heb je in Nederland?").split()


def test_topic_keeps_an_unknown_capitalised_topic() -> None:
    """An unknown capitalised word alone may be what the question is about: kept."""
    assert "tijdspaarfonds" in Reader().topic("Hoe kan ik geld opnemen uit het Tijdspaarfonds?")


def test_topic_keeps_names_the_knowledge_base_uses() -> None:
    reader = Reader(["uwv", "rijkswaterstaat"], vocabulary={"uwv"})
    assert reader.topic("wat moet ik richting UWV doen") == "wat moet ik richting uwv doen"


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("Ik meld me morgen ziek, hoe werkt dat?", "ziekmelden"),
        ("Hij zegt mijn contract op terwijl ik ziek ben", "opzeggen"),
        ("Ik durf het niet aan te geven", "aangeven"),
        ("Ik heb me gisteren ziek gemeld", "ziekgemeld"),
    ],
)
def test_separable_verbs_are_put_back_together(text: str, verb: str) -> None:
    reader = Reader(vocabulary={"ziekmelden", "opzeggen", "aangeven", "ziekgemeld"})
    assert reader.separable(text) == [verb]


def test_separable_verbs_need_the_knowledge_bases_word_and_a_clause_end() -> None:
    reader = Reader(vocabulary={"opnemen", "ziekmelden"})
    # "op" before a noun is a preposition; "meld" + "ziek" joins only to a known verb.
    assert reader.separable("Ik ga op vakantie en neem contact op met HR") == []
    assert Reader(vocabulary={"opnemen"}).separable("Ik meld me ziek") == []


def test_separable_verb_is_never_an_article() -> None:
    """ "op" + "een" stems like "opeens": the verb is the word further back, and the
    verb that opens a question counts however far the particle."""
    reader = Reader(vocabulary={"opeens", "opbouwen"})
    assert reader.separable("Bouwt een collega vakantie op?") == ["opbouwen"]
    assert reader.separable("Bouw ik als zieke medewerker nog vakantiedagen op?") == ["opbouwen"]


def test_separable_verb_outranks_an_answer_without_it(real_engine: Engine) -> None:
    """Without "opbouwen" the words "zieke medewerker" pick the manager's entry."""
    reply = real_engine.ask("Bouwt mijn zieke collega gewoon vakantie-uren op?")
    assert reply.kind is ReplyKind.ANSWER and reply.entry == "verlof-vakantie-en-ziekte"


def test_separable_verb_turns_unknown_into_an_answer(real_engine: Engine) -> None:
    reply = real_engine.ask("Ik meld me morgen ziek, hoe werkt dat?")
    assert reply.kind is ReplyKind.ANSWER and reply.entry == "zk-ziekmelden"


def test_topic_never_empty() -> None:
    assert Reader(["rijkswaterstaat"]).topic("Rijkswaterstaat") == "rijkswaterstaat"


@pytest.mark.parametrize(
    "name",
    ["Rijkswaterstaat", "de Belastingdienst", "het ministerie van Defensie", "DUO in Groningen"],
)
def test_organisation_does_not_lower_confidence(real_engine: Engine, name: str) -> None:
    plain = real_engine.ask("ik word gepest door een collega")
    named = real_engine.ask(f"ik word gepest door een collega van {name}")
    assert plain.kind is ReplyKind.ANSWER
    assert named.kind is ReplyKind.ANSWER
    assert named.entry == plain.entry
    assert (named.confidence or 0) >= (plain.confidence or 0) - 0.02
    assert name.split()[-1] not in named.plain_text()


def test_person_name_is_never_repeated(real_engine: Engine) -> None:
    reply = real_engine.ask("Mijn leidinggevende Jeroen Hoekstra schreeuwt tegen me")
    assert reply.kind is ReplyKind.ANSWER
    assert "Hoekstra" not in reply.plain_text() and "Jeroen" not in reply.plain_text()


# ---------------------------------------------------------------- long messages


def test_long_message_answers_the_main_question_and_offers_the_other(real_engine: Engine) -> None:
    story = (
        "Ik werk al jaren met plezier op mijn afdeling, maar sinds de zomer is alles anders. "
        "Mijn nieuwe teamleider maakt me belachelijk in het overleg en collega's lachen mee. "
        "Ik word gepest op het werk, wat kan ik daartegen doen? "
        "En mag mijn werkgever mijn vakantieaanvraag weigeren?"
    )
    reply = real_engine.ask(story)
    assert reply.kind is ReplyKind.ANSWER
    offered = {c.action for c in reply.choices}
    assert reply.entry is not None
    assert any(a.startswith("entry:") and a != f"entry:{reply.entry}" for a in offered)
    assert {reply.entry, *(a.removeprefix("entry:") for a in offered)} & {
        "pesten-op-het-werk",
        "rp-vakantieverlof",
    }


def test_long_message_keeps_its_answer_over_a_question_that_leans_on_it(
    real_engine: Engine,
) -> None:
    """The story is answered; a last question on something else is offered beside it."""
    story = (
        "My team lead keeps shouting at me in meetings and belittles my work in front of "
        "everyone. I have tried to talk to him about it. Can I take my holiday days now to "
        "get some rest?"
    )
    reply = real_engine.ask(story)
    assert reply.entry == "leidinggevende-schreeuwt-of-kleineert"
    assert reply.choices[0].action.startswith("entry:")
    assert reply.choices[0].action != f"entry:{reply.entry}"


def test_long_message_answers_a_question_asked_outright(real_engine: Engine) -> None:
    """A question sentence answered surely on its own words (SURE_PART) is the one
    answered, even when the story around it is answered too."""
    story = (
        "Sinds de reorganisatie zit ik op een andere afdeling met een nieuwe leidinggevende. "
        "Ik heb daar veel moeite mee en voel me niet gezien. Ik heb het er met mijn partner "
        "over gehad. Hoeveel vakantiedagen heb ik eigenlijk per jaar?"
    )
    assert real_engine.ask(story).entry == "rp-vakantieverlof"


# ---------------------------------------------------------------- the learned ranker


def test_ranker_is_deterministic_and_bounded(real_engine: Engine) -> None:
    m = real_engine.matcher
    a = Ranker(len(m.entries), m._phrasing_words(m.entries))
    b = Ranker(len(m.entries), m._phrasing_words(m.entries))
    assert np.array_equal(a._entry, b._entry) and np.array_equal(a._weight, b._weight)
    s = a.scores(["pesten", "collega"])
    assert s.shape == (len(m.entries),)
    assert float(s.min()) >= 0.0 and float(s.max()) <= 1.0 + 1e-9


def test_ranker_finds_entries_from_their_own_titles(real_engine: Engine) -> None:
    m = real_engine.matcher
    hits = 0
    for i, e in enumerate(m.entries):
        words = m.analyser.folded_words(e.text("nl").title.lower())
        hits += int(np.argmax(m.ranker.scores(words))) == i
    assert hits >= 0.9 * len(m.entries)


def test_ranker_scores_nothing_for_unknown_words(real_engine: Engine) -> None:
    assert float(real_engine.matcher.ranker.scores(["qqqzzz"]).max()) == 0.0
    assert float(real_engine.matcher.ranker.scores([]).max()) == 0.0


# ---------------------------------------------------------------- the decision


def _cand(real_engine: Engine, n: int, hand: float, learned: float, **kw: object) -> Candidate:
    e = real_engine.kb.entries[n]
    c = Candidate(
        e, hand, learned, hand + FUSE_LEARNED * learned, "nl", bool(kw.get("capped", False))
    )
    return c


def test_confidence_grows_with_each_signal() -> None:
    assert confidence(0.6, 0.3, 0.1) > confidence(0.5, 0.3, 0.1)
    assert confidence(0.6, 0.4, 0.1) > confidence(0.6, 0.3, 0.1)
    assert confidence(0.6, 0.3, 0.2) > confidence(0.6, 0.3, 0.1)
    assert 0.0 < confidence(0.0, 0.0, 0.0) < confidence(1.0, 1.0, 1.0) < 1.0


def test_decide_outcomes(real_engine: Engine) -> None:
    assert decide([]).outcome == "unknown"
    strong = _cand(real_engine, 0, 0.95, 0.6)
    weak = _cand(real_engine, 5, 0.2, 0.05)
    assert decide([strong, weak]).outcome == "answer"
    assert decide([strong, weak]).confidence >= ANSWER_AT
    assert decide([_cand(real_engine, 0, 0.05, 0.01)]).outcome == "unknown"


def test_long_message_is_answered_from_a_lower_confidence(real_engine: Engine) -> None:
    """A story lowers the share of its words an entry explains (LONG_ANSWER_AT)."""
    best = _cand(real_engine, 0, 0.45, 0.12)
    runner = _cand(real_engine, 5, 0.1, 0.02)
    short = decide([best, runner])
    assert LONG_ANSWER_AT <= short.confidence < ANSWER_AT
    assert short.outcome == "clarify"
    assert decide([best, runner], long=True).outcome == "answer"


def test_capped_hand_score_is_never_answered(real_engine: Engine) -> None:
    capped = _cand(real_engine, 0, 0.95, 0.6, capped=True)
    assert decide([capped]).outcome == "clarify"


def test_disagreeing_signals_ask_instead(real_engine: Engine) -> None:
    hand_pick = _cand(real_engine, 0, 0.90, 0.01)
    learned_pick = _cand(real_engine, 40, 0.30, 0.60)
    assert decide([hand_pick, learned_pick]).outcome == "clarify"


def test_unrelated_tie_asks_instead(real_engine: Engine) -> None:
    entries = real_engine.kb.entries
    a = next(i for i, e in enumerate(entries) if e.related)
    b = next(
        i
        for i, e in enumerate(entries)
        if e.id not in entries[a].related and entries[a].id not in e.related and i != a
    )
    one, two = _cand(real_engine, a, 0.9, 0.5), _cand(real_engine, b, 0.9, 0.495)
    assert decide([one, two]).outcome == "clarify"


def test_pick_the_learned_signal_does_not_see_is_not_answered(real_engine: Engine) -> None:
    # A strong hand score from a word or two ("what do I have to do as manager").
    unseen = _cand(real_engine, 0, 0.85, LEARNED_MIN / 2)
    assert decide([unseen]).outcome == "clarify"
    assert decide([_cand(real_engine, 0, 1.0, 0.0)]).outcome == "answer"  # own phrasing


def test_keywords_of_two_topics_ask_which(engine: Engine) -> None:
    two = engine.ask("pesten verlof")
    assert two.kind is ReplyKind.CLARIFY
    assert {c.action for c in two.choices} >= {"entry:pesten", "entry:verlof"}
    # The same words in a sentence: one topic with a detail, answered.
    assert engine.ask("een klacht over een misstand").kind is ReplyKind.ANSWER


def test_out_of_scope_questions_are_not_answered(real_engine: Engine) -> None:
    for q in (
        "Hoe vraag ik huurtoeslag aan?",
        "ik wil mijn sportschool opzeggen",
        "Can my partner get the 30% ruling?",
        "tell me a joke",
    ):
        assert real_engine.ask(q).kind is not ReplyKind.ANSWER, q


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("ik word gepest door mijn collega", "pesten-op-het-werk"),
        ("I am being bullied by a colleague", "pesten-op-het-werk"),
        ("Mag mijn werkgever mijn vakantieaanvraag weigeren?", "rp-vakantieverlof"),
        ("Can my employer refuse my holiday request?", "rp-vakantieverlof"),
    ],
)
def test_english_answers_like_dutch(real_engine: Engine, question: str, entry: str) -> None:
    reply = real_engine.ask(question)
    assert reply.kind is ReplyKind.ANSWER
    assert reply.entry == entry


# ---------------------------------------------------------------- word lists as data


def test_word_lists_are_data() -> None:
    for lang in ("nl", "en"):
        assert len(STOPWORDS[lang]) > 80  # type: ignore[index]
        assert len(LIGHT_WORDS[lang]) > 80  # type: ignore[index]
    assert "ik" in STOPWORDS["nl"] and "the" in STOPWORDS["en"]


def test_matching_modules_stay_small() -> None:
    for name in ("_text", "_match", "_decide", "_ranker", "_analysis", "_crisis", "_crisis_model"):
        lines = (REPO / "bot" / f"{name}.py").read_text(encoding="utf-8").count("\n")
        assert lines < 500, name


def test_own_phrasing_is_not_overruled_by_the_learned_signal(real_engine: Engine) -> None:
    own = _cand(real_engine, 0, 1.0, 0.05)
    other = _cand(real_engine, 40, 0.8, 0.7)
    assert decide([own, other]).outcome == "answer"


def test_every_own_phrasing_finds_its_entry(real_engine: Engine) -> None:
    misses = [
        (e.id, q)
        for e in real_engine.kb.entries
        for t in e.texts.values()
        for q in t.questions
        if real_engine.ask(q).entry != e.id
    ]
    assert not misses


# ---------------------------------------------------------------- aspects of outside topics


@pytest.mark.parametrize(
    "question",
    [
        "Hoeveel belasting betaal ik over mijn transitievergoeding?",
        "Is my transition payment taxed?",
    ],
)
def test_tax_on_a_payment_goes_to_the_tax_office(real_engine: Engine, question: str) -> None:
    """An aspect of an outside topic (tax) wins over the payment the question names."""
    reply = real_engine.ask(question)
    assert reply.entry is None
    assert "Belastingdienst" in reply.text


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("Moet je belasting betalen over de overlijdensuitkering?", "av-overlijden-werknemer"),
        ("I work at the tax office and my boss bullies me", "pesten-op-het-werk"),
    ],
)
def test_entries_that_speak_of_tax_keep_their_questions(
    real_engine: Engine, question: str, entry: str
) -> None:
    """An entry whose own text deals with tax answers its tax question; a workplace's
    name is no tax question."""
    assert real_engine.ask(question).entry == entry


def test_an_entry_keeps_only_the_aspects_it_speaks_of(real_engine: Engine) -> None:
    """The WW entry speaks of money "on unemployment benefit"; that does not make it the
    answer on the rules while on WW, which UWV answers."""
    reply = real_engine.ask("Wat als ik ziek word tijdens mijn WW?")
    assert reply.entry is None
    assert "UWV" in reply.text
    assert real_engine.ask("How much of my salary do I get on unemployment benefit?").entry == (
        "ontslag-ww-uitkering"
    )
