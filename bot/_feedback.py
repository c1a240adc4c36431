""" "Did this help?": offered after an answer, read from the very next message only.

The question is light on purpose: it follows only a plain answer (never a crisis reply,
a command, "did you mean" or "I don't know"), it is asked once per answer, and a
person who ignores it simply goes on: any other message is read as usual and the offer
lapses. Only "helped" or "did not help" is counted, per entry, never any words.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from bot._kb import KnowledgeBase
from bot._state import State
from bot._text import clean_input, fold
from bot._types import LANGS, FeedbackSection, Lang, Message, Reply, ReplyKind

ACTION_YES = "feedback:yes"
ACTION_NO = "feedback:no"
#: Every text key this module needs (texts.yaml, both languages).
TEXT_KEYS = ("feedback_prompt", "feedback_hint", "feedback_yes", "feedback_no", "feedback_thanks")


def offer(kb: KnowledgeBase, reply: Reply, state: State) -> Reply:
    """Add the question to a plain answer and remember which entry it is about."""
    if reply.kind is not ReplyKind.ANSWER or reply.crisis is not None or not reply.entry:
        return reply
    lang = reply.lang
    state.feedback_entry = reply.entry
    section = FeedbackSection(
        prompt=kb.text("feedback_prompt", lang),
        # The entry rides along so a button pressed on an older answer cannot be
        # counted for a newer one.
        yes_action=f"{ACTION_YES}:{reply.entry}",
        no_action=f"{ACTION_NO}:{reply.entry}",
        yes_label=kb.text("feedback_yes", lang),
        no_label=kb.text("feedback_no", lang),
        hint=kb.text("feedback_hint", lang),
    )
    return replace(reply, feedback=section)


def reading(kb: KnowledgeBase, msg: Message, pending: str | None) -> tuple[bool, bool] | None:
    """Whether `msg` answers "did this help?", as (helped, counts).

    Returns None when the message is not a feedback answer at all: then it is read as
    any other message. A typed ja/nee/yes/no is an answer only while an offer is
    pending; a button (`feedback:yes[:entry]`) always gets the thanks, but is counted
    only for the answer it was offered with.
    """
    if msg.action:
        name, _, rest = msg.action.partition(":")
        if name != "feedback":
            return None
        verdict, _, entry = rest.partition(":")
        if verdict not in ("yes", "no"):
            return None
        counts = pending is not None and entry in ("", pending)
        return verdict == "yes", counts
    if pending is None:
        return None
    folded = fold(clean_input(msg.text or ""))
    if folded in _words(kb, "feedback_yes"):
        return True, True
    if folded in _words(kb, "feedback_no"):
        return False, True
    return None


def thanks(kb: KnowledgeBase, lang: Lang) -> Reply:
    """The one-line thanks; nothing else changes for the person."""
    return Reply(kind=ReplyKind.INFO, lang=lang, text=kb.text("feedback_thanks", lang))


def _words(kb: KnowledgeBase, key: str) -> frozenset[str]:
    return _folded(tuple(kb.text(key, lang) for lang in LANGS))


@functools.lru_cache(maxsize=64)
def _folded(texts: tuple[str, ...]) -> frozenset[str]:
    """The knowledge base's wordings folded (keyed by those wordings, never by a message)."""
    return frozenset(fold(t) for t in texts)
