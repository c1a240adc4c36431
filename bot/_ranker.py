"""The learned second signal for ranking: a linear model over words and character n-grams.

It is trained at load time from the knowledge base's own titles, questions and keywords
(no model file to go stale when coordinators edit entries): each entry becomes one TF-IDF
vector over the words, word pairs and character 3-5-grams of each word of its phrasings
(a nearest-centroid classifier, closed-form), and a question scores the cosine with every
entry through an inverted index. Character n-grams carry what the hand-written analysis
cannot list: other word endings, compounds, typos. (The mean of unit vectors per phrasing
measured the same on tune, 56 against 55 right of 77, lower on the project's sets, and
trained slower.)

Features are hashed (32-bit CRC, the same in every process), so neither training nor
the index keeps a dictionary of strings (at 100 times the bundled knowledge base a
dictionary per feature took gigabytes), and rows are given only to the hashes the
knowledge base uses (a fixed space of 2**20 rows lost a tune question to collisions and
its arrays doubled the bot's memory). Training is deterministic and costs about
as much as the word index. Nothing of a question is kept.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import numpy.typing as npt

#: Character n-gram lengths taken from each word (with a boundary mark on both sides).
NGRAMS = (3, 4, 5)
#: Longer "words" are pasted data, not words: no n-grams from them.
_MAX_WORD = 40
#: Relative weight of the feature families (whole words carry the most meaning).
_WORD_WEIGHT = 1.0
_PAIR_WEIGHT = 0.6
_GRAM_WEIGHT = 0.35
#: A feature in more than this share of the entries says nothing about which one fits,
#: and would make every look-up touch every entry: left out of the index.
_MAX_DF_SHARE = 0.3

#: Most postings one question reads (about a millisecond of array work).
_BUDGET = 60_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _h(feature: str) -> int:
    return zlib.crc32(feature.encode())


def grams(word: str) -> list[str]:
    """The character n-grams of one word, boundaries marked."""
    if len(word) > _MAX_WORD:
        return []
    marked = f"<{word}>"
    return [marked[i : i + n] for n in NGRAMS for i in range(len(marked) - n + 1)]


class Ranker:
    """Cosine of a question with each entry's TF-IDF vector."""

    def __init__(self, size: int, phrasings: Sequence[tuple[int, list[str]]]) -> None:
        """Train on the phrasings.

        Args:
            size: How many entries (entry indexes run 0..size-1).
            phrasings: (entry index, content words) for every title, question and
                keyword, grouped by entry.
        """
        self.size = size
        cache: dict[str, list[int]] = {}
        # Per entry: its distinct features and their summed weights (term frequency).
        per_entry: list[tuple[int, IntArray, npt.NDArray[np.float32]]] = []
        ids: list[int] = []
        weights: list[float] = []
        current = -1
        for i, words in [*phrasings, (-2, [])]:
            if i != current:
                if ids:
                    uniq, inverse = np.unique(np.array(ids, dtype=np.int64), return_inverse=True)
                    tf = np.bincount(
                        inverse, weights=np.array(weights), minlength=len(uniq)
                    ).astype(np.float64)
                    per_entry.append((current, uniq, tf.astype(np.float32)))
                current, ids, weights = i, [], []
            self._add(words, ids, weights, cache)
        #: The hashed features of the knowledge base's own words, as training made them.
        self._hashes = cache
        # The features the knowledge base uses, sorted: a feature's place in this array is
        # its row in the index (memory grows with the knowledge base, not a fixed space).
        self._features: IntArray = np.unique(
            np.concatenate([f for _, f, _ in per_entry]) if per_entry else np.zeros(0, np.int64)
        )
        df = np.zeros(len(self._features), dtype=np.int64)
        for _, feats, _ in per_entry:
            df[np.searchsorted(self._features, feats)] += 1
        n = max(size, 1)
        #: IDF by feature row; a feature no entry has gets `unknown_idf` (it counts in a
        #: question's norm: what the knowledge base never says is another topic).
        self._idf: FloatArray = np.log((1 + n) / (1 + df)) + 1.0
        self.unknown_idf = math.log(1 + n) + 1.0
        indexed = df <= max(3, int(_MAX_DF_SHARE * n))
        rows: list[IntArray] = []
        cols: list[npt.NDArray[np.int32]] = []
        vals: list[npt.NDArray[np.float32]] = []
        for i, feats, counts in per_entry:
            at = np.searchsorted(self._features, feats)
            w = _sublinear(counts.astype(np.float64)) * self._idf[at]
            norm = float(np.sqrt(np.dot(w, w)))
            keep = indexed[at]
            if norm <= 0 or not keep.any():
                continue
            rows.append(at[keep])
            vals.append((w[keep] / norm).astype(np.float32))
            cols.append(np.full(int(keep.sum()), i, dtype=np.int32))
        del per_entry
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        order = np.argsort(row, kind="stable")
        self._entry = (np.concatenate(cols) if cols else np.zeros(0, np.int32))[order]
        self._weight = (np.concatenate(vals) if vals else np.zeros(0, np.float32))[order]
        #: Where each feature row's postings start in _entry and _weight.
        self._start: IntArray = np.zeros(len(self._features) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(self._features)), out=self._start[1:])

    @staticmethod
    def _add(
        words: Sequence[str], ids: list[int], weights: list[float], cache: dict[str, list[int]]
    ) -> None:
        """Append the hashed features of one text (content words) to ids and weights."""
        for word in words:
            hashed = cache.get(word)
            if hashed is None:
                hashed = [_h("w" + word), *map(_h, grams(word))]
                cache[word] = hashed
            ids.extend(hashed)
            weights.append(_WORD_WEIGHT)
            weights.extend([_GRAM_WEIGHT] * (len(hashed) - 1))
        for a, b in pairwise(words):
            ids.append(_h(f"p{a} {b}"))
            weights.append(_PAIR_WEIGHT)

    def scores(self, words: Sequence[str]) -> FloatArray:
        """Cosine (0..1) of the question with every entry, by entry index.

        The question's norm counts the features the knowledge base never uses too, so a
        question that is mostly about something else scores low everywhere.
        """
        out: FloatArray = np.zeros(self.size, dtype=np.float64)
        ids: list[int] = []
        weights: list[float] = []
        # Words of the knowledge base are hashed once, at training; others afresh each
        # time (the dict is this call's own: nothing of the question stays).
        own = self._hashes
        self._add(words, ids, weights, {w: own[w] for w in words if w in own})
        if not ids:
            return out
        # Summed per feature in order, as bincount would: a hundred features add up
        # faster in a dict than through np.unique.
        summed: dict[int, float] = {}
        for feature, weight in zip(ids, weights, strict=True):
            summed[feature] = summed.get(feature, 0.0) + weight
        features = sorted(summed)
        uniq = np.array(features, dtype=np.int64)
        tf = np.array([summed[f] for f in features], dtype=np.float64)
        feats = self._features
        at = np.minimum(np.searchsorted(feats, uniq), max(len(feats) - 1, 0))
        known = feats[at] == uniq if len(feats) else np.zeros(len(uniq), dtype=bool)
        idf = np.where(known, self._idf[at] if len(feats) else 0.0, self.unknown_idf)
        q_all = _sublinear(tf) * idf
        norm = float(np.sqrt(np.dot(q_all, q_all)))
        if norm <= 0 or not known.any():
            return out
        at, q = at[known], q_all[known]
        starts = self._start[at]
        lens = self._start[at + 1] - starts
        total = int(lens.sum())
        if total == 0:
            return out
        if total > _BUDGET:
            # A very large knowledge base: the features shared by the most entries (the
            # least telling ones) are left out first, so a look-up stays bounded.
            order = np.argsort(lens, kind="stable")
            keep = order[np.cumsum(lens[order]) <= _BUDGET]
            q, starts, lens = q[keep], starts[keep], lens[keep]
            total = int(lens.sum())
            if total == 0:
                return out
        # All posting ranges gathered in a few array operations, however many features.
        pos = np.arange(total, dtype=np.int64) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
        vals = self._weight[pos] * np.repeat(q / norm, lens)
        out += np.bincount(self._entry[pos], weights=vals, minlength=self.size)
        return out


def _sublinear(tf: FloatArray) -> FloatArray:
    """1 + log(tf) for counts of one or more; a lone light feature keeps its weight."""
    safe = np.maximum(tf, 1e-12)
    return np.where(tf >= 1, 1.0 + np.log(safe), tf)
