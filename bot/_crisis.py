"""Crisis detection: runs before anything else, on every message, in both languages.

A phrase from crisis.yaml matches when a window of the message of about the same number
of words is close to it (rapidfuzz ratio), so "ik wil nie meer leven" and "kil myself"
still count. Exclusions (crisis.yaml `not_crisis`) keep questions *about* danger, such as
a counsellor asking what to do, from being treated as the person's own crisis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz

from bot._text import fold
from bot._types import Lang

#: Similarity (0-100) a window needs to count as a crisis phrase.
THRESHOLD = 86.0


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
        if any(_contains(words, folded, e) for e in self.exclusions):
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
    # Cheap C++ pre-check on the whole text; the word windows below decide.
    if not fuzz.partial_ratio(phrase, folded, score_cutoff=THRESHOLD - 8):
        return False
    for size in {max(1, n - 1), n, n + 1}:
        for start in range(0, max(1, len(words) - size + 1)):
            window = " ".join(words[start : start + size])
            if fuzz.ratio(window, phrase) >= THRESHOLD:
                return True
    return False
