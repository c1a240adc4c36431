"""Aspects of topics outside Wegwijzer (`aspects:` in knowledge/elsewhere.yaml).

Some questions name an entry's subject but ask about something another body answers:
"Hoeveel belasting betaal ik over mijn transitievergoeding?" is a tax question, however well
it matches the entry on the transition payment. A topic outside Wegwijzer lists such words;
`bot._decide.Decider.decide_message` sends a question holding one to that topic, unless the
entry the question points to speaks of that aspect itself (av-ikb-fiscale-doelen on
tax-free goals).
Its `details` do not count: they are the counsellors' legal quick answer, and a passing
mention there (av-thuiswerken's tax-free allowances) does not answer a tax question.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot._kb import Entry
from bot._lookup import Runs
from bot._text import fold


class Aspects:
    """The `aspects` of the topics outside Wegwijzer: words (tax on a payment) that make a
    question the topic's whatever subject it names, unless the entry the question points
    to deals with that aspect itself (its title, answer, questions or keywords use one of
    the aspects the question holds; its details do not count)."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._topics = [
            (topic, Runs(fold(a) for t in topic.texts.values() for a in t.aspects))
            for topic in entries
            if topic.outside and any(t.aspects for t in topic.texts.values())
        ]
        self._dealt: dict[tuple[str, tuple[str, ...]], bool] = {}
        self._folded: dict[str, list[list[str]]] = {}

    def owner(self, texts: Sequence[str], entry: Entry | None) -> Entry | None:
        """The outside topic one of `texts` asks about, when `entry` does not deal with it."""
        for text in texts if self._topics else ():
            words = fold(text).split()
            for topic, runs in self._topics:
                found = runs.found(words)
                # Per aspect, not per topic: the WW entry speaks of money "on unemployment
                # benefit", which does not make it the answer on the duties "tijdens de WW"
                # (measured: 4 more out-of-scope questions honest, no right answer lost).
                if found and not (entry and any(self._deals(entry, a) for a in found)):
                    return topic
        return None

    def _deals(self, entry: Entry, aspect: tuple[str, ...]) -> bool:
        key = (entry.id, aspect)
        known = self._dealt.get(key)
        if known is None:
            runs = Runs([" ".join(aspect)])
            known = entry.outside or any(runs.any_in(words) for words in self._words(entry))
            self._dealt[key] = known
        return known

    def _words(self, entry: Entry) -> list[list[str]]:
        """The folded words of each part of `entry` an aspect counts in, folded once."""
        words = self._folded.get(entry.id)
        if words is None:
            words = self._folded[entry.id] = [
                fold(part).split()
                for t in entry.texts.values()
                for part in (t.title, t.answer, *t.questions, *t.keywords)
            ]
        return words
