"""Crisis recall on the bundled phrases, with typos, and no false alarms on ordinary questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import Engine, Message, ReplyKind, load_knowledge_base
from bot._crisis import CrisisDetector
from bot._match import Matcher
from bot._yaml import load_yaml_file

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
EXAMPLES = KNOWLEDGE / "crisis_examples"
PHRASES = load_yaml_file(KNOWLEDGE / "crisis.yaml")["crisis"]
ALL = [(lang, p) for lang in ("nl", "en") for p in PHRASES[lang]]


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    kb = load_knowledge_base(KNOWLEDGE)
    return CrisisDetector(
        kb.crisis,
        kb.crisis_exclusions,
        kb.crisis_together,
        kb.crisis_model,
        scope=kb.crisis_scope,
        known=Matcher(kb).vocabulary,
    )


def typo(phrase: str) -> str:
    """Swap two letters in the middle of the longest word: a typical typing slip."""
    words = phrase.split()
    # Apostrophes stay put: "dno't" is no slip a person makes.
    i = max(range(len(words)), key=lambda k: len(words[k]) * ("'" not in words[k]))
    w = words[i]
    if len(w) >= 5:
        m = len(w) // 2
        words[i] = w[: m - 1] + w[m] + w[m - 1] + w[m + 1 :]
    return " ".join(words)


@pytest.mark.parametrize(("lang", "phrase"), ALL)
def test_every_phrase_in_a_sentence(detector: CrisisDetector, lang: str, phrase: str) -> None:
    before, after = ("Hallo, ik denk", "echt waar") if lang == "nl" else ("Hi, I think", "honestly")
    assert detector.is_crisis(f"{before} {phrase.upper()} {after}")


@pytest.mark.parametrize(("lang", "phrase"), [(lang, p) for lang, p in ALL if len(p) >= 12])
def test_every_longer_phrase_with_a_typo(detector: CrisisDetector, lang: str, phrase: str) -> None:
    assert detector.is_crisis(typo(phrase)), typo(phrase)


@pytest.mark.parametrize(
    "text",
    [
        "ik wil nie meer leven",
        "ik wil niet meer lven",
        "ik wil dood",
        "ik wil er een eind aan maken",
        "zelfmoordgedachten",
        "ik denk aan zelfdoding",
        "I want to kil myself",
        "i want to dye",
        "Someone is threatening to hurt me at the office right now",
        "he has a knive",
    ],
)
def test_misspelt_and_real_world_forms(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wat is een misstand?",
        "ik word gepest",
        "Mag ik een etentje van een adviesbureau accepteren?",
        "how do I report a data leak",
        "ik heb een vraag over men contract",
        "mijn baas is streng",
        "Ik slaap slecht door de werkdruk",
        "What does reintegration mean after long-term sickness?",
        "Het probleem is mijn eigen directeur",
        "Kan mijn identiteit geheim blijven?",
        "Wat moet ik als vertrouwenspersoon doen als de melder in gevaar is?",
        "qwerty",
        "",
        # One letter pair from "don't want to live", but real words (round 7).
        "I don't want to lose my job, what can I do?",
        "I do not want to leave my team for another department",
        # "staat mij" is one letter from "slaat mij", but "staat" is a word (round 9).
        "Dit staat mij steeds meer tegen.",
        "Het staat mij tegen dat ik altijd bereikbaar moet zijn",
        # "fire in the" with words in between (round 12): to fire is to dismiss.
        "Can my employer fire me in the probation period?",
        "Is it hard to fire someone in the Netherlands?",
    ],
)
def test_no_false_alarm(detector: CrisisDetector, text: str) -> None:
    assert not detector.is_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "ik denk erover om zelfmoord te plegen",
        "ik zie geen uitweg meer",
        "ik wou dat ik dood was",
        "ik ben liever dood",
        "ik ga mezelf iets aandoen",
        "ik wil mijn leven beëindigen",
        "ik wil uit het leven stappen",
        "ik heb pillen gespaard om er een eind aan te maken",
        "ik heb zelfmoordgedachten",
        "ik wil niet meer leven door het werk",
        "er staat een man met een mes bij de balie",
        "een klant bedreigt me met een mes",
        "mijn collega dreigt me te vermoorden",
        "hij dreigt me iets aan te doen",
        "ik word op dit moment bedreigd",
        "er wordt iemand aangevallen op kantoor",
        "iemand is nu in gevaar",
        "ik ben bang voor mijn leven",
        "i want to end it all",
        "i'm thinking about ending my life",
        "i don't want to be alive anymore",
        "i'd be better off dead",
        "i can't go on living",
        "i feel suicidal",
        "i want to take my own life",
        "there is a man with a knife in the building",
        "my colleague threatened to kill me",
        "someone is attacking me",
        "a visitor is threatening us with a gun",
        "i fear for my life",
        "he said he will hurt me tonight",
        "my coworker is in danger right now",
        "ik wil dood",
        "ik wil zelfmoord plegen",
        "ik denk aan zelfmoort",
        "i want to kil my self",
    ],
)
def test_everyday_crisis_wording(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Wat moet ik als vertrouwenspersoon doen als de melder in gevaar is?",
        "agressie van burgers aan de balie, wat kan ik doen",
        "een klant schold me uit gisteren",
        "mijn manager schreeuwt tegen me",
        "ik word gepest",
        "ik wil niet meer in dit team werken",
        "ik wil niet meer met mijn baas praten",
        "mag ik een mes meenemen naar kantoor",
        "hoe lang duurt het leven van een contract",
        "wat is het beleid over suicidepreventie",
        "I am being bullied by my manager",
        "my manager threatened me with a bad assessment",
        "what does the employer have to do about aggression",
        "ik ben bang dat ik ontslagen word",
        "doodmoe van de werkdruk",
        "ik heb het gevoel dat ik gevaar loop om mijn baan te verliezen",
        "ik voel me onveilig in mijn team",
        "het werk is killing me haha",
        "mijn collega is ziek",
    ],
)
def test_everyday_non_crisis_wording(detector: CrisisDetector, text: str) -> None:
    """Work trouble told in strong words, and questions about danger, are no crisis."""
    assert not detector.is_crisis(text), text


@pytest.mark.parametrize(
    "text",
    [
        # Words of a `together` rule apart, in another order, another ending, a typo.
        "mijn collega zegt dat hij er vanavond een eind aan gaat maken",
        "hij wil er echt een einde aan maken",
        "ik heb al weken slaappillen opgespaard",
        "ze wil van de brug af springen",
        "hij staat op het dak en wil springen",
        "soms wil ik gewoon gaan slapen en nooit meer wakker worden",
        "een melder zegt dat ze zichzelf wat wil aandoen",
        "iedereen is beter af zonder mij",
        "mijn leven heeft geen enkele zin meer",
        "er is net een collega neergestoken bij de ingang",
        "fire in the pantry on our floor and the smoke is spreading fast",
        "Fire on the 3rd floor, people trapped",
        "een man zwaait met een mes in de hal",
        "we hebben een ambulance nodig op de derde verdieping",
        "i have been saving up my pills",
        "my colleague says he wants to jump off the roof",
        "i just want to sleep and never wake up",
        "they would all be better off without me",
        "i don't see any point in living",
        "my coworker keeps saying he wants to kill himself",
        "someone is attacking the receptionist right now",
        "a visitor pulled a knife at the front desk",
        "please call an ambulance, he collapsed",
        "ik heb pilen gespaard",
        "ik wil er echt gewoon niet meer zijn",
        "ik zie eigenlijk geen reden meer om door te gaan",
        "hij heeft een strop gekocht en zegt dat hij er klaar mee is",
        "mijn collega stuurde een afscheidsmail en is sindsdien onbereikbaar",
        "she told me she plans to end her life this weekend",
        "he said goodbye and that we would not see him again",
        "hij begint te slaan bij de receptie",
        "iemand bedreigt mijn collega op dit moment bij de balie",
        "ze heeft afscheid genomen en al haar spullen weggegeven",
        "he gave away all his things and said goodbye",
        "ik heb een touw gekocht",
        "ik snij mezelf soms, ik kan het niet stoppen",
        "my arm is bleeding and it will not stop",
        "mijn collega zei dat ze niet meer wil leven",
        "ikwilnietmeerleven",
        "IKWILDOODGAAN nu",
        "ik heb pillen verzameld om in te nemen",
        "there is a fire on the third floor and people are trapped",
        "er is brand in het gebouw",
    ],
)
def test_together_rules_catch_free_wording(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text), text


@pytest.mark.parametrize(
    "text",
    [
        # The same words in ordinary work questions: no rule may fire on these.
        "ik wil een eind maken aan het pesten",
        "hoe maak ik een einde aan mijn contract",
        "moet ik mijn pillen innemen voor ik ga werken",
        "mijn medicijnen maken me moe, mag ik later beginnen",
        "kan ik de trein nemen voor een dienstreis",
        "ik stond voor de trein te wachten en kwam te laat",
        "mijn vader is dood, krijg ik rouwverlof",
        "ik ben vorig jaar mishandeld door een klant, kan ik nu nog aangifte doen",
        "ik voel me aangevallen door mijn collega in het overleg",
        "mijn leidinggevende valt me aan in vergaderingen",
        "moet ik de politie bellen bij een datalek",
        "ik heb een afscheidsbrief geschreven voor mijn team",
        "niemand mist de maandagochtendvergadering",
        "ik zie het nut niet van de nieuwe werktijden",
        "I want to end my contract early",
        "I hurt my back at work, is that an accident at work",
        "I wrote a farewell letter to my team",
        "my manager attacked my work in the meeting",
        "what's the point of the annual review",
        "is there a reason to keep the complaint going",
        "I collected my medication before work",
        "can I take my own laptop home",
        "I stood in front of the train station",
        "ik stuur een afscheidsmail want ik ga met pensioen",
        "touwtrekken op het teamuitje, moet ik meedoen",
        "ik ben er echt klaar mee dat mijn baas me negeert",
        "I said goodbye to my team, I will not see them again after my contract ends",
        "is there really no reason to go on with my complaint",
        "moet ik nu aangifte doen als een klant me bedreigt",
        "mijn collega bedreigt me nu al weken met een slechte beoordeling",
        "net als vorig jaar slaat de werkdruk toe",
        "I cut myself on the paper cutter, is that an accident at work",
        "my manager is now threatening me with a bad review",
        "ik nam afscheid van mijn team en gaf mijn planten weg",
        "ik wil niet dood, maar ik ben wel op",
        "moet ik mijn pillen vanavond innemen voor de nachtdienst",
        "can they fire people during a reorganisation",
        "ik lig onder vuur bij mensen op mijn afdeling",
        "is there a fire drill in the building this week",
        "ik wil niet meer in dit team werken maar wel een leven naast mijn werk",
    ],
)
def test_together_rules_leave_work_questions_alone(rules_only: CrisisDetector, text: str) -> None:
    assert not rules_only.is_crisis(text), text


@pytest.fixture(scope="module")
def rules_only() -> CrisisDetector:
    kb = load_knowledge_base(KNOWLEDGE)
    return CrisisDetector(
        kb.crisis, kb.crisis_exclusions, kb.crisis_together, scope=kb.crisis_scope
    )


@pytest.fixture(scope="module")
def bundled() -> Engine:
    return Engine(load_knowledge_base(KNOWLEDGE))


def test_counsellor_question_gets_notice_and_its_answer(bundled: Engine) -> None:
    """A counsellor asking what to do about a reporter at risk: the emergency numbers
    first, and the answer to the question asked, not only the crisis card."""
    reply = bundled.ask("melder heeft suicidale gedachten wat doe ik als vertrouwenspersoon")
    assert reply.kind is ReplyKind.ANSWER and reply.entry == "vp-melder-in-gevaar"
    assert reply.crisis is not None
    assert reply.plain_text().startswith(reply.crisis.text)


def test_own_crisis_is_not_answered_with_a_counsellor_procedure(bundled: Engine) -> None:
    """Matched only through its alarm words, the counsellor entry is a choice, not the reply."""
    reply = bundled.ask("ik heb zelfmoordgedachten")
    assert reply.kind is ReplyKind.CRISIS and reply.entry is None
    assert reply.choices[0].action == "talk"


def test_counsellor_question_in_alarm_words_reaches_its_answer_in_one_step(
    bundled: Engine,
) -> None:
    reply = bundled.respond(
        Message("vp", "Wat moet ik als vertrouwenspersoon doen als iemand aan zelfmoord denkt?")
    )
    assert reply.kind is ReplyKind.CRISIS
    assert [c.action for c in reply.choices] == ["talk", "entry:vp-melder-in-gevaar"]
    follow = bundled.respond(Message("vp", "2"))
    assert follow.entry == "vp-melder-in-gevaar"


def test_broad_corpus_recall_and_no_false_alarms(detector: CrisisDetector) -> None:
    """knowledge/crisis_examples/corpus1.yaml was written by someone who had not seen the phrase
    lists: 150 crisis messages and 150 work questions in strong words. Its first run found
    68 of the 150 crises; the misses then shaped new phrases and rules. Four subtle ones
    (a plan and a date, affairs put in order) are still missed: see the README."""
    corpus = load_yaml_file(EXAMPLES / "corpus1.yaml")
    missed = [t for t in corpus["crisis"] if not detector.is_crisis(t)]
    alarms = [t for t in corpus["not_crisis"] if detector.is_crisis(t)]
    assert not alarms, alarms
    assert len(missed) <= 4, missed


def test_second_corpus_recall_and_false_alarms(detector: CrisisDetector) -> None:
    """knowledge/crisis_examples/corpus2.yaml: 120 crises and 120 work questions, written later,
    unseen, with mostly indirect wording. Its first run found 44 of 120 with 10 false
    alarms. One alarm stays on purpose: "ik zie het niet meer zitten" is too often meant
    for life itself to be waved away because a roster follows it."""
    corpus = load_yaml_file(EXAMPLES / "corpus2.yaml")
    missed = [t for t in corpus["crisis"] if not detector.is_crisis(t)]
    alarms = [t for t in corpus["not_crisis"] if detector.is_crisis(t)]
    assert all(t.startswith("Ik zie het niet meer zitten") for t in alarms), alarms
    assert len(alarms) <= 1
    assert len(missed) <= 9, missed


def test_third_corpus_recall_and_false_alarms(detector: CrisisDetector) -> None:
    """knowledge/crisis_examples/corpus3.yaml: 100 crises and 100 hard work questions, written
    unseen after the second. Its first run found 61 of 100 with 8 false alarms. The five
    alarms kept name suicide, a death threat or a heart attack in the past ("vorig jaar",
    "years ago"): a message naming those gets the numbers first, even when it is about
    something over, because a wrong "it is over" costs more than a notice too many. The
    one miss is a date chosen without any word of method or death."""
    corpus = load_yaml_file(EXAMPLES / "corpus3.yaml")
    missed = [t for t in corpus["crisis"] if not detector.is_crisis(t)]
    alarms = [t for t in corpus["not_crisis"] if detector.is_crisis(t)]
    assert len(alarms) <= 5, alarms
    assert len(missed) <= 1, missed


def test_rules_leave_the_fillers_alone(detector: CrisisDetector) -> None:
    """A filler word inside a phrase or rule stops being skipped everywhere ("als ik er
    gewoon niet meer ben" then no longer matches "als ik er niet meer ben"): only the two
    the bundled lists need may lose that role."""
    from bot._crisis import _FILLERS

    assert _FILLERS - detector._fillers <= {"echt", "seriously"}


@pytest.mark.parametrize(
    "text",
    [
        "hij heeft zijn laptop weer meegenomen naar huis",  # "geweer" stems to "weer"
        "ze heeft het dossier weer bij zich",
        "ik heb geen zin in die afscheidsbrief voor mijn team",  # "gezin" stems to "zin"
    ],
)
def test_a_rule_word_stemmed_into_an_everyday_word_raises_no_alarm(
    detector: CrisisDetector, text: str
) -> None:
    assert not detector.is_crisis(text)


def test_the_rule_word_itself_still_counts(detector: CrisisDetector) -> None:
    assert detector.is_crisis("hij heeft een geweer meegenomen in zijn tas")


def test_a_typo_never_changes_the_word_that_carries_a_phrase(detector: CrisisDetector) -> None:
    """'file' is one edit from 'live': the last word's first letter must be there."""
    assert not detector.is_crisis("i dont want to file anything yet, just talk in confidence")
    assert detector.is_crisis("i dont want to lvie anymore")


def test_fourth_corpus_recall_and_false_alarms(detector: CrisisDetector) -> None:
    """knowledge/crisis_examples/corpus4.yaml: 80 crises and 80 work questions, written unseen to
    avoid textbook phrasing. Its first run found only 39 of 80 (3 false alarms); that led
    to broad rules (a means or place of suicide near a word of finality or a plan; being
    held, strangled or threatened tonight; a fall or collapse with no response). The
    three alarms kept: two counsellors asking in general about suicidal reporters, and a
    suicide two years ago named outright."""
    corpus = load_yaml_file(EXAMPLES / "corpus4.yaml")
    missed = [t for t in corpus["crisis"] if not detector.is_crisis(t)]
    alarms = [t for t in corpus["not_crisis"] if detector.is_crisis(t)]
    assert len(alarms) <= 3, alarms
    assert len(missed) <= 3, missed


def test_shipped_crisis_model_is_what_training_gives_now() -> None:
    """Examples and the code that turns text into features (folding, stemming) both
    shape the model: after changing either, run `wegwijzer kb train-crisis`."""
    from bot._crisis_model import (
        MODEL_FILE,
        examples_digest,
        read_concepts,
        read_examples,
        train,
        training_files,
    )

    crises, others = read_examples(KNOWLEDGE)
    model = train(
        crises,
        others,
        digest=examples_digest(training_files(KNOWLEDGE)),
        concepts=read_concepts(KNOWLEDGE),
    )
    assert (KNOWLEDGE / MODEL_FILE).read_text(encoding="utf-8") == model.to_json()


def test_a_changed_training_setting_makes_the_shipped_model_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The digest covers how the model learns (e.g. its length scaling), so `kb validate`
    asks for a new model when that changes, not only when the examples do."""
    import bot._crisis_model as crisis_model

    files = crisis_model.training_files(KNOWLEDGE)
    before = crisis_model.examples_digest(files)
    monkeypatch.setattr(crisis_model, "FEATURES", crisis_model.FEATURES + 1)
    assert crisis_model.examples_digest(files) != before


def test_model_catches_what_no_rule_foresaw(detector: CrisisDetector) -> None:
    """Rules alone miss these (corpus 5, written after them); with the model they count."""
    kb = load_knowledge_base(KNOWLEDGE)
    rules = CrisisDetector(kb.crisis, kb.crisis_exclusions, kb.crisis_together)
    texts = [
        "ik sta nu op het dak van de parkeergarage naast het ministerie",
        "someone just poured petrol over the front desk and is holding a lighter",
    ]
    assert not any(rules.is_crisis(t) for t in texts)
    assert all(detector.is_crisis(t) for t in texts)


def test_exclusions_also_overrule_the_model(detector: CrisisDetector) -> None:
    assert not detector.is_crisis("political suicide: zit in de auto met de motor aan")


def engine_with_model_word(word: str) -> Engine:
    """The bundled knowledge base with a model that is sure only about `word`."""
    from dataclasses import replace

    from bot._crisis_model import CrisisModel, features

    kb = load_knowledge_base(KNOWLEDGE)
    weights = {f: 20.0 for f in features(word)}
    return Engine(replace(kb, crisis_model=CrisisModel(weights, -10.0, 0.7, "")))


def test_model_only_alarm_still_answers_a_clear_question() -> None:
    """Only the model saw danger: numbers first, and the question is still answered."""
    engine = engine_with_model_word("gepest")
    reply = engine.ask("ik word gepest door mijn leidinggevende")
    assert reply.crisis is not None and reply.kind is ReplyKind.ANSWER
    assert reply.entry == "pesten-op-het-werk"
    assert reply.routes[0] == "emergency"
    assert reply.plain_text().startswith(reply.crisis.text)


def test_model_only_alarm_without_an_answer_says_it_may_have_misunderstood() -> None:
    engine = engine_with_model_word("zebrapad")
    reply = engine.ask("zebrapad")
    assert reply.kind is ReplyKind.CRISIS and reply.crisis is not None
    assert reply.text == engine.kb.text("crisis_unsure", "nl")
    assert "emergency" in reply.routes


def test_fifth_corpus_and_tricky_work_questions(detector: CrisisDetector) -> None:
    """Corpus 5 (first run, rules alone: 58 of 100 found, 5 false alarms) and 300 tricky
    work questions. The model has learned from both, so this guards against regressions;
    held-out figures come from bench/crisis_cv.py. The alarms left are all the rules'
    (idioms such as "an overdose of meetings", protocol questions naming suicide)."""
    corpus = load_yaml_file(EXAMPLES / "corpus5.yaml")
    tricky = load_yaml_file(EXAMPLES / "hard_negatives.yaml")
    assert not [t for t in corpus["crisis"] if not detector.is_crisis(t)]
    assert len([t for t in corpus["not_crisis"] if detector.is_crisis(t)]) <= 5
    assert len([t for t in tricky["not_crisis"] if detector.is_crisis(t)]) <= 19


# Issue 11: a wish to be dead with modal verbs and softeners, and goodbye / burden signs
# without any word of death. Work questions with the same words stay ordinary questions.
SOFTENED = [
    "ik zou eigenlijk wel dood willen zijn",
    "soms denk ik dat het beter is als ik er niet meer ben",
    "ik heb mijn spullen weggegeven",
    "jullie zijn beter af zonder mij",
    "ik zou er liever niet meer zijn",
    "ik ben alleen maar een last voor iedereen",
    "I have been giving away my things",
    "I feel like such a burden to my family",
    "honestly I'd rather be dead",
]
SAME_WORDS_AT_WORK = [
    "ik zou liever thuiswerken, mag dat?",
    "ik ben tot laat op kantoor, krijg ik overuren?",
    "ik ben een lastige collega volgens mijn baas",
    "mag ik oude kantoorspullen weggeven aan een goed doel?",
    "we hebben afscheid genomen van een collega, mag ik een cadeau aannemen?",
    "my colleague is leaving, we said goodbye to everyone at the party",
    "I would rather work from home on Fridays",
    "Mijn vader is dood, zou ik rouwverlof krijgen?",
]


@pytest.mark.parametrize("text", SOFTENED)
def test_softened_wishes_and_goodbye_signs(detector: CrisisDetector, text: str) -> None:
    assert detector.signal(text) == "rules"


@pytest.mark.parametrize("text", SAME_WORDS_AT_WORK)
def test_same_words_in_work_questions_fire_no_rule(text: str) -> None:
    """The new phrases and rules stay clear of work questions. (The learned model is
    judged on whole corpora by bench/crisis_cv.py, not sentence by sentence.)"""
    kb = load_knowledge_base(KNOWLEDGE)
    rules_only = CrisisDetector(kb.crisis, kb.crisis_exclusions, kb.crisis_together, None)
    assert rules_only.signal(text) is None


def test_round_three_classes_found_by_rules_alone() -> None:
    """knowledge/crisis_examples/corpus9.yaml (issue 11, round 3): a wish not to exist
    with a modal or softener, caring for others once gone, goodbyes, burden. Its first
    run found 50 of 60 with 4 false alarms; the class rules written after it find 50 by
    rules alone, and the work questions with the same words stay at one rule alarm
    ("het mag van mij allemaal ophouden met die vergaderingen")."""
    kb = load_knowledge_base(KNOWLEDGE)
    rules_only = CrisisDetector(kb.crisis, kb.crisis_exclusions, kb.crisis_together, None)
    corpus = load_yaml_file(EXAMPLES / "corpus9.yaml")
    found = [t for t in corpus["crisis"] if rules_only.is_crisis(t)]
    alarms = [t for t in corpus["not_crisis"] if rules_only.is_crisis(t)]
    assert len(found) >= 50
    assert len(alarms) <= 1, alarms


@pytest.mark.parametrize(
    "text",
    [
        "there's no way out of this contract, can I still resign?",
        "I want to disappear from this email list, who manages it?",
        "ik wil verdwijnen uit dit project, hoe vraag ik om een andere opdracht?",
        "I feel calm now that I've decided to quit, how do I hand in my notice?",
        "ik zou best willen dat mijn manager er niet meer was",
        "ik ga met pensioen en wil iedereen netjes gedag zeggen",
    ],
)
def test_work_words_need_a_second_sign(text: str) -> None:
    """'No way out', 'want to disappear' and calm after a decision are work words too;
    only with a second sign do they fire a rule."""
    kb = load_knowledge_base(KNOWLEDGE)
    rules_only = CrisisDetector(kb.crisis, kb.crisis_exclusions, kb.crisis_together, None)
    assert rules_only.signal(text) is None


def test_kinds_of_words_are_learned_as_pairs() -> None:
    from bot._crisis_model import ConceptIndex, features

    index = ConceptIndex({"means": ["tabletten", "bridge"], "plan": ["opgezocht"]})
    assert "c:means+plan" in features("ik heb opgezocht hoeveel tabletten", concepts=index)
    # One kind alone is no feature: the pair carries the meaning.
    assert not any(f.startswith("c:") for f in features("welke bridge", concepts=index))
    assert not any(f.startswith("c:") for f in features("ik heb opgezocht", concepts=index))


def test_a_kind_of_word_is_not_found_through_an_everyday_stem() -> None:
    """The Dutch stemmer makes "zin" of "gezin": "geen zin" names no loved one."""
    from bot._crisis_model import ConceptIndex

    index = ConceptIndex({"loved": ["gezin"]})
    assert index.find(["geen", "zin"]) == set()
    assert index.find(["mijn", "gezin"]) == {"loved"}


def test_the_model_file_keeps_its_kinds_of_words(tmp_path: Path) -> None:
    from bot._crisis_model import ModelProblem, load_model, train

    model = train(
        ["ik heb tabletten verzameld"],
        ["mag ik thuiswerken"],
        digest="x",
        concepts={"means": ["tabletten"], "plan": ["verzameld"]},
    )
    path = tmp_path / "m.json"
    path.write_text(model.to_json(), encoding="utf-8")
    loaded = load_model(path)
    assert loaded is not None
    assert loaded.concepts == {"means": ("tabletten",), "plan": ("verzameld",)}
    assert loaded.probability("tabletten verzameld") == model.probability("tabletten verzameld")
    path.write_text(model.to_json().replace('"means": [', '"means": [1, '), encoding="utf-8")
    with pytest.raises(ModelProblem, match="concepts"):
        load_model(path)


# Issue 11, round 4: `work_scope` in crisis.yaml. A soft phrase bound to a work object in
# a work question is not a crisis by the rules; the same phrase alone, about life, or in
# a message with a word of danger stays one.
@pytest.fixture(scope="module")
def scoped_rules() -> CrisisDetector:
    kb = load_knowledge_base(KNOWLEDGE)
    return CrisisDetector(
        kb.crisis, kb.crisis_exclusions, kb.crisis_together, None, scope=kb.crisis_scope
    )


@pytest.mark.parametrize(
    "text",
    [
        "ik zie het niet meer zitten met dit project, mag ik van project wisselen?",
        "ik kan niet meer verder met deze leidinggevende, kan ik een andere krijgen?",
        "I don't want to be here anymore, in this team. Can I ask for a transfer?",
        "I'd rather not be here when the director announces the layoffs, can I take the day off?",
        "after the merger I wish my old department didn't exist anymore, who can I talk to?",
        "Ik zie het niet meer zitten met die nieuwe dienstroosters. Mag mijn chef dat?",
        "ik wil dat het pesten stopt, voorgoed, wat kan ik doen?",
    ],
)
def test_a_soft_phrase_bound_to_work_in_a_question_fires_no_rule(
    scoped_rules: CrisisDetector, text: str
) -> None:
    assert scoped_rules.signal(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # no question
        "ik zie het niet meer zitten met dit project",
        # no work object, or not bound to it
        "ik zie het niet meer zitten, wat moet ik doen?",
        "na dat gesprek met mijn leidinggevende zie ik het niet meer zitten, wat nu?",
        # about more than work
        "ik zie het niet meer zitten met mijn werk en mijn leven, wat moet ik doen?",
        "I don't want to be here anymore, not just the job, can someone help?",
        # a person at work is no object of the wish: what they do stays danger
        "mijn collega zegt dat hij er een eind aan wil maken, wat moet ik doen?",
        # danger at the office is danger: a word of it keeps every match
        "een collega heeft op kantoor een epileptische aanval, wat moet ik doen?",
        "mijn leidinggevende heeft een mes in de vergadering, wie bel ik?",
        "I'm going to jump off the bridge near the office, who should I tell?",
    ],
)
def test_scope_leaves_danger_and_unbound_wishes_alone(
    scoped_rules: CrisisDetector, text: str
) -> None:
    assert scoped_rules.signal(text) == "rules"


def test_scoped_message_still_reaches_the_model() -> None:
    """Scoping only stops the rules: the learned model still judges the message."""
    kb = load_knowledge_base(KNOWLEDGE)
    scoped = CrisisDetector(
        kb.crisis, kb.crisis_exclusions, kb.crisis_together, None, scope=kb.crisis_scope
    )
    text = "ik zie het niet meer zitten met dit project, mag ik van project wisselen?"
    assert scoped.signal(text) is None
    engine = engine_with_model_word("project")
    assert engine.crisis.signal(text) == "model"


@pytest.mark.parametrize(
    "text",
    [
        "mijn teamleider laat me nooit uitpraten, is dat ongewenst gedrag?",
        "mijn leidinggevende laat me elke dag overwerken, mag dat?",
        "hij laat me nooit uitpraten in vergaderingen",
        "sorry voor alle vragen, maar hoe vraag ik verlof aan?",
    ],
)
def test_an_everyday_word_one_letter_from_a_phrase_word_is_no_typo(
    detector: CrisisDetector, text: str
) -> None:
    """'laat me' is one edit from 'slaat me' and 'sorry voor alle' from 'sorry voor
    alles': a typo match keeps the first letter of every phrase word of five letters or
    more, and 'sorry voor alles' is a rule only in context (the model knows it alone)."""
    assert not detector.is_crisis(text)


@pytest.mark.parametrize(
    "text",
    ["mijn vriend slaat me", "hij slat me", "sorry voor alles", "I keep hurting myself"],
)
def test_the_phrases_themselves_still_count(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text)


# Batches of issue 11's crisis rounds, with the figures recorded when they were scored:
# found at least, false alarms at most. Held out (scored once as written; never trained
# on): round4b (first run 17 of 25, 1 false alarm), round5 (35 of 40, 2), round5b (written
# after round 5: 15 of 20, 0), round6 (14 of 20, 16 after round 6), round6b (written
# after round 6: 8 of 10), round7 (written after the sentence model: 18 of 20, 2 false alarms
# by rules), round8 (calm questions about means: 5 of 20 as written, 0 false alarms) and
# round8b (4 of 10, 1 false alarm, on the same engine). round4.yaml was trained on after its
# first run (as corpus11); corpus12-15 are training files, all of them found. Round 15
# (the crisis model's length scaling, bot/_crisis_model.FEATURES): round10 24 -> 26, round9
# 27 -> 26 (a goodbye visit whose model probability fell from 0.41 to 0.398, just under
# the sentence look's JOINT_PROBABILITY; re-measured, 0.4 is still the best setting).
# Round 17 (corpus18 trained in, for calm questions about means, passive wishes, worried
# colleagues, self-harm and veiled signs around money): held-out batches 382 -> 386 of 450
# found, 18 -> 20 false alarms of 470; round8 5 -> 8, round8b 4 -> 5 (1 -> 2 false alarms),
# round9 26 -> 27, round17 23 -> 24, round18 (written at the same time, unseen) 21 -> 22;
# round10 26 -> 25 and round7 2 -> 3 false alarms. Leaving one file out: 10 more of 1,409
# crises found for 1 more false alarm of 3,003.
# Round 18 (corpus19 trained in, for softened wishes, goodbye and burden, calm means,
# hopelessness about work or money, indirect self-harm and worried colleagues): held-out
# batches 386 -> 392 of 450 found, 20 -> 22 false alarms of 470; round19 (written at the
# same time, unseen) 20 -> 22 of 30, 2 false alarms before and after; round8 8 -> 11,
# round18 22 -> 24, round17 24 -> 25 (1 -> 2 false alarms), round9b 0 -> 1 false alarm.
# Then round20 (held out, written by a helper at the same time as corpus20): 16 of 30 as
# written, no false alarm; corpus20 was kept out of training (its header says why) and is
# held out too: 46 of 60, 4 of 90 false alarms.
RECORDED_BATCHES = [
    # Round 20: the crisis probe (bot/_crisis_probe.py) found 29 more held-out crises (25
    # that no answer fits, 4 answered under the numbers) and raised 3 alarms more (round18,
    # round19, round20: fire doors, a farewell mail, a scraped hand).
    # Then corpus22 (training): 9 more found and one lost (round9), false alarms moved
    # between batches (corpus20 and round19 one fewer, round7 and round8b one more).
    ("crisis_heldout", "round4.yaml", 50, 3),
    ("crisis_heldout", "round4b.yaml", 21, 1),
    ("crisis_heldout", "round5.yaml", 40, 2),
    ("crisis_heldout", "round5b.yaml", 18, 0),
    ("crisis_examples", "corpus12.yaml", 89, 0),
    ("crisis_examples", "corpus13.yaml", 42, 0),
    ("crisis_examples", "corpus14.yaml", 40, 0),
    ("crisis_heldout", "round6.yaml", 18, 0),
    ("crisis_heldout", "round6b.yaml", 10, 0),
    ("crisis_examples", "corpus15.yaml", 60, 0),
    ("crisis_heldout", "round7.yaml", 20, 3),
    ("crisis_heldout", "round8.yaml", 17, 0),
    ("crisis_heldout", "round8b.yaml", 5, 3),
    ("crisis_heldout", "round9.yaml", 29, 0),
    ("crisis_heldout", "round9b.yaml", 14, 1),
    ("crisis_heldout", "round10.yaml", 27, 3),
    ("crisis_heldout", "round10b.yaml", 14, 0),
    ("crisis_heldout", "round10c.yaml", 13, 2),
    ("crisis_heldout", "round13.yaml", 27, 2),
    ("crisis_heldout", "round17.yaml", 28, 2),
    ("crisis_heldout", "round18.yaml", 29, 0),
    ("crisis_examples", "corpus18.yaml", 60, 0),
    # Round 19: corpus21 (model at 0.63) found 5 more held-out crises and lost this one.
    ("crisis_heldout", "round19.yaml", 26, 2),
    ("crisis_examples", "corpus19.yaml", 60, 0),
    ("crisis_heldout", "round20.yaml", 23, 1),
    ("crisis_heldout", "corpus20.yaml", 50, 3),
    ("crisis_heldout", "round21.yaml", 21, 0),
    ("crisis_heldout", "round22.yaml", 25, 0),
    ("crisis_heldout", "round22b.yaml", 9, 4),
    ("crisis_examples", "corpus21.yaml", 60, 0),
    # corpus22: both alarms are phrase rules ("can't keep going like this", giving away
    # furniture before a move abroad); the model learns from the examples, the rules do not.
    ("crisis_examples", "corpus22.yaml", 60, 2),
    # Round 22: corpus23 (training): all held-out batches 582 -> 589 of 670 found, false
    # alarms 35 -> 36 of 770 (round7 lost a crisis, round8b gained an alarm); round23 as
    # written 19/30 with 1 alarm, the same after it.
    ("crisis_heldout", "round23.yaml", 24, 1),
    ("crisis_examples", "corpus23.yaml", 60, 0),
    # Then corpus24 (training, mostly self-harm and looking for means, places or timing):
    # all held-out batches 609 -> 620 of 700 found, false alarms 37 -> 35 of 800; crises
    # lost in round4b, round13, round20 (2) and corpus20. round24 as written 20/30, after 22.
    ("crisis_heldout", "round24.yaml", 22, 1),
    ("crisis_examples", "corpus24.yaml", 60, 0),
    # round25 and corpus25 as written on that engine; corpus25, trained on, gained one
    # held-out crisis for one more false alarm and one right answer fewer on the real sets,
    # so it is held out.
    ("crisis_heldout", "round25.yaml", 21, 0),
    ("crisis_heldout", "corpus25.yaml", 53, 1),
]


@pytest.mark.parametrize(("folder", "name", "found_min", "alarms_max"), RECORDED_BATCHES)
def test_crisis_batches_measured_as_recorded(
    bundled: Engine, folder: str, name: str, found_min: int, alarms_max: int
) -> None:
    """The recorded figures of each batch must not get worse."""
    data = load_yaml_file(KNOWLEDGE / folder / name)
    found = sum(bundled.ask(t).crisis is not None for t in data["crisis"])
    alarms = [t for t in data["not_crisis"] if bundled.ask(t).crisis is not None]
    assert found >= found_min, name
    assert len(alarms) <= alarms_max, alarms


def test_long_ordinary_letters_do_not_add_up_to_a_crisis(bundled: Engine) -> None:
    """The crisis model never trains on the real question sets. Before its length scaling
    (round 15) it alone alarmed 19 of their ordinary questions, 17 of them long letters
    about a manager or a colleague; with it, 9, and none over 150 words. The sets grow each
    round, so the bound is a share: 11 of 2,285 ordinary questions (0.48%) after round 17,
    15 of 2,451 (0.61%) after round 18's corpus19, kept for its crises (held-out +6); 17 of
    2,523 (0.67%) with tune24, whose two (lying awake over work, "told me to lie. Now what?")
    negatives in their spirit did not remove on balance (2 fixed, 2 new, 2 held-out crises
    fewer); 15 (0.59%) with round 19's corpus21 and the model's threshold at 0.63; 18 of
    2,602 (0.69%) with round 22's corpus24, kept for its crises (held-out +11, false alarms
    -2; at 0.64, 17 alarms for 3 held-out crises fewer; at 0.65, 15 for 5 fewer)."""
    model = bundled.crisis.model
    assert model is not None
    alarms, ordinary = [], 0
    for path in sorted((KNOWLEDGE / "tests" / "real").glob("tune*.yaml")):
        for item in load_yaml_file(path):
            text = " ".join(str(item["q"]).split())
            if item.get("crisis"):
                continue
            ordinary += 1
            if bundled.crisis.read(text).signal == "rules":
                continue
            if model.probability(text) >= model.threshold:
                alarms.append(text)
    assert ordinary > 2000
    assert len(alarms) <= 0.007 * ordinary
    assert all(len(t.split()) <= 150 for t in alarms)
