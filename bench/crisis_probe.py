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
from bench._crisis_folds import read_folds  # noqa: E402
from bot._crisis_model import DEFAULT_THRESHOLD  # noqa: E402
from bot._semantic import CRISIS_AT, CRISIS_LEAD  # noqa: E402

PENALTIES = (0.0003, 0.001, 0.003, 0.01)
THRESHOLDS = (0.98, 0.99, 0.995, 0.998, 0.999)
FLOORS = (0.0, 0.05, 0.1, 0.2)


def main() -> None:
    folds = read_folds()
    paths, owner_a, label_a, prob = folds.paths, folds.owner, folds.label, folds.prob
    examples, reads, cos, lead = folds.examples, folds.reads, folds.cos, folds.lead
    fired = folds.fired | folds.excluded

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
        score = np.zeros(len(folds.texts))
        for f in range(len(paths)):
            mine = owner_a == f
            fitted = probe_module.fit_probe(
                examples[~mine & label_a], examples[~mine & ~label_a], penalty
            )
            assert fitted is not None
            score[mine] = [fitted.probability(v) for v in reads[mine]]
        for at, floor in itertools.product(THRESHOLDS, FLOORS):
            new = rest & (score >= at) & (prob >= floor)
            found, alarms = int((new & label_a).sum()), int((new & ~label_a).sum())
            print(f"{penalty:7.4f} {at:6.3f} {floor:5.2f}  {found:6} {alarms:6}")


if __name__ == "__main__":
    main()
