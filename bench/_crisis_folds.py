"""Every crisis example once, as the leave-one-file-out benches read it.

bench/crisis_combo.py and bench/crisis_probe.py ask what a new signal adds to the rules,
the crisis model and the sentence look for crises they have not seen. For each example
file (`bot._crisis_model.example_files`), the crisis model is trained on the other files;
each example gets that model's probability, whether the phrase rules fire or an exclusion
phrase holds, and its sentence-model vector twice: as a training example (its own folded
text) and as a message (as the engine reads it). Vectors come from
knowledge/semantic_vectors.npz; those not stored are embedded (about a minute).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import load_knowledge_base  # noqa: E402
from bot._crisis import CrisisDetector  # noqa: E402
from bot._crisis_model import (  # noqa: E402
    example_files,
    read_concepts,
    read_example_file,
    train,
)
from bot._engine import Engine  # noqa: E402
from bot._semantic import VECTORS_FILE, read_part, read_vectors, rows_for  # noqa: E402
from bot._text import fold  # noqa: E402


@dataclass(frozen=True)
class Folds:
    """Per example (one row each): its file, label, signals and vectors."""

    paths: list[Path]
    texts: list[str]
    owner: np.ndarray  # index into `paths`
    label: np.ndarray  # True for a crisis
    examples: np.ndarray  # vector of the example's own text
    reads: np.ndarray  # vector of the message as the engine reads it
    prob: np.ndarray  # the crisis model trained without the example's file
    fired: np.ndarray  # the phrase rules call it a crisis
    excluded: np.ndarray  # an exclusion phrase holds (the engine skips the look)
    #: The closest crisis example of the other files (cosine), and its lead over the
    #: closest non-crisis example of the other files.
    cos: np.ndarray
    lead: np.ndarray


def read_folds() -> Folds:
    knowledge = ROOT / "knowledge"
    kb = load_knowledge_base(knowledge)
    engine = Engine(kb)
    check = engine.decider.check
    if check is None:
        sys.exit("the sentence model is not installed")
    embedder = check._embedder
    stored = read_vectors(knowledge / VECTORS_FILE, embedder.name)
    rules = CrisisDetector(
        kb.crisis,
        kb.crisis_exclusions,
        kb.crisis_together,
        scope=kb.crisis_scope,
        known=engine.matcher.vocabulary,
    )
    concepts = read_concepts(knowledge)
    paths = example_files(knowledge)
    files = [read_example_file(p) for p in paths]
    texts: list[str] = []
    owner: list[int] = []
    label: list[bool] = []
    for f, (crises, others) in enumerate(files):
        for group, is_crisis in ((crises, True), (others, False)):
            texts += group
            owner += [f] * len(group)
            label += [is_crisis] * len(group)

    def vectors(keyed: list[str]) -> np.ndarray:
        matrix, rows = rows_for(keyed, stored, embedder)
        return matrix[rows].astype(np.float32)

    examples = vectors([fold(t) for t in texts])
    reads = vectors([read_part(engine.reader.topic(t)) for t in texts])
    owner_a, label_a = np.array(owner), np.array(label)
    n = len(texts)
    prob, cos, lead = np.zeros(n), np.zeros(n), np.zeros(n)
    fired, excluded = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    sims = reads @ examples.T
    for f, path in enumerate(paths):
        train_c = [t for g, (c, _) in enumerate(files) if g != f for t in c]
        train_o = [t for g, (_, o) in enumerate(files) if g != f for t in o]
        model = train(train_c, train_o, digest="", concepts=concepts)
        mine = owner_a == f
        for i in np.flatnonzero(mine):
            prob[i] = model.probability(texts[i])
            fired[i] = rules.is_crisis(texts[i])
            excluded[i] = rules.excluded(fold(texts[i]))
        cos[mine] = sims[np.ix_(mine, ~mine & label_a)].max(1)
        lead[mine] = cos[mine] - sims[np.ix_(mine, ~mine & ~label_a)].max(1)
        print(f"  {path.name}: done", file=sys.stderr)
    return Folds(paths, texts, owner_a, label_a, examples, reads, prob, fired, excluded, cos, lead)
