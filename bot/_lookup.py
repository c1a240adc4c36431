"""Look-up structures built once from the knowledge base, so a turn does less work.

Each one gives exactly the answer of the plain way it replaces (a regular expression of
all phrases, a typo search over every word, a comparison with every phrase); it only
skips what cannot match. Nothing of a message is kept: all they hold is derived from
the knowledge base.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Protocol

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Levenshtein


class Runs:
    """Phrases (folded) found as a run of whole words, one look-up per message word: the
    same as finding " phrase " in " folded text " for text as `fold` writes it."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for p in phrases:
            words = tuple(p.split())
            if words:
                self._by_first[words[0]].append(words)

    def any_in(self, words: Sequence[str]) -> bool:
        by_first = self._by_first
        for i, word in enumerate(words):
            for run in by_first.get(word, ()):
                if tuple(words[i : i + len(run)]) == run:
                    return True
        return False

    def found(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """The phrases in `words`, in the order they start (`any_in` keeps its own loop:
        it stops at the first and runs for every message)."""
        by_first = self._by_first
        return [
            run
            for i, word in enumerate(words)
            for run in by_first.get(word, ())
            if tuple(words[i : i + len(run)]) == run
        ]


class Substrings:
    """Whether text holds any of the strings anywhere: one look-up of the first few
    letters at each place, then a comparison only where a string starts that way."""

    def __init__(self, strings: Iterable[str]) -> None:
        strings = [t for t in strings if t]
        self._size = min(map(len, strings), default=0)
        self._by_start: dict[str, list[str]] = defaultdict(list)
        for t in sorted(strings):
            self._by_start[t[: self._size]].append(t)

    def any_in(self, text: str) -> bool:
        size, by_start = self._size, self._by_start
        if not by_start:
            return False
        for i in range(len(text) - size + 1):
            for t in by_start.get(text[i : i + size], ()):
                if text.startswith(t, i):
                    return True
        return False


class GramFilter:
    """Which targets a text could hold within their edit budget, by counting bigrams.

    An edit changes at most two of a target's bigrams, a swap of two letters three
    (the q-gram lemma), so a target within `edits` of some substring of a text shares at
    least `len - 1 - 3 * edits` bigrams with the text, counted with repeats. Targets
    that share fewer are left out; the rest still need the real comparison.
    """

    def __init__(self, targets: Sequence[str], edits: Sequence[int]) -> None:
        # One row per bigram and repeat ("ee" twice is two rows): row (g, j) marks the
        # targets holding g at least j times, so the rows a text picks by its own
        # counts add up, per target, to the bigrams shared counted with repeats.
        rows: dict[str, list[int]] = defaultdict(list)
        marks: list[list[int]] = []
        for k, target in enumerate(targets):
            for g, n in Counter(bigrams(target)).items():
                for j in range(n):
                    if j == len(rows[g]):
                        rows[g].append(len(marks))
                        marks.append([])
                    marks[rows[g][j]].append(k)
        matrix = np.zeros((max(len(marks), 1), len(targets)), dtype=np.float32)
        for r, ks in enumerate(marks):
            matrix[r, ks] = 1.0
        self._rows = dict(rows)
        self._matrix = matrix
        need = [len(t) - 1 - 3 * e for t, e in zip(targets, edits, strict=True)]
        self._need = np.array(need, dtype=np.float32)
        self._always = [k for k, n in enumerate(need) if n <= 0]

    def possible(self, text: str) -> list[int]:
        """Indexes (ascending) of the targets that may be within budget of part of `text`."""
        rows = self._rows
        counts = Counter(bigrams(text)).items()
        picked = [r for g, n in counts if (rs := rows.get(g)) for r in rs[:n]]
        if not picked:
            return self._always
        shared = self._matrix[picked].sum(axis=0)
        found: list[int] = np.flatnonzero(shared >= self._need).tolist()
        return found


def bigrams(text: str) -> map[str]:
    return map(str.__add__, text, text[1:])


def by_length(
    words: Sequence[str], edits: tuple[int, int, int], lengths: Iterable[int]
) -> dict[int, list[str]]:
    """For each length, the words within its edit budget in length, in their order.

    `edits` is (from, below, at or above): the budget is `below` edits for a length
    under `from`, else `at or above`.

    A word more edits away in length is more edits away in spelling, so a search for the
    closest words over these finds the same ones as over all, in the same order (ties
    go to the earlier word either way).
    """
    sizes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for place, w in enumerate(words):
        sizes[len(w)].append((place, w))
    out: dict[int, list[str]] = {}
    for size in lengths:
        budget = edits[1] if size < edits[0] else edits[2]
        near = [sizes[n] for n in range(size - budget, size + budget + 1) if n in sizes]
        # Back in the words' own order: a few runs, each in order already.
        out[size] = [w for _, w in sorted(chain.from_iterable(near))]
    return out


def term_bits(term_sets: Iterable[Iterable[str]]) -> dict[str, int]:
    """For each term, which of the sets hold it: bit k for the k-th set."""
    out: dict[str, int] = {}
    for k, terms in enumerate(term_sets):
        for t in terms:
            out[t] = out.get(t, 0) | 1 << k
    return out


class Phrasing(Protocol):
    @property
    def terms(self) -> frozenset[str]: ...
    @property
    def weight(self) -> float: ...


def best_dice(
    qterms: set[str],
    qweight: float,
    phrasings: Sequence[Phrasing],
    bits: dict[str, int],
    idf: dict[str, float],
) -> tuple[float, int]:
    """The highest weighted Dice of the question with one of an entry's phrasings, and
    the place of the first phrasing that has it (-1: none shares a term). Only the
    phrasings that share a term are visited (`bits` from `term_bits`), in their order."""
    sim, best = 0.0, -1
    mask = 0
    for term in qterms:
        mask |= bits.get(term, 0)
    while mask:  # each set bit, lowest first
        low = mask & -mask
        mask ^= low
        k = low.bit_length() - 1
        p = phrasings[k]
        shared = math.fsum(map(idf.__getitem__, qterms & p.terms))
        if shared <= 0:
            continue
        dice = 2.0 * shared / (qweight + p.weight)
        if dice > sim:
            sim, best = dice, k
    return sim, best


class OneEdit:
    """The words within one edit of a word, listed as `process.extract` with
    `Levenshtein.distance` and `score_cutoff=1` lists them: closest first, then in the
    words' order. Found through one-letter deletions (a word within one edit of another
    shares a deletion with it, or is one), so only a handful are compared instead of
    all. Holds only the words given (the knowledge base's)."""

    def __init__(self, words: Sequence[str], lengths: range) -> None:
        self._words = list(words)
        self._by_deletion: dict[str, list[int]] = defaultdict(list)
        for place, w in enumerate(self._words):
            if len(w) in lengths:
                for d in _deletions(w):
                    self._by_deletion[d].append(place)

    def extract(self, word: str, limit: int) -> list[tuple[str, int, int]]:
        """(word, edits, place) of the closest words, at most `limit`."""
        places: set[int] = set()
        for d in _deletions(word):
            places.update(self._by_deletion.get(d, ()))
        found = []
        for place in places:
            w = self._words[place]
            edits = Levenshtein.distance(word, w, score_cutoff=1)
            if edits <= 1:
                found.append((edits, place, w))
        found.sort()
        return [(w, edits, place) for edits, place, w in found[:limit]]


def _deletions(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


#: From this many postings in all, coverage is summed with numpy (same sums, same order).
_ARRAY_POSTINGS = 2000
#: Terms with this many postings keep them as arrays too (only large knowledge bases).
ARRAY_TERM = 256


def posting_arrays(
    postings: dict[str, list[tuple[int, float]]],
) -> dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """The long posting lists as arrays, for `top_coverage`."""
    return {
        t: (np.array([i for i, _ in ps], dtype=np.int64), np.array([w for _, w in ps]))
        for t, ps in postings.items()
        if len(ps) >= ARRAY_TERM
    }


def top_coverage(
    postings: dict[str, list[tuple[int, float]]],
    arrays: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]],
    terms: Sequence[tuple[str, float]],
    size: int,
    limit: int,
) -> tuple[list[int], dict[int, float]]:
    """The `limit` entries the weighted terms cover most, most first (ties: the entry
    reached first), and their coverage: `sum(weight * w)` over each term's postings.

    Short lists are summed in a dict; long ones (a large knowledge base) with numpy,
    adding in the same order, so the sums and the order come out the same either way.
    """
    if sum(len(postings.get(t, ())) for t, _ in terms) < _ARRAY_POSTINGS:
        coverage: dict[int, float] = defaultdict(float)
        for term, weight in terms:
            for i, w in postings.get(term, ()):
                coverage[i] += weight * w
        return sorted(coverage, key=coverage.__getitem__, reverse=True)[:limit], coverage
    cov = np.zeros(size)
    unseen = np.iinfo(np.int64).max
    first = np.full(size, unseen, dtype=np.int64)
    reached = 0
    for term, weight in terms:
        if term in arrays:
            at, ws = arrays[term]
        else:
            ps = postings.get(term, [])
            at = np.array([i for i, _ in ps], dtype=np.int64)
            ws = np.array([w for _, w in ps], dtype=np.float64)
        cov[at] += weight * ws  # an entry is in a term's postings once
        new = at[first[at] == unseen]
        first[new] = np.arange(reached, reached + len(new))
        reached += len(new)
    covered = np.flatnonzero(first != unseen)
    if len(covered) > limit:  # only those at or above the limit-th value can be in it
        floor = np.partition(cov[covered], len(covered) - limit)[len(covered) - limit]
        covered = covered[cov[covered] >= floor]
    order = covered[np.lexsort((first[covered], -cov[covered]))][:limit]
    top: list[int] = order.tolist()
    return top, {i: float(cov[i]) for i in top}


class Index(Protocol):
    """What `shortlist_of` reads of a language index."""

    postings: dict[str, list[tuple[int, float]]]
    arrays: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]
    exact: dict[str, int]


def shortlist_of(
    index: Index, terms: Sequence[tuple[str, float]], size: int, limit: int, words: str
) -> tuple[list[int], dict[int, float]]:
    """`top_coverage`, and first the entry that has `words` word for word as a phrasing,
    also when its words are so common that `limit` other entries cover them as well."""
    top, coverage = top_coverage(index.postings, index.arrays, terms, size, limit)
    own = index.exact.get(words)
    if own is not None and own not in top:
        top.insert(0, own)
        coverage[own] = coverage.get(own) or coverage_of(index.postings, terms, own)
    return top, coverage


def coverage_of(
    postings: dict[str, list[tuple[int, float]]], terms: Sequence[tuple[str, float]], entry: int
) -> float:
    """One entry's coverage, summed in the order `top_coverage` sums it."""
    total = 0.0
    for term, weight in terms:
        for i, w in postings.get(term, ()):
            if i == entry:
                total += weight * w
    return total
