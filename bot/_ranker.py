"""The learned second signal for ranking: a linear model over words and character n-grams.

It is trained at load time from the knowledge base's own titles, questions and keywords
(no model file to go stale when coordinators edit entries): each phrasing becomes a
TF-IDF vector over its words, word pairs and character 3-5-grams of each word, and each
entry is the normalised sum of its phrasings (a nearest-centroid classifier). A question
scores the cosine with every entry through an inverted index. Character n-grams carry
what the hand-written analysis cannot list: other word endings, compounds, typos.

Training is closed-form and deterministic (sorted features, `math.fsum`), and costs about
as much as building the word index. Nothing of a question is kept.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from bot._kb import Entry
from bot._types import LANGS

#: Character n-gram lengths taken from each word (with a boundary mark on both sides).
NGRAMS = (3, 4, 5)
#: Longer "words" are pasted data, not words: no n-grams from them.
_MAX_WORD = 40
#: Relative weight of the feature families (whole words carry the most meaning).
_WORD_WEIGHT = 1.0
_PAIR_WEIGHT = 0.6
_GRAM_WEIGHT = 0.35
#: A feature in more than this share of the entries says nothing about which one fits,
#: and would make every look-up touch every entry: left out.
_MAX_DF_SHARE = 0.3

FloatArray = npt.NDArray[np.float64]


def features(words: Sequence[str]) -> dict[str, float]:
    """Weighted features of a text given as content words (folded, synonyms mapped)."""
    out: dict[str, float] = defaultdict(float)
    for word in words:
        out["w" + word] += _WORD_WEIGHT
        if len(word) > _MAX_WORD:
            continue
        marked = f"<{word}>"
        for n in NGRAMS:
            for i in range(len(marked) - n + 1):
                out[marked[i : i + n]] += _GRAM_WEIGHT
    for a, b in zip(words, words[1:], strict=False):
        out[f"p{a} {b}"] += _PAIR_WEIGHT
    return out


class Ranker:
    """Cosine of a question with each entry's centroid of TF-IDF phrasing vectors."""

    def __init__(self, entries: Sequence[Entry], words_of: Iterable[tuple[int, list[str]]]) -> None:
        """Train on the phrasings.

        Args:
            entries: The knowledge base's entries (the order gives the entry index).
            words_of: (entry index, content words) for every title, question and keyword.
        """
        self.size = len(entries)
        phrasings = [(i, features(words)) for i, words in words_of if words]
        df: Counter[str] = Counter()
        entry_df: dict[str, set[int]] = defaultdict(set)
        for i, feats in phrasings:
            df.update(feats.keys())
            for f in feats:
                entry_df[f].add(i)
        n = max(len(phrasings), 1)
        limit = max(3, int(_MAX_DF_SHARE * max(self.size, 1)))
        self.idf = {f: math.log((1 + n) / (1 + c)) + 1.0 for f, c in df.items()}
        common = {f for f, es in entry_df.items() if len(es) > limit}
        centroids: list[dict[str, float]] = [defaultdict(float) for _ in entries]
        for i, feats in phrasings:
            vec = self._weigh(feats)
            for f, w in vec.items():
                centroids[i][f] += w
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, cent in enumerate(centroids):
            norm = math.sqrt(math.fsum(w * w for w in cent.values()))
            if norm <= 0:
                continue
            for f in sorted(cent.keys() - common):
                postings[f].append((i, cent[f] / norm))
        self._postings: dict[str, tuple[npt.NDArray[np.int32], FloatArray]] = {
            f: (
                np.fromiter((i for i, _ in ps), dtype=np.int32, count=len(ps)),
                np.fromiter((w for _, w in ps), dtype=np.float64, count=len(ps)),
            )
            for f, ps in postings.items()
        }

    def _weigh(self, feats: dict[str, float]) -> dict[str, float]:
        """Sublinear TF x IDF, unit length; features the model does not know drop out."""
        idf = self.idf
        vec = {f: (1.0 + math.log(tf)) * idf[f] if tf >= 1 else tf * idf[f]
               for f, tf in feats.items() if f in idf}
        norm = math.sqrt(math.fsum(w * w for w in vec.values()))
        return {f: w / norm for f, w in vec.items()} if norm > 0 else {}

    def scores(self, words: Sequence[str]) -> FloatArray:
        """Cosine (0..1) of the question with every entry, by entry index.

        The question's norm counts the features the model does not know too, so a
        question that is mostly about something else scores low everywhere.
        """
        feats = features(words)
        known = self._weigh_all(feats)
        out: FloatArray = np.zeros(self.size, dtype=np.float64)
        if not known:
            return out
        idx = [self._postings[f] for f in known if f in self._postings]
        if not idx:
            return out
        rows = np.concatenate([p[0] for p in idx])
        weights = np.concatenate([p[1] * known[f] for f, p in zip(
            (f for f in known if f in self._postings), idx, strict=True)])
        out += np.bincount(rows, weights=weights, minlength=self.size)
        return out

    def _weigh_all(self, feats: dict[str, float]) -> dict[str, float]:
        # Unknown features weigh as the rarest known one would: their share of the norm
        # is what tells "about something else" from "about this".
        unknown_idf = math.log(1 + max(len(self.idf), 1)) + 1.0
        vec: dict[str, float] = {}
        sq = 0.0
        for f, tf in feats.items():
            w = (1.0 + math.log(tf)) if tf >= 1 else tf
            idf = self.idf.get(f)
            w *= unknown_idf if idf is None else idf
            sq += w * w
            if idf is not None:
                vec[f] = w
        norm = math.sqrt(sq)
        return {f: w / norm for f, w in vec.items()} if norm > 0 else {}


__all__ = ["LANGS", "Ranker", "features"]
