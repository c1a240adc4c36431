"""The coordinators' tools behind `wegwijzer kb validate | test | stats`."""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot._crisis_model import (
    MODEL_FILE,
    ModelProblem,
    examples_digest,
    read_concepts,
    read_examples,
    train,
    training_files,
)
from bot._engine import Engine
from bot._kb import KnowledgeBase, Problem
from bot._semantic import VECTORS_FILE, missing_vectors, probe_outdated
from bot._types import LANGS, Reply, ReplyKind
from bot._yaml import YamlProblem, load_yaml_file

#: The B1 aim for employee answers: average sentence length in words, at most.
B1_MAX_MEAN_SENTENCE_WORDS = 15.0


def lint(kb: KnowledgeBase) -> list[Problem]:
    """Checks beyond loading that need the whole knowledge base: warnings only."""
    problems: list[Problem] = []
    used_roles = {r for e in kb.entries for r in e.routes}
    for e in kb.entries:
        for lang in LANGS:
            t = e.texts.get(lang)
            if t is None:
                continue
            if "employee" in e.audience and t.answer:
                mean = mean_sentence_words(t.answer)
                if mean > B1_MAX_MEAN_SENTENCE_WORDS + 5:
                    problems.append(
                        Problem(
                            e.path,
                            e.line,
                            f"entry '{e.id}' ({lang}): sentences average "
                            f"{mean:.0f} words; aim for at most {B1_MAX_MEAN_SENTENCE_WORDS:.0f}",
                            "warning",
                        )
                    )
    for role in kb.roles:
        if role not in used_roles and role != "emergency":
            problems.append(
                Problem("knowledge/roles.yaml", 0, f"no entry routes to '{role}'", "warning")
            )
    model_path = f"knowledge/{MODEL_FILE}"
    if kb.crisis_model is None:
        problems.append(
            Problem(model_path, 0, "no crisis model: run `wegwijzer kb train-crisis`", "warning")
        )
    elif kb.crisis_model.examples_sha256 != examples_digest(training_files(kb.root)):
        problems.append(
            Problem(
                model_path,
                0,
                "the crisis examples changed since the model was trained (or how it learns): "
                "run `wegwijzer kb train-crisis`",
                "warning",
            )
        )
    missing = missing_vectors(kb)
    if missing:
        problems.append(
            Problem(
                f"knowledge/{VECTORS_FILE}",
                0,
                f"{missing} phrasing(s) have no stored vector and are embedded at every "
                "start: run `wegwijzer kb embed`",
                "warning",
            )
        )
    if probe_outdated(kb):
        problems.append(
            Problem(
                f"knowledge/{VECTORS_FILE}",
                0,
                "the crisis examples, phrasings or labelled questions changed since the "
                "probes were stored (the crisis probe is then fitted at every start, and "
                "the scope probe is an older one): run `wegwijzer kb embed`",
                "warning",
            )
        )
    return problems


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]


def mean_sentence_words(text: str) -> float:
    parts = sentences(text)
    if not parts:
        return 0.0
    return sum(len(_WORD.findall(s)) for s in parts) / len(parts)


def stats(kb: KnowledgeBase, today: _dt.date | None = None) -> dict[str, Any]:
    """Figures for `kb stats --json`."""
    today = today or _dt.date.today()
    complete = {
        lang: sum(
            1
            for e in kb.entries
            if (t := e.texts.get(lang)) and t.title and t.answer and len(t.questions) >= 5
        )
        for lang in LANGS
    }
    audience: Counter[str] = Counter(a for e in kb.entries for a in e.audience)
    routes: Counter[str] = Counter(r for e in kb.entries for r in e.routes)
    themes: Counter[str] = Counter(e.theme for e in kb.entries)
    readability: dict[str, Any] = {"aim_mean_sentence_words_at_most": B1_MAX_MEAN_SENTENCE_WORDS}
    for lang in LANGS:
        means = [
            mean_sentence_words(t.answer)
            for e in kb.entries
            if "employee" in e.audience and (t := e.texts.get(lang)) is not None
        ]
        words = [
            len(_WORD.findall(t.answer))
            for e in kb.entries
            if "employee" in e.audience and (t := e.texts.get(lang)) is not None
        ]
        readability[lang] = {
            "employee_answers": len(means),
            "mean_sentence_words": round(sum(means) / len(means), 1) if means else 0.0,
            "max_mean_sentence_words": round(max(means), 1) if means else 0.0,
            "meeting_aim": sum(m <= B1_MAX_MEAN_SENTENCE_WORDS for m in means),
            "mean_answer_words": round(sum(words) / len(words)) if words else 0,
        }
    return {
        "entries": len(kb.entries),
        "elsewhere_topics": len(kb.elsewhere),
        "by_language": complete,
        "with_sources": sum(1 for e in kb.entries if e.sources),
        "with_details": sum(1 for e in kb.entries if e.text("nl").details),
        "reviewed_within_year": sum(1 for e in kb.entries if (today - e.reviewed).days <= 365),
        "by_audience": dict(sorted(audience.items())),
        "by_route": dict(sorted(routes.items())),
        "by_theme": dict(sorted(themes.items())),
        "questions": sum(len(t.questions) for e in kb.entries for t in e.texts.values()),
        "organisations": len(kb.organisations),
        "national_contacts": len(kb.national),
        "crisis_phrases": sum(len(v) for v in kb.crisis.values()),
        "crisis_rules": sum(len(v) for v in kb.crisis_together.values()),
        "synonym_groups": len(kb.synonyms),
        "readability": readability,
    }


@dataclass
class SelfTest:
    """How well each entry is found from its own phrasings."""

    total: int = 0
    found: int = 0
    #: (entry id, language, the phrasing, what it got instead, entry it got or None)
    misses: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)


def self_test(engine: Engine) -> SelfTest:
    result = SelfTest()
    for e in engine.kb.entries:
        for lang, t in e.texts.items():
            for q in t.questions:
                result.total += 1
                reply = engine.ask(q)
                if reply.kind is ReplyKind.ANSWER and reply.entry == e.id:
                    result.found += 1
                    continue
                got = reply.entry if reply.kind is ReplyKind.ANSWER else None
                result.misses.append((e.id, lang, q, reply.kind.value, got))
                if got is not None:
                    result.confusions[(e.id, got)] += 1
    # A topic outside Wegwijzer is found when its own phrasings are said to go elsewhere.
    reader, decider = engine.reader, engine.decider
    for e in engine.kb.elsewhere:
        for lang, t in e.texts.items():
            for q in t.questions:
                result.total += 1
                reply = engine.ask(q)
                decision, _ = decider.decide_message(reader.read(q), reader, None)
                best = decision.best.entry.id if decision.best else None
                if decision.outcome == "elsewhere" and best == e.id:
                    result.found += 1
                    continue
                got = best if decision.outcome == "elsewhere" else reply.entry
                result.misses.append((e.id, lang, q, reply.kind.value, got))
    return result


#: In-scope outcomes, named as `../shared/eval/score.py` counts them.
OUTCOMES = ("answered right", "answered WRONG", "did you mean", "don't know")


@dataclass(frozen=True, slots=True)
class Judged:
    """One question's reply, judged as `../shared/eval/score.py --strict` does."""

    #: "in_scope", "out_of_scope" or "crisis", as the item says.
    group: str
    #: The score script's rule (for in scope: also right when only offered in a menu).
    ok: bool
    #: Answered outright.
    matched: bool
    #: A "did you mean" menu of entries.
    offers: bool
    #: Routed to emergency though the item is no crisis and does not ask for it.
    false_alarm: bool

    @property
    def outcome(self) -> str:
        """For in scope, one of OUTCOMES."""
        if self.matched:
            return OUTCOMES[0] if self.ok else OUTCOMES[1]
        return OUTCOMES[2] if self.offers else OUTCOMES[3]


def judge_reply(item: dict[str, Any], reply: Reply) -> Judged:
    """Judge `reply` to the question `item` (a question-file item)."""
    matched = reply.kind is ReplyKind.ANSWER
    routes = set(reply.routes)
    group = "out_of_scope" if item.get("oos") else "crisis" if item.get("crisis") else "in_scope"
    wanted_emergency = "emergency" in (item.get("route") or [])
    return Judged(
        group,
        judge(item, routes, matched, reply.plain_text()),
        matched,
        offers_entries(reply),
        not item.get("crisis") and "emergency" in routes and not wanted_emergency,
    )


@dataclass
class QuestionScore:
    """How the engine did on a question file, judged as `../shared/eval/score.py --strict` does.

    `groups["in_scope"]` is strict: only an outright answer that fits counts. The lenient
    share (a fitting "did you mean" counts too) is kept beside it for comparison.
    """

    groups: dict[str, list[bool]]
    failures: list[str]
    never_hit: list[str]
    lenient: list[bool] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Items that name the entry (or entries) that answer them, judged by entry instead.
    by_entry: Counter[str] = field(default_factory=Counter)
    #: (expected entry or "-", entry answered outright) for every wrong outright answer.
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Questions that are no crisis but were routed to emergency.
    false_alarms: int = 0
    #: Strict in-scope result per language of the question, when the file says it.
    by_lang: dict[str, list[bool]] = field(default_factory=dict)
    #: Out-of-scope questions honest by the issue's rule, which the score script does not
    #: check: no answer, and no menu of entries the question is not about either.
    oos_strict: list[bool] = field(default_factory=list)

    @property
    def outright(self) -> int:
        return self.outcomes["answered right"] + self.outcomes["answered WRONG"]

    @property
    def precision(self) -> float | None:
        """Share of outright in-scope answers that were right (a wrong one is the worst outcome)."""
        return self.outcomes["answered right"] / self.outright if self.outright else None

    @property
    def entry_precision(self) -> float | None:
        answered = self.by_entry["right"] + self.by_entry["wrong"]
        return self.by_entry["right"] / answered if answered else None


def offers_entries(reply: Reply) -> bool:
    """Whether a reply offers entries to choose from (a "did you mean" menu)."""
    return any(c.action.startswith("entry:") for c in reply.choices)


def judge(item: dict[str, Any], reply_routes: set[str], matched: bool, text: str) -> bool:
    """The evaluation rule of the shared score script, so `kb test FILE` agrees with it."""
    reply = text.lower()
    if item.get("oos"):
        return not matched and "emergency" not in reply_routes
    if item.get("crisis"):
        return "emergency" in reply_routes and any(n in reply for n in ("112", "113"))
    want = set(item.get("route") or [])
    if want and not reply_routes & want:
        return False
    words = [str(w).lower() for w in item.get("expect_any") or []]
    return not words or any(w in reply for w in words)


def _names(value: object) -> list[str]:
    """An item's `entry`: one id, a list of ids, or nothing."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return []


def score_questions(engine: Engine, path: Path) -> QuestionScore:
    """Score a question file in the shared dev-set format (extra keys such as `entry`,
    `url`, `lang` and `modelled` are read where useful and otherwise ignored).

    Raises:
        YamlProblem: The file cannot be read.
    """
    items = load_yaml_file(path)
    if not isinstance(items, list):
        raise YamlProblem(path, 1, "a question file is a list of {q: ..., route: [...]} items")
    result = QuestionScore({"in_scope": [], "out_of_scope": [], "crisis": []}, [], [])
    hit: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            continue
        # The same whitespace folding as the score script, which sends one line per question.
        reply = engine.ask(" ".join(item["q"].split()))
        judged = judge_reply(item, reply)
        matched, ok, group, offers = judged.matched, judged.ok, judged.group, judged.offers
        got = reply.entry if matched else None
        if got:
            hit.add(got)
        if group == "in_scope":
            result.lenient.append(ok)
            result.outcomes[judged.outcome] += 1
            expected = _names(item.get("entry"))
            # A confusion is an outright answer with another entry than the one named, or,
            # where the item names none, an outright answer that fails the route/word rule.
            if matched and (got not in expected if expected else not ok):
                result.confusions[(expected[0] if expected else "-", got or "-")] += 1
            if expected:
                if matched:
                    result.by_entry["right" if got in expected else "wrong"] += 1
                else:
                    result.by_entry["did you mean" if offers else "don't know"] += 1
            else:
                result.by_entry["no entry named"] += 1
            ok = ok and matched
            lang = item.get("lang")
            if isinstance(lang, str):
                result.by_lang.setdefault(lang, []).append(ok)
        elif group == "out_of_scope":
            result.oos_strict.append(ok and not offers)
        if judged.false_alarm:
            result.false_alarms += 1
        result.groups[group].append(ok)
        if not ok:
            # The question file is the coordinator's own test data, not a user message.
            result.failures.append(f"[{group}] {item['q']!r}: got {reply.kind.value} {got or ''}")
    result.never_hit = [e.id for e in engine.kb.entries if e.id not in hit]
    return result


def _share(xs: list[bool]) -> str:
    return f"{100 * sum(xs) / len(xs):.1f}% ({sum(xs)}/{len(xs)})" if xs else "n/a"


def _pct(value: float | None) -> str:
    return f"{100 * value:.1f}%" if value is not None else "n/a"


def format_question_score(score: QuestionScore, *, top: int = 10) -> list[str]:
    """The report of `kb test FILE`: strict figures first, then what went wrong."""
    every = [x for xs in score.groups.values() for x in xs]
    lines = [f"{name:>13}: {_share(xs)}" for name, xs in score.groups.items()]
    lines.append(f"score: {100 * sum(every) / max(len(every), 1):.1f}%")
    lines.append(
        "  in scope, strict (answered outright and right): "
        f"{_share(score.groups['in_scope'])}; lenient: {_share(score.lenient)}"
    )
    lines.append("  in scope outcomes: " + ", ".join(f"{k} {score.outcomes[k]}" for k in OUTCOMES))
    lines.append(
        f"  precision of outright answers: {_pct(score.precision)} "
        f"({score.outcomes[OUTCOMES[0]]}/{score.outright})"
    )
    named = sum(score.by_entry[k] for k in ("right", "wrong", "did you mean", "don't know"))
    if named:
        unknown = score.by_entry["don't know"]
        lines.append(
            f"  judged by entry ({named} items name their entry): "
            f"right {score.by_entry['right']}, wrong {score.by_entry['wrong']}, "
            f"did you mean {score.by_entry['did you mean']}, "
            f"don't know {unknown}; "
            f"precision {_pct(score.entry_precision)}"
        )
    if score.by_entry["no entry named"]:
        missing = score.by_entry["no entry named"]
        lines.append(f"  in scope, no entry in the knowledge base yet: {missing}")
    for lang, xs in sorted(score.by_lang.items()):
        lines.append(f"  in scope, strict, {lang}: {_share(xs)}")
    if score.oos_strict:
        lines.append(
            f"  out of scope, strict (no answer and no menu of entries): {_share(score.oos_strict)}"
        )
    crisis = score.groups["crisis"]
    lines.append(f"  crisis found: {sum(crisis)}/{len(crisis)}; false alarms: {score.false_alarms}")
    for (want, got), n in score.confusions.most_common(top):
        lines.append(f"  confusion: {want} -> {got} ({n}x)")
    for line in score.failures:
        lines.append(f"  FAIL {line}")
    lines.append(f"entries never hit by this file: {len(score.never_hit)}")
    return lines


def question_score_json(score: QuestionScore, *, top: int = 10) -> dict[str, Any]:
    """The same figures for `kb test FILE --json`."""

    def counts(xs: list[bool]) -> dict[str, int]:
        return {"right": sum(xs), "total": len(xs)}

    return {
        "in_scope_strict": counts(score.groups["in_scope"]),
        "in_scope_lenient": counts(score.lenient),
        "outcomes": {k: score.outcomes[k] for k in OUTCOMES},
        "precision": score.precision,
        "by_entry": {
            k: score.by_entry[k]
            for k in ("right", "wrong", "did you mean", "don't know", "no entry named")
        },
        "entry_precision": score.entry_precision,
        "by_lang": {lang: counts(xs) for lang, xs in sorted(score.by_lang.items())},
        "out_of_scope_honest": counts(score.groups["out_of_scope"]),
        "out_of_scope_strict": counts(score.oos_strict),
        "crisis_found": counts(score.groups["crisis"]),
        "false_alarms": score.false_alarms,
        "confusions": [
            {"expected": want, "answered": got, "count": n}
            for (want, got), n in score.confusions.most_common(top)
        ],
        "never_hit": score.never_hit,
    }


def format_problems(problems: Iterable[Problem]) -> list[str]:
    return [str(p) for p in sorted(problems, key=lambda p: (p.severity, p.path, p.line))]


Printer = Callable[[str], None]


def train_crisis_model(root: Path) -> tuple[int, int]:
    """Train the crisis model from a knowledge folder's examples and write its file.

    Returns:
        How many crisis and non-crisis examples it learned from.

    Raises:
        YamlProblem: When an example file cannot be read.
        ModelProblem: When an example file has the wrong shape.
    """
    crises, others = read_examples(root)
    if not crises or not others:
        raise ModelProblem("need crisis and non-crisis examples to learn from")
    model = train(
        crises,
        others,
        digest=examples_digest(training_files(root)),
        concepts=read_concepts(root),
    )
    (root / MODEL_FILE).write_text(model.to_json(), encoding="utf-8")
    return len(crises), len(others)
