"""Score a held-out crisis file (knowledge/crisis_heldout/*.yaml) through the engine.

Each message goes through `Engine.ask`, the path a chat message takes; a reply that
starts with 112/113 (`reply.crisis`) counts as an alarm. Prints crises found and false
alarms, split by what raised them (the rules, the learned model alone, or the sentence
model's look at a message no answer fits: "sentence"). These files
are kept out of training: score a new one once, as written, and put the figure in its
header. `--show` also prints the misses and the false alarms (the messages are the
file's own examples, never user input).

Run: .venv/bin/python bench/crisis_heldout.py knowledge/crisis_heldout/round4.yaml [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import load_knowledge_base  # noqa: E402
from bot._crisis_model import read_example_file  # noqa: E402
from bot._engine import Engine  # noqa: E402


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:] if not a.startswith("--")]
    show = "--show" in sys.argv
    engine = Engine(load_knowledge_base(ROOT / "knowledge"))
    for path in paths:
        crises, others = read_example_file(path)
        found = {"rules": 0, "model": 0, "sentence": 0}
        alarms = {"rules": 0, "model": 0, "sentence": 0}
        misses: list[str] = []
        false: list[str] = []
        for text in crises:
            signal = engine.crisis.signal(text) or "sentence"
            if engine.ask(text).crisis is not None:
                found[signal] += 1
            else:
                misses.append(text)
        for text in others:
            signal = engine.crisis.signal(text) or "sentence"
            if engine.ask(text).crisis is not None:
                alarms[signal] += 1
                false.append(f"[{signal}] {text}")
        print(
            f"{path.name}: {sum(found.values())}/{len(crises)} crises found "
            f"({found['rules']} by rules, {found['model']} by the model alone, "
            f"{found['sentence']} by the sentence model), "
            f"{sum(alarms.values())}/{len(others)} false alarms "
            f"({alarms['rules']} rules, {alarms['model']} model, {alarms['sentence']} sentence)"
        )
        if show:
            for text in misses:
                print(f"  missed: {text}")
            for text in false:
                print(f"  false alarm: {text}")


if __name__ == "__main__":
    main()
