"""The look-up structures that make a turn faster (bot/_lookup.py) give exactly the answer
of the plain way they replace, on the real knowledge base."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot import Engine, load_knowledge_base
from bot import _lookup as lookup
from bot._crisis import _near_phrase
from bot._lookup import OneEdit, Runs, Substrings, posting_arrays, shortlist_of, top_coverage
from bot._text import fold

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def real_engine() -> Engine:
    return Engine(load_knowledge_base(REPO / "knowledge"))


def _typos(words: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for w in words:
        i = rng.randrange(len(w))
        c = rng.choice("abcdefghijklmnopqrstuvwxyz")
        out += [w, w[:i] + w[i + 1 :], w[:i] + c + w[i:], w[:i] + c + w[i + 1 :]]
        out.append(w[:i] + w[i + 1 : i + 2] + w[i : i + 1] + w[i + 2 :])
    return out


def _messages(engine: Engine) -> list[str]:
    texts = [p for p in engine.crisis.phrases] + [
        q for e in engine.kb.entries[:40] for t in e.texts.values() for q in t.questions[:3]
    ]
    rng = random.Random(3)
    mixed = [f"{rng.choice(texts)} {rng.choice(texts)}" for _ in range(300)]
    return [fold(t) for t in texts + mixed + _typos(texts[:200], 9)]


def test_one_edit_lists_what_extract_lists(real_engine: Engine) -> None:
    words = real_engine.matcher.indexes["nl"].surface_words
    one = OneEdit(words, range(4, 10))
    probes = [t for t in _typos([w for w in words if 5 <= len(w) <= 8][:600], 1) if len(t) >= 5]
    for t in probes:
        want = process.extract(t, words, scorer=Levenshtein.distance, score_cutoff=1, limit=8)
        assert [(w, d) for w, d, _ in one.extract(t, 8)] == [(w, d) for w, d, _ in want], t


def test_bigram_filter_keeps_every_phrase_near_a_window(real_engine: Engine) -> None:
    crisis = real_engine.crisis
    for folded in _messages(real_engine)[:1500]:
        words = folded.split()
        possible = set(crisis._grams.possible("".join(words)))
        near = {k for k, p in enumerate(crisis._fuzzy) if _near_phrase(words, p)}
        assert near <= possible, folded


def test_runs_and_substrings_find_what_the_regular_expressions_found(
    real_engine: Engine,
) -> None:
    phrases = real_engine.crisis.phrases
    runs = Runs(phrases)
    exact = re.compile(rf"(?<!\S)(?:{'|'.join(map(re.escape, phrases))})(?!\S)")
    compact = [p.replace(" ", "") for p in phrases if len(p) >= 12]
    inside = Substrings(compact)
    together = re.compile("|".join(map(re.escape, compact)))
    for folded in _messages(real_engine):
        assert runs.any_in(folded.split()) == bool(exact.search(folded)), folded
        squeezed = folded.replace(" ", "")
        assert inside.any_in(squeezed) == bool(together.search(squeezed)), folded


def test_coverage_with_arrays_is_the_coverage_of_the_dict(
    real_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = real_engine.matcher.indexes["nl"]
    arrays = posting_arrays({t: ps for t, ps in index.postings.items() if len(ps) >= 3})
    size = len(real_engine.matcher.entries)
    rng = random.Random(4)
    terms = sorted(index.postings)
    for _ in range(300):
        weighted = [(t, rng.choice([0.5, 1.0, 1.7, 2.3])) for t in rng.sample(terms, 4)]
        # Which way is taken depends only on the postings' length: force each in turn.
        monkeypatch.setattr(lookup, "_ARRAY_POSTINGS", 10**9)
        top, coverage = top_coverage(index.postings, arrays, weighted, size, 40)
        monkeypatch.setattr(lookup, "_ARRAY_POSTINGS", 0)
        assert top_coverage(index.postings, arrays, weighted, size, 40) == (
            top,
            {i: coverage[i] for i in top},
        )


def test_fuzzy_phrases_need_both_checks(real_engine: Engine) -> None:
    """The crisis check still needs the partial ratio and the window comparison."""
    crisis = real_engine.crisis
    folded = fold("ik wil nie meer leven")
    words = folded.split()
    hits = [
        p
        for p in crisis._fuzzy
        if fuzz.partial_ratio(folded, p, score_cutoff=75) and _near_phrase(words, p)
    ]
    assert hits
    assert crisis.signal(folded) == "rules"


def test_own_phrasing_is_on_the_shortlist_however_common_its_words() -> None:
    """Forty-five entries cover "werk" and "rijk" better than entry 99, whose phrasing
    is exactly those words: it is scored all the same (issue 11, round 4)."""

    class Index:
        def __init__(self) -> None:
            common = [(i, 1.0) for i in range(45)]
            self.postings = {"werk": [*common, (99, 0.5)], "rijk": [*common, (99, 0.5)]}
            self.arrays: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}
            self.exact = {"werk rijk": 99}

    terms = [("werk", 1.0), ("rijk", 1.0)]
    top, coverage = shortlist_of(Index(), terms, 100, 40, "werk rijk")
    assert top[0] == 99 and len(top) == 41 and coverage[99] == 1.0
    plain, _ = shortlist_of(Index(), terms, 100, 40, "werk bij het rijk")
    assert 99 not in plain and len(plain) == 40
