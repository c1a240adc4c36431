"""Crisis detection: runs before anything else, on every message, in both languages.

A phrase from crisis.yaml matches when a window of the message of about the same number
of words is within a few edits of it, compared with the spaces taken out, so
"ik wil nie meer leven", "kil my self" and "zelfmoordgedachten" still count. Edits are
counted (a swap of two letters is one), not a similarity ratio: a ratio forgives a whole
different word in a long phrase ("ik wil niet meer in dit team" is no crisis), an edit
budget does not.
Exclusions (crisis.yaml `not_crisis`) keep questions *about* danger, such as a counsellor
asking what to do, from being treated as the person's own crisis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from bot._text import fold
from bot._types import Lang


def allowed_edits(length: int) -> int:
    """Typos forgiven in a phrase of `length` letters (spaces not counted)."""
    if length < 6:
        return 0
    if length < 12:
        return 1
    if length < 20:
        return 2
    return 3


class CrisisDetector:
    """Finds acute-danger language in a message."""

    def __init__(
        self,
        phrases: Mapping[Lang, Iterable[str]],
        exclusions: Mapping[Lang, Iterable[str]] | None = None,
    ) -> None:
        self.phrases = sorted(
            {f for ps in phrases.values() for p in ps if (f := fold(p))}, key=len, reverse=True
        )
        self.exclusions = sorted(
            {f for ps in (exclusions or {}).values() for p in ps if (f := fold(p))}
        )

    def is_crisis(self, text: str) -> bool:
        """True when `text` holds a crisis phrase (with small typos) and no exclusion."""
        folded = fold(text)
        if not folded:
            return False
        words = folded.split()
        if any(f" {e} " in f" {folded} " for e in self.exclusions):
            return False
        return any(_contains(words, folded, p) for p in self.phrases)


def _contains(words: list[str], folded: str, phrase: str) -> bool:
    if f" {phrase} " in f" {folded} ":
        return True
    n = phrase.count(" ") + 1
    if n == 1 and len(phrase) >= 7 and phrase in folded:
        return True  # inside a Dutch compound: "zelfmoordgedachten"
    if n == 1 and len(phrase) < 5:
        return False  # short single words only match exactly: too many near misses
    target = phrase.replace(" ", "")
    budget = allowed_edits(len(target))
    if budget == 0:
        return False
    # Cheap C++ pre-check on the whole text; the word windows below decide.
    if not fuzz.partial_ratio(phrase, folded, score_cutoff=75):
        return False
    # Short words carry the meaning of a phrase ("is nu in gevaar" is not "is in gevaar"),
    # and deleting one costs only two edits: they must be there as they are.
    short = [w for w in phrase.split() if len(w) <= 2]
    for size in {max(1, n - 1), n, n + 1}:
        for start in range(0, max(1, len(words) - size + 1)):
            window_words = words[start : start + size]
            if any(w not in window_words for w in short):
                continue
            window = "".join(window_words)
            if abs(len(window) - len(target)) > budget:
                continue
            if OSA.distance(window, target, score_cutoff=budget) <= budget:
                return True
    return False
