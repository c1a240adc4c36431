"""Real-question figures for bench/engine.py: the engine beside two baselines, strictly.

Each method only picks an entry (or none); the reply judged is the engine's own reply for
that entry in the question's language, so only the choice differs. Judged as
`../shared/eval/score.py --strict` does: an in-scope question counts only when answered
outright and right. Baselines have no crisis detection, so distress items are shown for
the engine only. Also prints the reliability table of the engine's decision (confidence
bucket -> share of those questions whose best entry was right), the table the weights
in bot/_decide.py were read from.

    .venv/bin/python bench/realsets.py knowledge/tests/real/tune.yaml [...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bm25s  # noqa: E402
import Stemmer  # noqa: E402
from rapidfuzz import process  # noqa: E402

from bot import Message, ReplyKind, load_knowledge_base  # noqa: E402
from bot._engine import Engine  # noqa: E402
from bot._kbtools import judge, judge_reply  # noqa: E402
from bot._state import State  # noqa: E402
from bot._text import STOPWORDS, guess_language  # noqa: E402
from bot._yaml import load_yaml_file  # noqa: E402

#: The naive baseline answers when rapidfuzz's WRatio reaches this.
FUZZ_CUTOFF = 70.0
#: The BM25 baseline answers when the best phrasing scores at least this.
BM25_CUTOFF = 3.0
BUCKETS = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.01)

Pick = Callable[[str], str | None]


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0
    clarify: int = 0
    unknown: int = 0
    oos_ok: int = 0
    #: Honest without a menu of entries either (the issue's rule; the score script
    #: counts a "did you mean" on an out-of-scope question as honest).
    oos_strict: int = 0
    oos: int = 0
    crisis_ok: int = 0
    crisis: int = 0
    false_crisis: int = 0

    def line(self, name: str) -> str:
        n = self.right + self.wrong + self.clarify + self.unknown
        answered = self.right + self.wrong
        prec = f"{100 * self.right / answered:.1f}%" if answered else "n/a"
        crisis = f"{self.crisis_ok}/{self.crisis}" if self.crisis else "n/a"
        return (
            f"  {name:<22} strict {100 * self.right / max(n, 1):5.1f}% ({self.right}/{n})  "
            f"right {self.right} WRONG {self.wrong} did-you-mean {self.clarify} "
            f"don't-know {self.unknown}  precision {prec}  "
            f"out of scope {self.oos_ok}/{self.oos} (no menu {self.oos_strict})  "
            f"distress {crisis}  "
            f"false crisis {self.false_crisis}"
        )


@dataclass
class Replies:
    """The engine's reply for every entry, per language: routes and plain text."""

    engine: Engine
    cache: dict[tuple[str, str], tuple[set[str], str]] = field(default_factory=dict)

    def get(self, entry: str, lang: str) -> tuple[set[str], str]:
        key = (entry, lang)
        if key not in self.cache:
            state = State(lang="en" if lang == "en" else "nl", lang_chosen=True)
            r = self.engine.respond(Message("bench", "", action=f"entry:{entry}"), state)
            self.cache[key] = (set(r.routes), r.plain_text())
        return self.cache[key]


def group_of(item: dict[str, Any]) -> str:
    return "oos" if item.get("oos") else "crisis" if item.get("crisis") else "in"


def baselines(engine: Engine) -> dict[str, Pick]:
    """The naive rapidfuzz matcher and BM25 (bm25s, Snowball stemming per language)."""
    phrasings: dict[str, list[tuple[str, str]]] = {"nl": [], "en": []}
    for e in engine.kb.entries:
        for lang, t in e.texts.items():
            for q in (t.title, *t.questions):
                phrasings[lang].append((q, e.id))
    every = [p for ps in phrasings.values() for p in ps]

    def fuzzy(q: str) -> str | None:
        hit = process.extractOne(q, [p for p, _ in every], score_cutoff=FUZZ_CUTOFF)
        return every[hit[2]][1] if hit else None

    stemmers = {"nl": Stemmer.Stemmer("dutch"), "en": Stemmer.Stemmer("english")}
    retrievers = {}
    for lang, ps in phrasings.items():
        stop = sorted(STOPWORDS[lang])  # type: ignore[index]
        tokens = bm25s.tokenize(
            [p for p, _ in ps], stopwords=stop, stemmer=stemmers[lang], show_progress=False
        )
        r = bm25s.BM25()
        r.index(tokens, show_progress=False)
        retrievers[lang] = (r, stop)

    def bm25(q: str) -> str | None:
        lang = guess_language(" ".join(q.lower().split()))[0] or "nl"
        r, stop = retrievers[lang]
        tokens = bm25s.tokenize([q], stopwords=stop, stemmer=stemmers[lang], show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return None
        docs, scores = r.retrieve(tokens, k=1, show_progress=False)
        if float(scores[0][0]) < BM25_CUTOFF:
            return None
        return phrasings[lang][int(docs[0][0])][1]

    return {"naive rapidfuzz": fuzzy, "BM25 (bm25s, stemmed)": bm25}


def score_set(engine: Engine, path: Path) -> tuple[dict[str, Tally], list[tuple[float, bool]]]:
    items = [i for i in load_yaml_file(path) if isinstance(i, dict) and isinstance(i.get("q"), str)]
    replies = Replies(engine)
    tallies = {"engine": Tally()}
    picks = baselines(engine)
    tallies.update({name: Tally() for name in picks})
    reliability: list[tuple[float, bool]] = []
    for item in items:
        q = str(item["q"])
        group = group_of(item)
        reply = engine.ask(q)
        lang = reply.lang
        t = tallies["engine"]
        judged = judge_reply(item, reply)
        t.false_crisis += judged.false_alarm
        _count(t, group, judged.ok, reply.kind, judged.offers)
        if group != "crisis":
            a = engine.reader.read(q)
            decision, _ = engine.decider.decide_message(a, engine.reader, a.lang)
            best = decision.best
            right = False
            if group == "in" and best is not None:
                broutes, text = replies.get(best.entry.id, lang)
                right = judge(item, broutes, True, text)
            reliability.append((decision.confidence, right))
        for name, pick in picks.items():
            if group == "crisis":
                continue
            eid = pick(q)
            bt = tallies[name]
            if eid is None:
                _count(bt, group, group == "oos", ReplyKind.UNKNOWN)
                continue
            broutes, text = replies.get(eid, lang)
            _count(bt, group, judge(item, broutes, True, text), ReplyKind.ANSWER)
    return tallies, reliability


def _count(t: Tally, group: str, ok: bool, kind: ReplyKind, offers: bool = False) -> None:
    if group == "oos":
        t.oos += 1
        t.oos_ok += ok
        t.oos_strict += ok and not offers
    elif group == "crisis":
        t.crisis += 1
        t.crisis_ok += ok
    elif kind is ReplyKind.ANSWER:
        if ok:
            t.right += 1
        else:
            t.wrong += 1
    elif kind is ReplyKind.CLARIFY:
        t.clarify += 1
    else:
        t.unknown += 1


def reliability_table(points: list[tuple[float, bool]]) -> list[str]:
    lines = ["  confidence     questions  best entry right"]
    for lo, hi in pairwise(BUCKETS):
        inside = [r for c, r in points if lo <= c < hi]
        share = f"{100 * sum(inside) / len(inside):5.1f}%" if inside else "  n/a"
        lines.append(f"  {lo:.2f}-{min(hi, 1.0):.2f}    {len(inside):>9}  {share}")
    return lines


def report(engine: Engine, paths: list[Path]) -> list[str]:
    out: list[str] = []
    points: list[tuple[float, bool]] = []
    for path in paths:
        if not path.is_file():
            out.append(f"{path}: not found")
            continue
        tallies, rel = score_set(engine, path)
        points += rel
        out.append(f"{path.name}:")
        out += [t.line(name) for name, t in tallies.items()]
    if points:
        out.append("reliability of the engine's decision (all sets above, in scope and out):")
        out += reliability_table(points)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("sets", nargs="+", type=Path)
    args = ap.parse_args()
    engine = Engine(load_knowledge_base(REPO / "knowledge"))
    print("\n".join(report(engine, args.sets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
