"""Crises the crisis probe finds that nothing else does: leave one example file out.

Issue 11, round 20. The sentence look of `bot._semantic` compares a message with the
closest crisis example; `bot._crisis_probe` fits a logistic regression over all example
vectors instead. For each example file (`bot._crisis_model.example_files`), as
bench/crisis_combo.py does, the crisis model and the probe are trained on the other
files; each held-out example gets the model's probability, the look of today (closest
crisis example of the other files, CRISIS_AT and CRISIS_LEAD) and the probe's
probability. Only examples the rules, the model at its threshold and today's look all
miss count. The engine asks the look only of messages it would not answer outright; this
bench asks it of every example, so its alarms are an upper bound. Prints, per ridge
penalty, probe threshold and crisis-model floor, the crises and false alarms the probe
adds. Prints figures, asserts nothing.

Round 20 (23 files, 1,589 crises, 3,183 others): 139 crises and 3,024 others missed by
the rules and the model; today's look finds 19 of the crises for 2 false alarms. The
probe adds (crises/false alarms), at a crisis-model floor of 0.1:
L2 0.003: 0.99 36/3, 0.995 33/3, 0.998 26/2; L2 0.001: 0.99 43/7, 0.995 39/3 (chosen),
0.998 35/3; L2 0.0003: 0.995 47/11, 0.999 38/3; L2 0.01: 0.99 27/3. L2 0.001 at 0.995
without the floor: 45/15 (floor 0.05: 40/7; 0.2: 32/2). Through the engine
(bench/crisis_heldout.py): 496 -> 521 of 600 held-out crises, false alarms 26 -> 29 of
660; real tuning sets (bench/outcomes.py): false alarms 22 -> 24. Asked also where an
answer fits, with a floor of 0.2 (PROBE_ANSWERED_PROBABILITY): 525 of 600, no more alarm.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/crisis_probe.py   (about 5 minutes)
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot._crisis_probe as probe_module  # noqa: E402
from bot import load_knowledge_base  # noqa: E402
from bot._crisis import CrisisDetector  # noqa: E402
from bot._crisis_model import (  # noqa: E402
    DEFAULT_THRESHOLD,
    example_files,
    read_concepts,
    read_example_file,
    train,
)
from bot._engine import Engine  # noqa: E402
from bot._semantic import (  # noqa: E402
    CRISIS_AT,
    CRISIS_LEAD,
    VECTORS_FILE,
    read_part,
    read_vectors,
    rows_for,
)
from bot._text import fold  # noqa: E402

PENALTIES = (0.0003, 0.001, 0.003, 0.01)
THRESHOLDS = (0.98, 0.99, 0.995, 0.998, 0.999)
FLOORS = (0.0, 0.05, 0.1, 0.2)


def main() -> None:
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

    # An example as a training row (its own text) and as a message (as the engine reads it).
    examples = vectors([fold(t) for t in texts])
    reads = vectors([read_part(engine.reader.topic(t)) for t in texts])
    owner_a, label_a = np.array(owner), np.array(label)
    prob = np.zeros(len(texts))
    fired = np.zeros(len(texts), dtype=bool)
    cos = np.zeros(len(texts))
    lead = np.zeros(len(texts))
    sims = reads @ examples.T
    for f, path in enumerate(paths):
        train_c = [t for g, (c, _) in enumerate(files) if g != f for t in c]
        train_o = [t for g, (_, o) in enumerate(files) if g != f for t in o]
        model = train(train_c, train_o, digest="", concepts=concepts)
        mine = owner_a == f
        for i in np.flatnonzero(mine):
            prob[i] = model.probability(texts[i])
            fired[i] = rules.is_crisis(texts[i]) or rules.excluded(fold(texts[i]))
        cos[mine] = sims[np.ix_(mine, ~mine & label_a)].max(1)
        lead[mine] = cos[mine] - sims[np.ix_(mine, ~mine & ~label_a)].max(1)
        print(f"  {path.name}: done", file=sys.stderr)

    open_ = ~fired & (prob < DEFAULT_THRESHOLD)
    today = open_ & (cos >= CRISIS_AT) & (lead >= CRISIS_LEAD)
    rest = open_ & ~today
    print(f"{int(label_a.sum())} crises, {int((~label_a).sum())} others in {len(paths)} files")
    print(
        f"missed by rules and model: {int((open_ & label_a).sum())} crises, "
        f"{int((open_ & ~label_a).sum())} others; today's look: "
        f"{int((today & label_a).sum())} crises, {int((today & ~label_a).sum())} false alarms"
    )
    print(f"\n{'L2':>7} {'at':>6} {'floor':>5}  {'crises':>6} {'alarms':>6}")
    for penalty in PENALTIES:
        probe_module.L2 = penalty
        score = np.zeros(len(texts))
        for f in range(len(paths)):
            mine = owner_a == f
            fitted = probe_module.fit_probe(examples[~mine & label_a], examples[~mine & ~label_a])
            assert fitted is not None
            score[mine] = [fitted.probability(v) for v in reads[mine]]
        for at, floor in itertools.product(THRESHOLDS, FLOORS):
            new = rest & (score >= at) & (prob >= floor)
            found, alarms = int((new & label_a).sum()), int((new & ~label_a).sum())
            print(f"{penalty:7.4f} {at:6.3f} {floor:5.2f}  {found:6} {alarms:6}")


if __name__ == "__main__":
    main()
