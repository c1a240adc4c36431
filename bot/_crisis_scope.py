"""When soft crisis wording is about work: crisis.yaml `work_scope` (issue 11, round 4).

"Ik zie het niet meer zitten met dit project, mag ik wisselen?" uses a crisis phrase bound
to a work object. The detector (bot/_crisis.py) finds each match's words; this module
says whether the message may be scoped at all and whether a match is bound to work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot._text import LIGHT_WORDS, STOPWORDS, stem
from bot._types import LANGS, Lang

#: Everyday words: never a list word's stand-in through stemming.
_COMMON = frozenset().union(*STOPWORDS.values(), *LIGHT_WORDS.values())
#: A binding word must come within this many words after a match ...
_BIND_AFTER = 5
#: ... and a work object within this many words after the binding word.
_OBJECT_AFTER = 5


@dataclass(frozen=True, slots=True)
class WorkScope:
    """crisis.yaml `work_scope`, both languages together (folded words).

    `binders` tie what follows to a match ("met", "in", "when", "omdat"); `objects` are
    work things ("project", "team", stems count too), `people` work people
    ("leidinggevende"): a person binds only behind a binding word, never inside or
    before a match ("mijn collega heeft een mes");
    `beyond` words make a message about more than work ("leven", "thuis", "not just the
    job"): with one, nothing is scoped; `asks` mark a question ("kan ik", "can i"), as
    does a question mark.
    """

    binders: frozenset[str]
    objects: frozenset[str]
    people: frozenset[str]
    beyond: frozenset[str]
    beyond_runs: tuple[tuple[str, ...], ...]
    asks: tuple[tuple[str, ...], ...]

    @classmethod
    def from_lists(cls, lists: Mapping[Lang, Mapping[str, Sequence[str]]]) -> WorkScope:
        def words(key: str) -> list[str]:
            return [w for by_lang in lists.values() for w in by_lang.get(key, ()) if w]

        def forms(key: str) -> frozenset[str]:
            # As for the `together` rules, a stem that is an everyday word is no stand-in
            # for the word: the English stemmer makes "die" of "dying", the Dutch one
            # "weer" of "geweer".
            out = set()
            for w in words(key):
                if " " in w:
                    continue
                out.add(w)
                out.update(f for f in _forms(w) if f not in _COMMON and f[:2] == w[:2])
            return frozenset(out)

        return cls(
            binders=frozenset(words("binders")),
            objects=forms("objects"),
            people=forms("people"),
            beyond=forms("beyond"),
            beyond_runs=tuple(tuple(w.split()) for w in words("beyond") if " " in w),
            asks=tuple(tuple(w.split()) for w in words("asks")),
        )

    def applies(self, text: str, words: Sequence[str]) -> bool:
        """Whether a message may be scoped at all: it asks something and nothing in it
        reaches beyond work."""
        forms = {f for w in words for f in _forms(w)}
        work = self.objects | self.people
        if not work or not self.beyond.isdisjoint(forms):
            return False
        if work.isdisjoint(forms) and not any(self._is(w, work) for w in words):
            return False
        if any(_has_run(words, phrase) for phrase in self.beyond_runs):
            return False
        return "?" in text or any(_has_run(words, phrase) for phrase in self.asks)

    def _is(self, word: str, kinds: frozenset[str]) -> bool:
        """Whether a word is one of `kinds`, by its forms or as the last part of a Dutch
        compound ("dienstroosters", "werkoverleg")."""
        if not _forms(word).isdisjoint(kinds):
            return True
        return len(word) > 7 and any(
            word.endswith(k) for k in kinds if len(k) >= 5 and len(word) - len(k) >= 3
        )

    def bound(self, words: Sequence[str], start: int, end: int) -> bool:
        """Whether the match words[start..end] is about work: a work thing inside it or
        right before it ("het pesten stopt voorgoed"), or a work thing or person behind a
        binding word just after it."""
        inside = words[max(0, start - 1) : end + 1]
        if any(self._is(w, self.objects) for w in inside):
            return True
        work = self.objects | self.people
        for j in range(end + 1, min(len(words), end + 1 + _BIND_AFTER)):
            if words[j] in self.binders and any(
                self._is(w, work) for w in words[j + 1 : j + 1 + _OBJECT_AFTER]
            ):
                return True
        return False


def _has_run(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in words
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def _forms(word: str) -> set[str]:
    """A folded word as written and as its Dutch and English stem."""
    return {word, *(stem(word, lang) for lang in LANGS)}
