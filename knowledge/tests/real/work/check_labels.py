#!/usr/bin/env python3
"""Label check: every entry named in `entry` must itself pass the item's route and key-word rule.

A right answer that the scoring rule would call wrong means the label is wrong, not the engine.
Run from the repository root: .venv/bin/python knowledge/tests/real/work/check_labels.py [NAME ...]
NAME is a set in knowledge/tests/real (tune, sealed, tune2, tune3, ...); without one, tune and
sealed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from bot._engine import load_engine
from bot._kbtools import judge
from bot._state import State

ROOT = Path("knowledge")
engine = load_engine(ROOT)
bad = 0
for name in sys.argv[1:] or ["tune", "sealed"]:
    for item in yaml.safe_load((ROOT / "tests/real" / f"{name}.yaml").read_text(encoding="utf-8")):
        for eid in item.get("entry") or []:
            if eid not in engine.entries:
                print(f"[{name}] unknown entry {eid}: {item['q']}")
                bad += 1
                continue
            reply = engine._do_entry(eid, State(), item["lang"])
            if not judge(item, set(reply.routes), True, reply.plain_text()):
                rule = f"{item['route']} {item['expect_any']}"
                print(f"[{name}] {eid} fails its own label ({rule}): {item['q']}")
                bad += 1
print(f"{bad} label problems")
sys.exit(1 if bad else 0)
