"""Per-question outcomes on every tuning set, and what changed between two runs.

How a matching change is measured (issue 11): run this before and after, on the real
tuning sets (knowledge/tests/real/tune*.yaml) and the project's own sets
(knowledge/tests/*.yaml), and read the changed questions one by one. `sealed.yaml` is
left out on purpose: it is scored once per round, never read question by question.

    .venv/bin/python bench/outcomes.py before.tsv           # write the outcomes
    .venv/bin/python bench/outcomes.py after.tsv --compare before.tsv

Each line: set, index, outcome, false alarm (0/1), entry answered, entries in the label,
entries offered, the question, confidence. Outcomes: right / wrong / dym ("did you
mean") / dk ("don't know") in scope; oos_ok / oos_menu / oos_ans out of scope;
cr_ok / cr_miss for distress. Judged as `../shared/eval/score.py --strict` does; the
totals also count the right answers whose entry the label does not name. The
questions are the sets' own public ones, never a person's message.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import load_knowledge_base  # noqa: E402
from bot._engine import Engine  # noqa: E402
from bot._kbtools import OUTCOMES, Judged, _names, judge_reply  # noqa: E402
from bot._yaml import load_yaml_file  # noqa: E402

Row = list[str]


def sets() -> list[Path]:
    """The tuning sets and the own sets, in a fixed order."""
    real = REPO / "knowledge" / "tests" / "real"
    return sorted(real.glob("tune*.yaml")) + sorted((REPO / "knowledge" / "tests").glob("*.yaml"))


def label(judged: Judged) -> str:
    """The short outcome name of one judged question."""
    if judged.group == "out_of_scope":
        return "oos_ans" if judged.matched else "oos_menu" if judged.offers else "oos_ok"
    if judged.group == "crisis":
        return "cr_ok" if judged.ok else "cr_miss"
    return dict(zip(OUTCOMES, ("right", "wrong", "dym", "dk"), strict=True))[judged.outcome]


def outcomes(engine: Engine) -> list[Row]:
    rows: list[Row] = []
    for path in sets():
        for i, item in enumerate(load_yaml_file(path)):
            if not isinstance(item, dict) or not isinstance(item.get("q"), str):
                continue
            question = " ".join(item["q"].split())
            reply = engine.ask(question)
            judged = judge_reply(item, reply)
            offered = [c.action[6:] for c in reply.choices if c.action.startswith("entry:")]
            rows.append(
                [
                    path.stem,
                    str(i),
                    label(judged),
                    str(int(judged.false_alarm)),
                    reply.entry or "",
                    ",".join(_names(item.get("entry"))),
                    ",".join(offered),
                    question,
                    f"{reply.confidence:.3f}",
                ]
            )
    return rows


def read(path: Path) -> list[Row]:
    return [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8")]


def totals(rows: list[Row]) -> str:
    counts = collections.Counter(r[2] for r in rows)
    alarms = sum(int(r[3]) for r in rows)
    parts = [f"{k} {counts[k]}" for k in ("right", "wrong", "dym", "dk")]
    parts += [f"{k} {counts[k]}" for k in ("oos_ans", "oos_menu", "oos_ok", "cr_ok", "cr_miss")]
    # Judged right through the routes and words of an entry the label does not name: a
    # "right" that a change can gain or lose without the person getting the topic asked.
    aside = sum(1 for r in rows if r[2] == "right" and r[5] and r[4] not in r[5].split(","))
    return ", ".join(parts) + f"; false alarms {alarms}; right with an unnamed entry {aside}"


def compare(old: list[Row], new: list[Row]) -> None:
    before = {(r[0], r[1]): r for r in old}
    for r in new:
        o = before.get((r[0], r[1]))
        if o is None or (o[2], o[3], o[4]) == (r[2], r[3], r[4]):
            continue
        print(
            f"{r[0]}:{r[1]}\t{o[2]}({o[4]}) -> {r[2]}({r[4]})\talarm {o[3]}->{r[3]}"
            f"\tlabel {r[5]}\t{r[7][:150]}"
        )
    print("before:", totals(old))
    print("after: ", totals(new))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="where to write this run's outcomes (TSV)")
    ap.add_argument("--compare", type=Path, help="an earlier run's TSV to compare with")
    args = ap.parse_args()
    engine = Engine(load_knowledge_base(REPO / "knowledge"))
    rows = outcomes(engine)
    with args.out.open("w", encoding="utf-8") as f:
        f.writelines("\t".join(r) + "\n" for r in rows)
    if args.compare is not None:
        compare(read(args.compare), rows)
    else:
        print(totals(rows))


if __name__ == "__main__":
    main()
