"""Matching diagnostics on question sets: each signal's top-1 beside the engine's outcome.

For every in-scope question it records which entries would be judged right (the engine's
own reply for that entry, judged as `../shared/eval/score.py` does), the hand-tuned
score's top entries and the learned ranker's, and prints how often each one's best pick
is right, and the engine's strict outcomes. Question text is never printed unless
`--show` is given (the sets are test data, not user messages).

    .venv/bin/python bench/match_eval.py knowledge/tests/blind2.yaml ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import Message, ReplyKind, load_knowledge_base  # noqa: E402
from bot._engine import Engine  # noqa: E402
from bot._kbtools import judge  # noqa: E402
from bot._state import State  # noqa: E402
from bot._yaml import load_yaml_file  # noqa: E402


def entry_replies(engine: Engine) -> dict[str, dict[str, tuple[set[str], str]]]:
    out: dict[str, dict[str, tuple[set[str], str]]] = {"nl": {}, "en": {}}
    for lang, replies in out.items():
        for e in engine.kb.entries:
            state = State(lang=lang, lang_chosen=True)  # type: ignore[arg-type]
            r = engine.respond(Message("eval", "", action=f"entry:{e.id}"), state)
            replies[e.id] = (set(r.routes), r.plain_text())
    return out


def rows_for(engine: Engine, path: Path) -> list[dict[str, Any]]:
    replies = entry_replies(engine)
    rows = []
    for item in load_yaml_file(path):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            continue
        q = item["q"]
        reply = engine.ask(q)
        ok = judge(item, set(reply.routes), reply.kind is ReplyKind.ANSWER, reply.plain_text())
        group = "oos" if item.get("oos") else "crisis" if item.get("crisis") else "in"
        right = []
        if group == "in":
            right = [
                eid
                for eid, (routes, text) in replies[reply.lang].items()
                if judge(item, routes, True, text)
            ]
        trace = {
            "hand": [(m.entry.id, m.score) for m in engine.matcher.match(q, limit=5)],
            "learned": [(m.entry.id, m.score) for m in engine.matcher.learned(q)],
        }
        rows.append(
            {
                "set": path.name,
                "q": q,
                "group": group,
                "kind": reply.kind.value,
                "entry": reply.entry,
                "ok": ok,
                "right": right,
                **trace,
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    engine = Engine(load_knowledge_base(REPO / "knowledge"))
    allrows = []
    for path in args.sets:
        rows = rows_for(engine, path)
        allrows += rows
        ins = [r for r in rows if r["group"] == "in"]
        answered = [r for r in ins if r["kind"] == "answer"]
        right = sum(r["ok"] for r in answered)
        line = (
            f"{path.name:>14}: strict {right}/{len(ins)}  wrong {len(answered) - right}  "
            f"clarify {sum(r['kind'] == 'clarify' for r in ins)}  "
            f"unknown {sum(r['kind'] not in ('answer', 'clarify') for r in ins)}  "
            f"oos {sum(r['ok'] for r in rows if r['group'] == 'oos')}/"
            f"{sum(r['group'] == 'oos' for r in rows)}  "
            f"crisis {sum(r['ok'] for r in rows if r['group'] == 'crisis')}/"
            f"{sum(r['group'] == 'crisis' for r in rows)}"
        )
        for sig in ("hand", "learned"):
            tops = [r[sig][0][0] if r.get(sig) else None for r in ins]
            hit = sum(t in r["right"] for t, r in zip(tops, ins, strict=True))
            line += f"  {sig}@1 {hit}"
        print(line)
        if args.show:
            for r in ins:
                if r["kind"] != "answer" or not r["ok"]:
                    print("   ", r["kind"], r["entry"], r["right"][:3], r["q"][:90])
    if args.dump:
        args.dump.write_text("\n".join(json.dumps(r) for r in allrows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
