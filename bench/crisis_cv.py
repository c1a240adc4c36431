"""How well crisis detection copes with wording it has not seen: leave one file out.

For each example file (knowledge/crisis_examples/*.yaml and the question files in
knowledge/tests/), the crisis model is trained on all the other files and the held-out
file is scored: by the phrases and rules alone, and by rules or model at a few
thresholds. The rules themselves were written after reading corpus1-4 and the blind
sets, so for those files only the model's share is held out; corpus5 and the files
written after the rules are held out for both.

Run: .venv/bin/python bench/crisis_cv.py [--no-concepts]
"""

from __future__ import annotations

import sys
from pathlib import Path

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
from bot._match import Matcher  # noqa: E402

THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.72, 0.8)


def main() -> None:
    knowledge = ROOT / "knowledge"
    kb = load_knowledge_base(knowledge)
    rules = CrisisDetector(
        kb.crisis,
        kb.crisis_exclusions,
        kb.crisis_together,
        scope=kb.crisis_scope,
        known=Matcher(kb).vocabulary,
    )
    files = {p: read_example_file(p) for p in example_files(knowledge)}
    # Without the kinds of words (--no-concepts) to compare with words alone.
    concepts = {} if "--no-concepts" in sys.argv else read_concepts(knowledge)
    totals = {t: [0, 0] for t in THRESHOLDS}
    rule_totals = [0, 0]
    n_crises = n_others = 0
    print(
        f"{'held-out file':24} {'crises':>7} {'others':>7}  rules (found/alarms)  "
        + "  ".join(f"th {t}" for t in THRESHOLDS)
    )
    for held, (crises, others) in files.items():
        train_c = [t for p, (c, _) in files.items() if p != held for t in c]
        train_o = [t for p, (_, o) in files.items() if p != held for t in o]
        model = train(train_c, train_o, digest="", concepts=concepts)
        rule_hits = [rules.is_crisis(t) for t in crises]
        rule_alarms = [rules.is_crisis(t) for t in others]
        counts = f"{len(crises):7} {len(others):7}"
        line = f"{held.name:24} {counts}  {sum(rule_hits):5} / {sum(rule_alarms):<12}"
        for t in THRESHOLDS:
            found = sum(
                r or model.probability(x) >= t for r, x in zip(rule_hits, crises, strict=True)
            )
            alarms = sum(
                r or model.probability(x) >= t for r, x in zip(rule_alarms, others, strict=True)
            )
            totals[t][0] += found
            totals[t][1] += alarms
            line += f"  {found:3}/{alarms:<3}"
        rule_totals[0] += sum(rule_hits)
        rule_totals[1] += sum(rule_alarms)
        n_crises += len(crises)
        n_others += len(others)
        print(line)
    print(
        f"\nrules alone: {rule_totals[0]}/{n_crises} crises found, "
        f"{rule_totals[1]}/{n_others} false alarms"
    )
    for t, (found, alarms) in totals.items():
        print(f"rules or model >= {t}: {found}/{n_crises} found, {alarms}/{n_others} false alarms")


if __name__ == "__main__":
    main()
