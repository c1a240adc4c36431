"""The engine end to end on the small test knowledge base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import (
    ACTION_OPEN_DIRECT,
    MAX_MESSAGE_CHARS,
    Channel,
    Engine,
    Message,
    ReplyKind,
    load_knowledge_base,
)
from bot._state import ConversationStore


def say(engine: Engine, text: str, conv: str = "c1", **kw: object) -> ReplyKind:
    return engine.respond(Message(conversation=conv, text=text, **kw)).kind  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("ik word gepest", "pesten"),
        ("ik wordt gepest door mn baas", "pesten"),
        ("mijn leidinggevnde pest me steeds", "pesten"),
        ("pestgedrag", "pesten"),
        ("IK WORD GEPEST!!!", "pesten"),
        ("my coworker bullies me", "pesten"),
        ("hoe dien ik een klacht in?", "klacht"),
        ("wat is een misstand", "misstand"),
        ("mijn manager fraudeerd met geld", "misstand"),
        ("mag mijn werkgever mijn verlof weigeren", "verlof"),
        ("Mag ik mijn vakantiedagen opnemen", "verlof"),
    ],
)
def test_answers(engine: Engine, question: str, entry: str) -> None:
    reply = engine.ask(question)
    assert reply.kind is ReplyKind.ANSWER, (question, reply.kind)
    assert reply.entry == entry
    assert reply.sources and reply.reviewed is not None
    assert reply.contacts, "every answer ends with who can help"
    assert reply.footer  # general information, not legal advice


@pytest.mark.parametrize("question", ["qwerty", "zorp the frobnicated gizmo", "asdf jkl"])
def test_out_of_scope_is_not_guessed(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind is ReplyKind.UNKNOWN
    actions = {c.action for c in reply.choices}
    assert {"menu", "talk"} <= actions  # the topic menu and a person to talk to


@pytest.mark.parametrize(
    ("question", "lang", "where"),
    [
        ("Waar kan ik parkeren bij het kantoor?", "nl", "facilitaire dienst"),
        ("Schrijf een gedicht over de herfst", "nl", "Ik schrijf en vertaal geen teksten"),
        ("Hoe reset ik mijn wachtwoord?", "nl", "servicedesk"),
        ("Hoe vraag ik huurtoeslag aan?", "nl", "Dienst Toeslagen"),
        ("My parcel from the webshop never arrived, how do I get a refund?", "en", "ConsuWijzer"),
        ("How do I extend my residence permit?", "en", "IND"),
        ("what is the capital of France", "en", "not a general search engine"),
    ],
)
def test_question_for_elsewhere_says_where_it_goes(
    engine: Engine, question: str, lang: str, where: str
) -> None:
    """A topic of elsewhere.yaml: honest that Wegwijzer cannot help, where to go instead,
    and no entries that share a word nor contacts who do not handle it."""
    reply = engine.ask(question)
    assert reply.kind is ReplyKind.UNKNOWN
    assert reply.lang == lang
    assert reply.entry is None
    assert engine.kb.text("elsewhere", reply.lang) in reply.text
    assert where in reply.text
    assert not reply.contacts and not reply.routes
    assert [c.action for c in reply.choices] == ["menu"]


def test_elsewhere_topics_are_never_offered(engine: Engine) -> None:
    """A "did you mean" lists entries only, even when a topic outside comes close."""
    for question in ("belasting ziekmelden", "ziek laptop", "pesten wachtwoord"):
        reply = engine.ask(question)
        ids = {c.action.removeprefix("entry:") for c in reply.choices}
        assert not ids & {e.id for e in engine.kb.elsewhere}, question


@pytest.mark.parametrize(
    "question",
    [
        "ik wil mijn sportschool opzeggen",
        "hoe zeg ik mijn energiecontract op",
        "my dog is sick",
    ],
)
def test_one_known_word_beside_unknown_ones_is_never_answered(question: str) -> None:
    """'opzeggen' is in the knowledge base, 'sportschool' is not: a question carried by
    words it does not know may get a 'did you mean', never an answer."""
    engine = Engine(load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge"))
    assert engine.ask(question).kind in (ReplyKind.CLARIFY, ReplyKind.UNKNOWN)


@pytest.mark.parametrize(
    "text",
    [
        "ik wil niet meer leven",
        "ik wil nie meer leven",
        "Ik wil er een eind aan maken",
        "I want to die",
        "i want to kil myself",
        "Someone is threatening to hurt me at the office right now",
        "hij heeft een mes",
        "ik denk aan zelfmoord",
    ],
)
def test_crisis_first(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert reply.kind is ReplyKind.CRISIS
    assert reply.crisis is not None and reply.routes[0] == "emergency"
    plain = reply.plain_text()
    assert plain.index("112") < plain.index("113") < len(plain)
    assert plain.startswith(reply.crisis.text)
    assert reply.contacts, "plus a person to talk to"


def test_crisis_even_in_group_room_and_before_commands(engine: Engine) -> None:
    assert say(engine, "ik wil dood", channel=Channel.GROUP) is ReplyKind.CRISIS


def test_no_false_crisis_for_counsellor_question(engine: Engine) -> None:
    assert (
        engine.ask("Wat moet ik als vertrouwenspersoon doen bij suicidepreventie?").kind
        is not ReplyKind.CRISIS
    )


def test_language_detection_and_switch(engine: Engine) -> None:
    assert engine.respond(Message("l", "i am being bullied by my boss")).lang == "en"
    assert engine.respond(Message("l2", "ik word gepest door mijn baas")).lang == "nl"
    reply = engine.respond(Message("l3", "english"))
    assert reply.lang == "en"
    assert engine.respond(Message("l3", "ik word gepest")).lang == "en"  # the choice sticks
    assert engine.respond(Message("l3", "nederlands")).lang == "nl"


def test_numbered_choices_and_menu(engine: Engine) -> None:
    menu = engine.respond(Message("m", "menu"))
    assert menu.kind is ReplyKind.MENU and menu.choices[0].action == "theme:ongewenst-gedrag"
    theme = engine.respond(Message("m", "1"))
    assert theme.kind is ReplyKind.MENU
    assert {c.action for c in theme.choices} == {"entry:pesten", "entry:klacht"}
    n = next(c.number for c in theme.choices if c.action == "entry:klacht")
    answer = engine.respond(Message("m", str(n)))
    assert answer.kind is ReplyKind.ANSWER and answer.entry == "klacht"
    follow = engine.respond(Message("m", "1"))  # related follow-up of "klacht"
    assert follow.entry == "pesten"
    assert (
        engine.respond(Message("m", "99")).kind is ReplyKind.INFO
    )  # unknown number: a clear answer


def test_card_action_is_handled(engine: Engine) -> None:
    reply = engine.respond(Message("a", "", action="entry:verlof"))
    assert reply.kind is ReplyKind.ANSWER and reply.entry == "verlof"
    assert engine.respond(Message("a", "", action="nonsense:1")).kind is ReplyKind.INFO


def test_talk_to_someone_triage_and_organisation(engine: Engine) -> None:
    intro = engine.respond(Message("t", "praat met iemand"))
    assert [c.action for c in intro.choices][:3] == [
        "talk:gedrag",
        "talk:integriteit",
        "talk:rechtspositie",
    ]
    step = engine.respond(Message("t", "1"))
    assert step.routes[0] == "vpoo"
    assert step.choices and step.choices[0].action == "org:voorbeeld"  # pick an organisation
    assert not any(c.organisation for c in step.contacts)
    chosen = engine.respond(Message("t", "1"))
    assert chosen.kind is ReplyKind.INFO
    again = engine.respond(Message("t", "ik word gepest"))
    people = [c for c in again.contacts if c.organisation]
    assert people and all(c.example for c in people)
    assert people[0].role == "vpoo" and people[0].methods


def test_organisation_by_name_and_unknown_not_echoed(engine: Engine) -> None:
    assert engine.respond(Message("o", "organisatie voorbeeld")).kind is ReplyKind.INFO
    assert engine.store.peek("o") is not None
    assert engine.store.peek("o").organisation == "voorbeeld"  # type: ignore[union-attr]
    reply = engine.respond(Message("o2", "organisatie Geheimzinnigdienst"))
    assert "geheimzinnig" not in reply.plain_text().lower()


def test_external_counsellor_offered(engine: Engine) -> None:
    reply = engine.ask("mijn directeur fraudeert, ik vertrouw de organisatie niet")
    assert reply.routes[0] == "external_vp"
    assert any(c.role == "external_vp" for c in reply.contacts)


def test_group_room_never_discusses_personal_matters(engine: Engine) -> None:
    reply = engine.respond(Message("g", "ik word gepest door mijn baas", channel=Channel.GROUP))
    assert reply.kind is ReplyKind.GROUP
    assert reply.choices[0].action == ACTION_OPEN_DIRECT
    assert "pest" not in reply.plain_text().lower()
    assert (
        engine.respond(Message("g", "", action="entry:pesten", channel=Channel.GROUP)).kind
        is ReplyKind.GROUP
    )
    assert say(engine, "help", conv="g", channel=Channel.GROUP) is ReplyKind.INFO


def test_forget_clears_state_at_once(engine: Engine) -> None:
    engine.respond(Message("f", "organisatie voorbeeld"))
    assert engine.store.peek("f") is not None
    reply = engine.respond(Message("f", "vergeet"))
    assert reply.kind is ReplyKind.FORGOTTEN
    assert engine.store.peek("f") is None


def test_state_expires_and_is_bounded() -> None:
    now = [0.0]
    store = ConversationStore(idle_seconds=1800, max_conversations=3, clock=lambda: now[0])
    store.get("a").organisation = "x"
    now[0] = 1799
    assert store.peek("a") is not None
    now[0] = 1799 + 1801
    assert store.peek("a") is None
    for key in "bcde":
        store.get(key)
    assert len(store) == 3 and store.peek("b") is None


def test_state_holds_no_message_text(engine: Engine) -> None:
    canary = "zebrakanarie-31337"
    engine.respond(Message("s", f"ik word gepest {canary}"))
    state = engine.store.peek("s")
    assert canary not in repr(state)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x00",
        "\u202e\u202d\u200b\u200f",
        "😀😀🎉",
        "\x1b[31m\x07",
        "\ud800",
        "<script>alert(1)</script>",
        "' OR 1=1; --",
        "{{7*7}} ${jndi:ldap://x}",
        "%s%s%n",
        "ik\u200b word\u202e ge\u00adpest",
        "Ｉｋ ｗｏｒｄ ｇｅｐｅｓｔ",
        "a" * 100_000,
    ],
)
def test_bad_input_gets_a_clear_answer(engine: Engine, text: str) -> None:
    reply = engine.respond(Message("bad", text))
    assert reply.kind in set(ReplyKind)
    assert reply.plain_text().strip()
    assert "<script>" not in reply.plain_text() and "jndi" not in reply.plain_text()


def test_invisible_characters_do_not_hide_words(engine: Engine) -> None:
    assert engine.ask("ik\u200b word\u202e ge\u00adpest").entry == "pesten"
    assert engine.ask("Ｉｋ ｗｏｒｄ ｇｅｐｅｓｔ").entry == "pesten"


def test_huge_message_is_cut_and_the_person_told(engine: Engine) -> None:
    text = "ik word gepest " + "x" * (1024 * 1024)
    reply = engine.respond(Message("huge", text))
    assert str(MAX_MESSAGE_CHARS) in reply.text


def test_empty_and_emoji_only_are_invalid(engine: Engine) -> None:
    assert say(engine, "") is ReplyKind.INVALID
    assert say(engine, "🙂🙂") is ReplyKind.INVALID


def test_reload_keeps_last_good(test_kb_dir: Path) -> None:
    engine = Engine(load_knowledge_base(test_kb_dir))
    before = engine.kb
    broken = test_kb_dir / "entries" / "test.yaml"
    good = broken.read_text(encoding="utf-8")
    broken.write_text(good.replace("related: [klacht]", "related: [klacht, weg]"), encoding="utf-8")
    error = engine.reload()
    assert error is not None and engine.kb is before
    assert any("entries/test.yaml:" in str(p) and "'weg'" in str(p) for p in error.problems)
    assert engine.ask("ik word gepest").entry == "pesten"
    broken.write_text(good.replace("Pesten op het werk", "Pesten op kantoor"), encoding="utf-8")
    assert engine.reload() is None
    assert engine.ask("ik word gepest").title == "Pesten op kantoor"


def test_welcome_mentions_privacy(engine: Engine) -> None:
    assert "bewaar niets" in engine.welcome("nl").text
    assert "keep nothing" in engine.welcome("en").text


def test_unused_knowledge_folder_copy_is_independent(tmp_path: Path, test_kb_dir: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(test_kb_dir, copy)
    assert len(load_knowledge_base(copy).entries) == 5


def test_chat_shorthand_is_understood() -> None:
    from bot._text import fold

    assert fold("kzit gwn thuis, idk wat ik moet doen pls") == (
        "ik zit gewoon thuis i do not know wat ik moet doen please"
    )


def test_no_hash_seed_dependence(tmp_path: Path) -> None:
    """The same question gets the same confidence in every process."""
    import json
    import os
    import subprocess
    import sys

    out = set()
    for seed in ("1", "2", "3"):
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", "--json", "i suspect my boss of fraud"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).resolve().parent.parent,
        )
        data = json.loads(proc.stdout)
        out.add((data["entry"], data["confidence"]))
    assert len(out) == 1, out


def test_synonym_in_another_ending_is_understood() -> None:
    """The synonym list spells 'reorganisation'; 'reorganised' reaches the same term (by its
    stem, or as written once a phrasing uses it), at full or nearly full weight."""
    engine = Engine(load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge"))
    index = engine.matcher.indexes["en"]
    via_stem, known = index.resolve("reorganised"), index.resolve("reorganisation")
    assert via_stem is not None and known is not None
    assert via_stem[0] == known[0] and via_stem[1] >= 0.95
    assert engine.ask("our unit is being reorganised, what happens to my job").entry == (
        "rp-reorganisatie"
    )


def test_long_story_gets_topics_not_a_shrug() -> None:
    """A long message spreads its weight over the story; it still gets the closest topics."""
    engine = Engine(load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge"))
    story = (
        "vorige maand op het teamuitje zat een oudere collega de hele avond aan me, en nu "
        "stuurt hij berichtjes die ik echt niet prettig vind, ik weet niet of ik hier iets "
        "mee moet want hij zit in de selectiecommissie voor mijn vaste contract"
    )
    reply = engine.ask(story)
    assert reply.kind in (ReplyKind.ANSWER, ReplyKind.CLARIFY)
    assert "vpoo" in reply.routes


def test_saying_where_you_work_then_asking() -> None:
    engine = Engine(load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge"))
    short = engine.respond(Message("w", "ik werk bij voorbeeld"))
    assert short.kind is ReplyKind.INFO  # the organisation is set
    long = engine.respond(
        Message("w2", "ik werk bij het voorbeeldministerie en mijn baas pest me al maanden")
    )
    assert long.kind is ReplyKind.ANSWER and long.entry == "pesten-op-het-werk"
    assert any(c.organisation for c in long.contacts)  # its people are listed


def test_function_word_run_into_the_next_is_split() -> None:
    """'temelden' and 'mnbaas' are typed fast, not other words: split before typo search."""
    engine = Engine(load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge"))
    nl = engine.matcher.indexes["nl"]
    assert nl.resolve("temelden") == (nl.resolve("melden")[0], 0.9)  # type: ignore[index]
    assert nl.resolve("mnbaas") == (nl.resolve("leidinggevende")[0], 0.9)  # type: ignore[index]
    assert engine.ask("hoe moet ik me ziek temelden").entry == "zk-ziekmelden"


def test_help_also_lists_who_can_help(engine: Engine) -> None:
    """'hulp' alone may mean 'I need help': the instructions come with people to reach."""
    reply = engine.respond(Message("h", "hulp"))
    assert reply.kind is ReplyKind.INFO
    assert {"vpoo", "vpi", "p_raadgever", "bmw"} <= set(reply.routes)
    assert reply.contacts


def test_no_typo_search_through_the_other_language() -> None:
    """'buren' in a Dutch question is no typo of the English 'burden' (of proof)."""
    engine = Engine(load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge"))
    nl_question = engine.ask("Ik word gepest door mijn buren, wat kan ik doen?")
    assert nl_question.entry != "bescherming-klokkenluider"
    en = engine.matcher.indexes["en"]
    assert en.resolve("buren", typos=False) is None


def test_did_you_mean_never_points_to_112() -> None:
    """Only a crisis reply, or the answer about acting in danger, lists the emergency role."""
    # Without the sentence model, which answers this one outright: the test is about
    # what a "did you mean" shows.
    kb = load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge")
    engine = Engine(kb, semantic=False)
    question = "als vertrouwenspersoon bellen"
    reply = engine.ask(question)
    assert reply.kind is ReplyKind.CLARIFY
    assert any(c.action == "entry:vp-melder-in-gevaar" for c in reply.choices)
    assert "emergency" in engine.entries["vp-melder-in-gevaar"].routes
    assert "emergency" not in reply.routes
