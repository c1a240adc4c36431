"""Refit the decision's logistic weights (bot/_decide.py) on question sets.

For every in-scope and out-of-scope question it takes the engine's own ranking (both
signals, `Decider.rank` after the message is read) and labels the best candidate right
when the engine's reply for it would be judged right (as `../shared/eval/score.py`
does); out-of-scope questions are never right. It fits a logistic regression on
(hand score, learned score, lead over the runner-up), weighting files given with
`--weight FILE=N`, and prints the weights and, per threshold, what answering would give.
It changes nothing; copy the weights into bot/_decide.py by hand.

    .venv/bin/python bench/calibrate.py knowledge/tests/real/tune.yaml --weight tune.yaml=5 ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from realsets import Replies, group_of  # noqa: E402

from bot import load_knowledge_base  # noqa: E402
from bot._decide import decide  # noqa: E402
from bot._engine import Engine  # noqa: E402
from bot._kbtools import judge  # noqa: E402
from bot._yaml import load_yaml_file  # noqa: E402


def rows(engine: Engine, path: Path) -> list[tuple[list[float], bool, bool, str]]:
    replies = Replies(engine)
    out = []
    for item in load_yaml_file(path):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            continue
        group = group_of(item)
        if group == "crisis":
            continue
        a = engine.reader.read(item["q"])
        ranked = engine.decider.rank(a.topic, a.lang)
        d = decide(ranked)
        lang = engine.ask(item["q"]).lang
        if not ranked:
            out.append(([0.0, 0.0, 0.0], False, False, group))
            continue
        best = ranked[0]
        if best.entry.outside:
            # A topic outside Wegwijzer comes first: never answered, whatever the weights.
            continue
        lead = best.fused - (ranked[1].fused if len(ranked) > 1 else 0.0)
        routes, text = replies.get(best.entry.id, lang)
        right = group == "in" and judge(item, routes, True, text)
        vetoed = d.outcome != "answer" and d.confidence >= 0.8
        out.append(([best.hand, best.learned, lead], right, vetoed, group))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--weight", action="append", default=[])
    ap.add_argument("--l2", type=float, default=1e-3)
    args = ap.parse_args()
    weights = {k: float(v) for k, v in (w.split("=") for w in args.weight)}
    engine = Engine(load_knowledge_base(REPO / "knowledge"))
    data = {p.name: rows(engine, p) for p in args.sets}
    X, y, sw = [], [], []
    for name, rs in data.items():
        for f, right, _, _ in rs:
            X.append(f)
            y.append(float(right))
            sw.append(weights.get(name, 1.0))
    Xa = np.hstack([np.ones((len(X), 1)), np.array(X)])
    ya, swa = np.array(y), np.array(sw)
    w = np.zeros(Xa.shape[1])
    for _ in range(30000):
        p = 1 / (1 + np.exp(-Xa @ w))
        w -= Xa.T @ ((p - ya) * swa) / swa.sum() + args.l2 * np.r_[0, w[1:]]
    print("W_BIAS, W_HAND, W_LEARNED, W_LEAD =", ", ".join(f"{v:.2f}" for v in w))
    for name, rs in data.items():
        Xs = np.hstack([np.ones((len(rs), 1)), np.array([f for f, *_ in rs])])
        p = 1 / (1 + np.exp(-Xs @ w))
        for t in (0.6, 0.7, 0.8, 0.9):
            ans = [(pi >= t and not v) for pi, (_, _, v, _) in zip(p, rs, strict=True)]
            right = sum(a and r for a, (_, r, _, _) in zip(ans, rs, strict=True))
            wrong_in = sum(
                a and not r and g == "in" for a, (_, r, _, g) in zip(ans, rs, strict=True)
            )
            oos = sum(a and g == "oos" for a, (_, _, _, g) in zip(ans, rs, strict=True))
            n_in = sum(g == "in" for *_, g in rs)
            print(f"  {name:>14} at {t}: right {right}/{n_in} wrong {wrong_in} oos answered {oos}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
