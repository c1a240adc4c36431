"""Crises that two short signals find together: leave one example file out.

Issue 11. Many crises that both the phrase rules and the crisis model miss have a model
probability just under its threshold and a sentence-model crisis cosine just under
CRISIS_AT/CRISIS_LEAD. This bench asks whether a second way for the sentence look
(crisis cosine >= C, lead over the closest non-crisis example >= L, and the crisis
model's probability >= P) finds more crises without more false alarms.

For each example file (`bot._crisis_model.example_files`), as bench/crisis_cv.py does,
the crisis model is trained on the other files, and each held-out example gets (a) that
model's probability, (b) the sentence model's cosine with the closest crisis example and
its lead over the closest non-crisis example, counting the examples of the OTHER files
only, and (c) whether the phrase rules fire. The sentence model reads a message as the
engine does (the analysis's `topic`, its last words); vectors come from
knowledge/semantic_vectors.npz, those not stored are embedded (about a minute).

Only examples the rules and the model (at its threshold) both miss count. The engine
asks the sentence look only of messages it would not answer outright; this bench asks it
of every example, so its alarms are an upper bound for both today's look and the new way.
Prints today's look (C 0.88, L 0.03) and, per grid setting, the crises and false alarms
it adds to today's look, over all files. Prints figures, asserts nothing.

Round 13 (29 files, 1,409 crises, 3,003 others): 88 crises and 2,856 others missed by
the rules and the model; today's look finds 18 of those crises for 2 false alarms. Added
to it (crises/false alarms): P 0.4, C 0.87, L 0.02: 6/0 (chosen); P 0.35, same C, L: 6/1;
P 0.3: 6/1; L 0.01 at P 0.4: 15/11; L 0.0: 22/17; L 0.03 or C below 0.88: nothing more.
Held-out batches through the engine then: 4 more crises (round6b, round7, round9 x2),
no more false alarms; the real tuning and own question sets unchanged.

Also prints what a floor on the crisis model's probability, under which the look is not
read at all (`LOOK_FLOOR`), would cost: round 15, every crisis today's look finds has 0.05
or more (17 of 18 at 0.1), and 1,833 of the 2,944 messages missed by both are under 0.02.
With the crisis model's length scaling (round 15): 85 crises and 2,851 others missed by
both; today's look 17 for 2 false alarms, all 17 kept at 0.05 (16 at 0.1), 1,812 of 2,936
under 0.02; P 0.4, C 0.87, L 0.02 adds 7 crises and no false alarm (0.35: 7/1).

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/crisis_combo.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._crisis_folds import read_folds  # noqa: E402
from bot._crisis_model import DEFAULT_THRESHOLD  # noqa: E402
from bot._semantic import CRISIS_AT, CRISIS_LEAD  # noqa: E402

P_FLOORS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
C_FLOORS = (0.86, 0.87, 0.88, 0.89, 0.9)
L_FLOORS = (-0.01, 0.0, 0.01, 0.02, 0.03)


FLOORS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1)


def main() -> None:
    folds = read_folds()
    paths, label_a, prob, cos, lead = folds.paths, folds.label, folds.prob, folds.cos, folds.lead
    fired, excluded = folds.fired, folds.excluded

    # What the new way may add to: examples the rules and the model both miss, and no
    # exclusion phrase (the engine skips the look for those).
    open_ = ~fired & (prob < DEFAULT_THRESHOLD) & ~excluded
    n_c, n_o = int(label_a.sum()), int((~label_a).sum())
    today = open_ & (cos >= CRISIS_AT) & (lead >= CRISIS_LEAD)
    print(f"{n_c} crises, {n_o} others in {len(paths)} files")
    print(
        f"missed by rules and model: {int((open_ & label_a).sum())} crises, "
        f"{int((open_ & ~label_a).sum())} others (alarms of the model alone: "
        f"{int((~fired & (prob >= DEFAULT_THRESHOLD) & ~label_a).sum())})"
    )
    print(
        f"today's look (C {CRISIS_AT}, L {CRISIS_LEAD}): {int((today & label_a).sum())} crises, "
        f"{int((today & ~label_a).sum())} false alarms among them"
    )
    print("\ntoday's look only where the crisis model gives at least F (fewer reads):")
    for floor in FLOORS:
        kept = today & (prob >= floor)
        print(
            f"  F {floor:5.3f}: crises {int((kept & label_a).sum())}, false alarms "
            f"{int((kept & ~label_a).sum())}; unanswered-message reads skipped: "
            f"{int((open_ & (prob < floor)).sum())} of {int(open_.sum())}"
        )
    print("\nadded to today's look by cosine >= C, lead >= L, probability >= P:")
    print(f"{'P':>5} {'C':>5} {'L':>6}  {'crises':>6} {'alarms':>6}")
    for p, c, ll in itertools.product(P_FLOORS, C_FLOORS, L_FLOORS):
        new = open_ & ~today & (prob >= p) & (cos >= c) & (lead >= ll)
        found, alarms = int((new & label_a).sum()), int((new & ~label_a).sum())
        print(f"{p:5.2f} {c:5.2f} {ll:6.2f}  {found:6} {alarms:6}")


if __name__ == "__main__":
    main()
