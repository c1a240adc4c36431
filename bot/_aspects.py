"""Aspects of topics outside Wegwijzer (`aspects:` in knowledge/elsewhere.yaml).

Some questions name an entry's subject but ask about something another body answers:
"Hoeveel belasting betaal ik over mijn transitievergoeding?" is a tax question, however well
it matches the entry on the transition payment. A topic outside Wegwijzer lists such words;
`bot._decide.Decider.decide_message` sends a question holding one to that topic, unless the
entry the question points to speaks of the aspect itself (av-ikb-fiscale-doelen on tax).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot._kb import Entry
from bot._text import fold


class Aspects:
    """The `aspects` of the topics outside Wegwijzer: words (tax on a payment) that make a
    question the topic's whatever subject it names, unless the entry the question points
    to deals with the aspect itself (its texts use one of them)."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._phrases: list[tuple[tuple[str, ...], Entry]] = []
        self._own: dict[str, list[tuple[str, ...]]] = {}
        for topic in entries:
            if not topic.outside:
                continue
            phrases = {
                tuple(f.split()) for t in topic.texts.values() for a in t.aspects if (f := fold(a))
            }
            self._phrases.extend((p, topic) for p in sorted(phrases))
            self._own[topic.id] = sorted(phrases)
        self._dealt: dict[tuple[str, str], bool] = {}

    def owner(self, texts: Sequence[str], entry: Entry | None) -> Entry | None:
        """The outside topic one of `texts` asks about, when `entry` does not deal with it."""
        if not self._phrases:
            return None
        for text in texts:
            words = fold(text).split()
            for phrase, topic in self._phrases:
                if _holds(words, phrase) and not (entry and self._deals(entry, topic)):
                    return topic
        return None

    def _deals(self, entry: Entry, topic: Entry) -> bool:
        key = (entry.id, topic.id)
        known = self._dealt.get(key)
        if known is None:
            phrases = self._own.get(topic.id, [])
            texts = [
                fold(part).split()
                for t in entry.texts.values()
                for part in (t.title, t.answer, t.details, *t.questions, *t.keywords)
            ]
            known = entry.outside or any(_holds(w, p) for w in texts for p in phrases)
            self._dealt[key] = known
        return known


def _holds(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    """Whether `phrase` occurs in `words` as a run."""
    n = len(phrase)
    first = phrase[0]
    return any(w == first and tuple(words[i : i + n]) == phrase for i, w in enumerate(words))
