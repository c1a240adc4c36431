"""Whether a question is Wegwijzer's at all, learned over the sentence model's vectors
(issue 11, round 21).

The best entry for a question can share its words and still not be what was asked: "Can
I claim tax relief for working from home?" matches the entry on working from home, "how
much will my pension be if I retire at 63" the ABP pension entry. A logistic regression
over the vectors of the knowledge base's own phrasings (entries inside, topics outside
Wegwijzer outside) and of the labelled real questions of the tuning and own sets (`SETS`:
`sealed.yaml` never) learns which directions of the model's space lie outside Wegwijzer.
Where the engine would answer, or offer a menu, with a confidence under SCOPE_CONFIDENCE,
and the probe gives SCOPE_AT or more, the person hears that there is no good answer
instead of a guess (`bot._decide.Decider.decide_message`).

Settings chosen leaving one question set out at a time, through the engine
(`bench/scope_probe.py --grid`; 35 sets, 2,775 in-scope and 1,110 out-of-scope
questions): this one gives 9 more out-of-scope questions without an answer or a menu
for 3 right answers fewer (they become "don't know", never a wrong answer). Below 0.85:
12 for 5; below 0.9: 15 for 6; at 0.7: 17 for 7; at 0.9 (below 0.9): 3 for 2; L2 0.3:
13 for 6; L2 0.001: 22 for 17. Every setting that gained more lost right answers at a
worse rate.

`wegwijzer kb embed` stores the fitted probe beside the vectors, keyed by what it was
fitted from. A stored probe whose phrasings or questions changed since is still used
(`kb validate` warns); one is fitted at start only when none is stored. A knowledge
folder without labelled questions has no probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot._yaml import YamlProblem, load_yaml_file

#: The labelled question sets it learns from, in the knowledge folder. The sealed set is
#: scored once per round and never learned from.
SETS = ("tests/real/tune*.yaml", "tests/*.yaml")
#: Ridge penalty: looser ones caught more in-scope questions for each one gained.
L2 = 1.0
#: A question is outside Wegwijzer at this probability or more ...
SCOPE_AT = 0.8
#: ... when the engine's confidence in its answer or menu for it is under this.
SCOPE_CONFIDENCE = 0.8


def set_files(root: Path) -> list[Path]:
    """The labelled question files of a knowledge folder, in a fixed order."""
    found = {p for pattern in SETS for p in root.glob(pattern) if p.name != "sealed.yaml"}
    return sorted(found)


def labelled_questions(paths: Sequence[Path]) -> tuple[list[str], list[str]]:
    """The questions of `paths`: (outside Wegwijzer, inside). Distress messages are left
    out (the crisis checks read those); a file that cannot be read is skipped, as
    `wegwijzer kb test` reports it."""
    outside: list[str] = []
    inside: list[str] = []
    for path in paths:
        try:
            items = load_yaml_file(path)
        except YamlProblem:
            continue
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict) or not isinstance(item.get("q"), str):
                continue
            if item.get("crisis"):
                continue
            (outside if item.get("oos") else inside).append(item["q"])
    return outside, inside
