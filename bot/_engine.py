"""The engine: one message in, one structured reply out.

`Engine.handle` is where every message enters, from every adapter. The order is fixed
and deliberate: clean the input, crisis check (always first), a picked choice or a typed
number, a command (bot/_commands.py), the group-room rule, and only then matching. A
question no answer fits gets a second crisis look from the sentence model
(bot/_semantic.py) before any "did you mean".
Nothing the person wrote is stored, logged or echoed: the conversation state keeps only
language, organisation, the numbered choices just offered, the last entry shown and
whether the person said they are a counsellor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from bot import _feedback
from bot._analysis import Analysis, load_reader
from bot._commands import ACTION_OPEN_DIRECT, COMMAND_ACTIONS, PERSONAL_ACTIONS, Commands
from bot._crisis import CrisisDetector, Reading
from bot._decide import Decider, Decision
from bot._kb import Entry, KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from bot._match import Match, Matcher
from bot._metrics import Metrics, default_metrics
from bot._routing import Router
from bot._semantic import load_check
from bot._state import ConversationStore, State, StateStore
from bot._stats import Stats
from bot._text import fold, has_words
from bot._types import Channel, Choice, CrisisNotice, Lang, Message, Reply, ReplyKind

log = logging.getLogger("wegwijzer.engine")

#: Longest message read, in characters; longer ones are cut here and the person is told.
MAX_MESSAGE_CHARS = 4000


class Engine(Commands):
    """Answers messages from a knowledge base, with per-conversation state in `store`
    (this process's memory by default, Redis for replicas: `bot._stores`).

    The actions (commands and picked choices) live in bot/_commands.py, the typed reply
    builder in bot/_replies.py.

    Args:
        counsellors: The deployment is for counsellors only (WEGWIJZER_AUDIENCE=
            counsellors): every answer shows its counsellors' details unfolded.
        semantic: Let the sentence model confirm "did you mean" picks (bot/_semantic.py;
            WEGWIJZER_SEMANTIC=off turns it off).
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        store: StateStore | None = None,
        counsellors: bool = False,
        metrics: Metrics | None = None,
        semantic: bool = True,
    ) -> None:
        self.store: StateStore = store or ConversationStore()
        self.counsellors = counsellors
        self.semantic = semantic
        self.metrics = metrics or default_metrics()
        #: Anonymous use figures (`wegwijzer run` sets it); counts in memory only.
        self.stats: Stats | None = None
        self._use(kb)

    def _use(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)
        check = load_check(kb.root, self.matcher.entries) if self.semantic else None
        self.decider = Decider(self.matcher, check)
        own = [n for o in kb.organisations for n in (*o.aliases, *o.names.values())]
        vocabulary = self.matcher.vocabulary
        self.reader = load_reader(kb.root, vocabulary, own)
        self.crisis = CrisisDetector(
            kb.crisis,
            kb.crisis_exclusions,
            kb.crisis_together,
            kb.crisis_model,
            scope=kb.crisis_scope,
            known=vocabulary,
        )
        self.router = Router(kb)
        self.entries = kb.by_id
        commands: dict[str, str] = {}
        for name, phrases in kb.commands.items():
            for phrase in phrases:
                commands.setdefault(fold(phrase), name)
        self.commands = commands
        self.org_prefixes = sorted(
            (fold(p) for p in kb.commands.get("org", ()) if fold(p)), key=len, reverse=True
        )

    # ------------------------------------------------------------------ public API

    def reload(self, root: Path | None = None) -> KnowledgeBaseError | None:
        """Load the knowledge base again; on any error keep the current one.

        Returns:
            None when the new knowledge base is in use, else the error (file and line).
        """
        try:
            kb = load_knowledge_base(root or self.kb.root)
        except KnowledgeBaseError as exc:
            return exc
        self._use(kb)
        return None

    async def handle(self, msg: Message) -> Reply:
        """Answer one message of a conversation (the one entry point for adapters)."""
        started = time.perf_counter()
        state = await self.store.load(msg.conversation)
        reply = self._turn(msg, state, chat=True)
        if reply.kind is ReplyKind.FORGOTTEN:
            await self.store.delete(msg.conversation)
        else:
            await self.store.save(msg.conversation, state)
        self.metrics.turn(msg.conversation, reply.kind.value, time.perf_counter() - started)
        return reply

    def respond(self, msg: Message, state: State | None = None) -> Reply:
        """`handle` without waiting: `state` is given (for `ask`), or the store is memory."""
        if state is not None:
            return self._turn(msg, state, chat=False)
        if not isinstance(self.store, ConversationStore):
            raise TypeError("respond() without a state needs the memory store: await handle()")
        reply = self._turn(msg, self.store.get(msg.conversation), chat=True)
        if reply.kind is ReplyKind.FORGOTTEN:
            self.store.forget(msg.conversation)
        return reply

    def _turn(self, msg: Message, state: State, *, chat: bool) -> Reply:
        """One turn on `state`; `chat` is False for `ask` (no "did this help?", no figures)."""
        # "Did this help?" is answered by the very next message or not at all.
        pending, state.feedback_entry = state.feedback_entry, None
        verdict = _feedback.reading(self.kb, msg, pending) if chat else None
        if verdict is not None:
            helped, counts = verdict
            if counts and pending is not None and self.stats is not None:
                org = state.organisation
                self.stats.feedback(msg.conversation, org, pending, helped, self.entries)
            # The thanks keeps the choices of the answer, so "2" still opens a related entry.
            return _feedback.thanks(self.kb, state.lang or msg.lang_hint or "nl")
        reply = self._respond(msg, state)
        if chat:
            reply = _feedback.offer(self.kb, reply, state)
            if self.stats is not None:
                self.stats.reply(msg.conversation, state.organisation, reply, self.entries)
        state.choices = {c.number: c.action for c in reply.choices}
        return reply

    def ask(self, text: str, lang: Lang | None = None) -> Reply:
        """Answer one question with no history: the same path as a chat message."""
        state = State(lang=lang, lang_chosen=lang is not None)
        return self.respond(Message(conversation="ask", text=text), state)

    def welcome(self, lang: Lang = "nl") -> Reply:
        """The greeting for a new chat, with the privacy line."""
        return self._reply(
            ReplyKind.INFO, lang, self.kb.text("welcome", lang), choices=self._start_choices(lang)
        )

    def forget(self, conversation: str) -> None:
        """Drop all state of a conversation at once."""
        self.store.forget(conversation)

    # ------------------------------------------------------------------ the steps

    def _respond(self, msg: Message, state: State) -> Reply:
        raw = msg.text or ""
        truncated = len(raw) > MAX_MESSAGE_CHARS
        analysis = self.reader.read(raw[:MAX_MESSAGE_CHARS])
        guess, certainty = analysis.lang, analysis.certainty
        if not state.lang_chosen and guess is not None and (certainty >= 0.3 or state.lang is None):
            state.lang = guess
        lang: Lang = state.lang or msg.lang_hint or "nl"
        try:
            reply = self._route(msg, state, analysis, lang)
        finally:
            if self.decider.check is not None:
                self.decider.check.forget()
        if truncated:
            notice = self.kb.text("truncated", reply.lang, limit=MAX_MESSAGE_CHARS)
            reply = replace(reply, text=f"{notice}\n\n{reply.text}" if reply.text else notice)
        return reply

    def _route(self, msg: Message, state: State, analysis: Analysis, lang: Lang) -> Reply:
        text, folded, guess = analysis.text, analysis.folded, analysis.lang
        if msg.action:
            return self._action(msg.action, state, lang, msg.channel)
        if not has_words(text):
            return self._reply(
                ReplyKind.INVALID,
                lang,
                self.kb.text("invalid", lang),
                choices=self._start_choices(lang),
            )
        crisis = self.crisis.read(text, folded=folded)
        if crisis.signal == "model":
            return self._uncertain_crisis(state, text, lang, guess)
        if crisis.signal is not None:
            return self._crisis(lang, state, text, guess)
        if folded.isdigit() and len(folded) <= 3:
            action = state.choices.get(int(folded))
            if action is None:
                return self._reply(
                    ReplyKind.INFO,
                    lang,
                    self.kb.text("expired_choice", lang),
                    choices=self._start_choices(lang),
                )
            return self._action(action, state, lang, msg.channel)
        command = self.commands.get(folded)
        if command is not None:
            return self._action(COMMAND_ACTIONS.get(command, command), state, lang, msg.channel)
        for prefix in self.org_prefixes:
            if folded == prefix or folded.startswith(prefix + " "):
                rest = folded[len(prefix) :].strip()
                org = self.router.find_organisation(rest)
                if len(rest.split()) <= _ORG_COMMAND_WORDS:
                    return self._action(f"org:{org.id}" if org else "org", state, lang, msg.channel)
                # "Ik werk bij ... en mijn baas pest me" is a question that starts by
                # saying where the person works: keep the organisation if known, answer.
                if org is not None and msg.channel is not Channel.GROUP:
                    state.organisation = org.id
                break
        if msg.channel is Channel.GROUP:
            return self._group(lang)
        return self._answer_question(analysis, crisis, state, lang, guess)

    def _action(self, action: str, state: State, lang: Lang, channel: Channel) -> Reply:
        name, _, arg = action.partition(":")
        handler = self._actions.get(name)
        if handler is None:
            return self._reply(
                ReplyKind.INFO,
                lang,
                self.kb.text("expired_choice", lang),
                choices=self._start_choices(lang),
            )
        if channel is Channel.GROUP and name in PERSONAL_ACTIONS:
            return self._group(lang)
        return handler(self, arg, state, lang)

    # ------------------------------------------------------------------ matching

    def _answer_question(
        self, analysis: Analysis, crisis: Reading, state: State, lang: Lang, guess: Lang | None
    ) -> Reply:
        text = analysis.text
        if guess is None:
            guess = self.matcher.language_of(text)
            if guess is not None and not state.lang_chosen:
                lang = guess
                state.lang = state.lang or guess
        decision, other = self.decider.decide_message(analysis, self.reader, guess)
        best = decision.best
        if guess is None and not state.lang_chosen and best is not None:
            # No language signal at all: the index that matched decides.
            lang = best.lang
            state.lang = state.lang or lang
        check = self.decider.check
        if (
            decision.outcome == "answer"
            and best is not None
            and check is not None
            and not crisis.excluded
            and crisis.known
            and check.probe_crisis(analysis.topic, crisis.probability, answered=True)
        ):
            # An answer fits, but the crisis probe reads danger: as when the crisis model
            # alone sees it, the numbers come first and the answer under them.
            return self._under_notice(best.entry, state, lang, decision.confidence)
        if (
            decision.outcome != "answer"
            and check is not None
            and not crisis.excluded
            and crisis.known
            and check.crisis_like(analysis.topic, crisis.probability)
        ):
            # Neither the phrases nor the crisis model saw danger, and no answer fits, but
            # the sentence model reads it like the crisis examples (or nearly, and the
            # crisis model nearly agrees): numbers first.
            return self._crisis(lang, state, text, guess, "crisis_unsure", decision)
        external = self.router.wants_external(text, folded=analysis.folded)
        if best is None or decision.outcome == "unknown":
            log.debug("no confident match")
            if external:
                # Topic unclear, but the person says trust is gone: that alone decides who fits.
                ext = next((o.id for o in self.kb.triage if o.roles[:1] == ("external_vp",)), "")
                return self._do_talk(ext, state, lang)
            return self._unknown(lang)
        if decision.outcome == "elsewhere":
            return self._elsewhere(best.entry, lang, decision.confidence)
        if decision.outcome == "answer":
            reply = self._entry_reply(best.entry, state, lang, decision.confidence, external)
            if other is None:
                return reply
            # A second question in the same message: offered first among the choices.
            extra = Choice(1, other.entry.text(lang).title, f"entry:{other.entry.id}")
            rest = [c for c in reply.choices if c.action != extra.action][:3]
            choices = (extra, *(replace(c, number=i + 2) for i, c in enumerate(rest)))
            prompt = reply.choices_prompt or self.kb.text("related_prompt", lang)
            return replace(reply, choices=choices, choices_prompt=prompt)
        return self._clarify(decision.matches(), state, lang, decision.confidence, external, 0.0)

    def _entry_reply(
        self,
        entry: Entry,
        state: State,
        lang: Lang,
        confidence: float,
        external: bool = False,
        crisis: CrisisNotice | None = None,
    ) -> Reply:
        state.last_entry = entry.id
        t = entry.text(lang)
        routes = entry.routes
        if external:
            routes = ("external_vp", *[r for r in routes if r != "external_vp"])
        related = [self.entries[r] for r in entry.related if r in self.entries][:4]
        choices = tuple(
            Choice(i + 1, e.text(lang).title, f"entry:{e.id}") for i, e in enumerate(related)
        )
        return self._reply(
            ReplyKind.ANSWER,
            lang,
            t.answer,
            title=t.title,
            details=t.details,
            details_shown=state.counsellor or self.counsellors,
            entry=entry.id,
            confidence=confidence,
            sources=entry.sources,
            reviewed=entry.reviewed,
            routes=routes,
            with_contacts=state,
            choices=choices,
            choices_prompt=self.kb.text("related_prompt", lang) if choices else "",
            footer=self.kb.text("disclaimer", lang),
            crisis=crisis,
        )

    def _clarify(
        self,
        matches: list[Match],
        state: State,
        lang: Lang,
        confidence: float,
        external: bool,
        runner_up: float,
    ) -> Reply:
        choices = tuple(
            Choice(i + 1, m.entry.text(lang).title, f"entry:{m.entry.id}")
            for i, m in enumerate(matches)
        )
        # Only a crisis reply, or an answer about acting in danger, points to 112/113.
        routes = tuple(r for r in matches[0].entry.routes if r != "emergency")
        if external:
            routes = ("external_vp", *[r for r in routes if r != "external_vp"])
        return self._reply(
            ReplyKind.CLARIFY,
            lang,
            self.kb.text("clarify", lang),
            confidence=confidence,
            routes=routes,
            with_contacts=state,
            choices=choices,
            footer=self.kb.text("disclaimer", lang),
        )

    def _elsewhere(self, topic: Entry, lang: Lang, confidence: float) -> Reply:
        """A question Wegwijzer does not cover: say so and where it goes. No entries that
        merely share a word and no contacts, since nobody here handles it; only the way
        to what Wegwijzer does know."""
        t = topic.text(lang)
        return self._reply(
            ReplyKind.UNKNOWN,
            lang,
            f"{self.kb.text('elsewhere', lang)}\n\n{t.answer}",
            title=t.title,
            confidence=confidence,
            sources=topic.sources,
            choices=self._start_choices(lang)[:1],
        )

    def _unknown(self, lang: Lang) -> Reply:
        return self._reply(
            ReplyKind.UNKNOWN,
            lang,
            self.kb.text("unknown", lang),
            choices=self._start_choices(lang),
        )

    def _crisis(
        self,
        lang: Lang,
        state: State,
        text: str = "",
        guess: Lang | None = None,
        talk: str = "crisis_talk",
        decision: Decision | None = None,
    ) -> Reply:
        """112 / 113 first, then people to talk to.

        A message may also be a question about acting in danger, such as a counsellor
        whose reporter is at risk (an entry routed to `emergency`). If that question
        still stands once the alarm words are taken out, its answer comes with the notice
        on top; if it only matched through the alarm words ("ik heb zelfmoordgedachten"),
        it is offered as a choice. Other entries are not offered: measured on 370 crisis
        messages, the topic left once the alarm words are out was too often beside the
        point ("fraude" for "ik zie het niet meer zitten"), and next to someone's crisis
        that reads as not listening.
        """
        notice = self._crisis_notice(lang)
        choices = [Choice(1, self.kb.text("choice_talk", lang), "talk")]
        if decision is None:
            decision = self.decider.decide(text, guess) if text else Decision("unknown", 0.0, ())
        first = decision.best
        if first is not None and _answerable(decision) and "emergency" in first.entry.routes:
            entry = first.entry
            remainder = self.crisis.remainder(text)
            rest = self.decider.decide(remainder, guess)
            # A question "still stands" with a few words of its own, not one leftover
            # such as "gedachten" from "zelfmoordgedachten".
            stands = len(self.matcher.analyser.words(remainder, lang)) >= 3
            if stands and rest.best is not None and rest.best.entry is entry and _answerable(rest):
                return self._entry_reply(entry, state, lang, decision.confidence, crisis=notice)
            choices.append(Choice(2, entry.text(lang).title, f"entry:{entry.id}"))
        return self._reply(
            ReplyKind.CRISIS,
            lang,
            self.kb.text(talk, lang),
            crisis=notice,
            routes=("emergency", "bmw", "vpoo"),
            contacts=self.router.contacts(("bmw", "vpoo"), lang, state.organisation),
            contacts_intro=self.kb.text("label_contacts", lang),
            choices=tuple(choices),
        )

    def _uncertain_crisis(self, state: State, text: str, lang: Lang, guess: Lang | None) -> Reply:
        """Only the learned model saw danger: the numbers come first all the same, but a
        question the knowledge base answers with confidence is answered under them, so
        a false alarm ("the window won't close anymore") still gets its answer."""
        decision = self.decider.decide(text, guess)
        best = decision.best
        if best is None or decision.outcome != "answer":
            return self._crisis(lang, state, text, guess, "crisis_unsure", decision)
        return self._under_notice(best.entry, state, lang, decision.confidence)

    def _under_notice(self, entry: Entry, state: State, lang: Lang, confidence: float) -> Reply:
        """An entry's answer with 112/113 above it."""
        notice = self._crisis_notice(lang)
        reply = self._entry_reply(entry, state, lang, confidence, crisis=notice)
        routes = ("emergency", *[r for r in reply.routes if r != "emergency"])
        return replace(reply, routes=routes)

    def _crisis_notice(self, lang: Lang) -> CrisisNotice:
        return CrisisNotice(
            text=self.kb.text("crisis", lang),
            contacts=self.router.contacts(("emergency",), lang, None),
        )

    def _group(self, lang: Lang) -> Reply:
        return self._reply(
            ReplyKind.GROUP,
            lang,
            self.kb.text("group", lang),
            choices=(Choice(1, self.kb.text("group_open_direct", lang), ACTION_OPEN_DIRECT),),
        )


#: "ik werk bij <organisation>" is a command up to this many words after the prefix;
#: a longer message is a question.
_ORG_COMMAND_WORDS = 4


def _answerable(decision: Decision) -> bool:
    """The best entry would be answered outright, or nearly (an entry about acting in
    danger next to a crisis notice needs no "did you mean" between them)."""
    return decision.outcome == "answer"


def load_engine(root: Path) -> Engine:
    """Load a knowledge folder and build an engine on it."""
    return Engine(load_knowledge_base(root))
