"""Engine benchmark: load time, per-question latency, peak memory and dev-set score.

Runs, for the bundled knowledge base and generated ones 10x and 100x larger, the engine
and side by side in the same process a naive baseline (rapidfuzz `process.extractOne`
over the raw phrasings). Each size runs in its own child process so peak memory is
that size's own. Then the real question sets (knowledge/tests/real/: every tune*.yaml and
sealed), scored strictly, for the engine beside BM25 (bm25s with stemming) and the naive
rapidfuzz baseline, and the reliability table of the engine's decision
(bench/realsets.py). Prints figures and ratios; asserts nothing (machines are shared).

    .venv/bin/python bench/engine.py [--sizes 1,10,100] [--dev ../shared/eval/dev.yaml]
        [--real FILE,FILE,...]   (default: every tune*.yaml and sealed in knowledge/tests/real/)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rapidfuzz import process  # noqa: E402

from bot import Engine, Message, ReplyKind, load_knowledge_base  # noqa: E402
from bot._kbtools import judge  # noqa: E402
from bot._semantic import (  # noqa: E402
    VECTORS_FILE,
    digest,
    load_embedder,
    read_vectors,
    write_vectors,
)
from bot._yaml import load_yaml_file  # noqa: E402

DEFAULT_DEV = REPO.parent / "shared" / "eval" / "dev.yaml"
REAL = REPO / "knowledge" / "tests" / "real"
#: The real sets tuned on (tune.yaml, tune2.yaml, ... in number order, every one there is);
#: sealed is scored beside them but never timed or tuned on.
TUNING = tuple(
    sorted(
        (p.stem for p in REAL.glob("tune*.yaml")),
        key=lambda n: int(n.removeprefix("tune") or 1),
    )
)
DEFAULT_REAL = ",".join(str(REAL / f"{n}.yaml") for n in (*TUNING, "sealed"))
BASELINE_CUTOFF = 70.0


def make_scaled_kb(factor: int, dest: Path) -> Path:
    """The bundled knowledge base with every entry repeated `factor` times.

    Copies get their own id and a made-up word in every phrasing, so the vocabulary and
    the index grow as they would with real new entries.
    """
    import yaml

    root = dest / "knowledge"
    shutil.copytree(REPO / "knowledge", root, ignore=shutil.ignore_patterns("*.md"))
    if factor == 1:
        return root
    embedder = load_embedder()
    model = embedder.name if embedder else ""
    stored = read_vectors(root / VECTORS_FILE, model)
    vectors = {k: stored.matrix[i] for k, i in stored.rows.items()}
    # Copies go in files of their own: one file per theme and copy keeps every file well
    # under the loader's size limit, as a coordinator's split files would.
    for path in sorted((root / "entries").glob("*.yaml")):
        originals = yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]
        for k in range(1, factor):
            tag = f"synth{k}"
            out = []
            for e in originals:
                c = copy.deepcopy(e)  # keeps `reviewed` a date, as the loader wants
                c["id"] = f"{e['id']}-{tag}"
                c["related"] = [f"{r}-{tag}" for r in e.get("related", [])]
                for lang in ("nl", "en"):
                    if lang in c:
                        word = f"{tag}{e['id'].replace('-', '')[:6]}"
                        c[lang]["questions"] = [f"{q} {word}" for q in c[lang]["questions"]]
                        c[lang]["title"] = f"{c[lang]['title']} ({word})"
                        # A copy's phrasings reuse their original's stored vectors, as
                        # `wegwijzer kb embed` would have stored real new ones.
                        for old, new in zip(
                            (e[lang]["title"], *e[lang]["questions"]),
                            (c[lang]["title"], *c[lang]["questions"]),
                            strict=True,
                        ):
                            if digest(old) in vectors:
                                vectors[digest(new)] = vectors[digest(old)]
                out.append(c)
            dest_file = path.with_name(f"{path.stem}-{tag}.yaml")
            dest_file.write_text(
                yaml.safe_dump({"entries": out}, allow_unicode=True, sort_keys=False),
                encoding="utf-8",
            )
    if model:
        # The probes stay as stored: the crisis examples are the same, and a scope probe
        # fitted at start from every copy's phrasings would cost gigabytes at 100x.
        write_vectors(root / VECTORS_FILE, model, vectors, stored.probe, stored.scope)
    return root


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Baseline:
    """The naive matcher: best raw phrasing by rapidfuzz WRatio, no normalisation at all."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.choices: list[str] = []
        self.owner: list[str] = []
        for e in engine.kb.entries:
            for t in e.texts.values():
                for q in t.questions:
                    self.choices.append(q)
                    self.owner.append(e.id)

    def ask(self, text: str) -> tuple[str | None, set[str], bool, str]:
        hit = process.extractOne(text, self.choices, score_cutoff=BASELINE_CUTOFF)
        if hit is None:
            return None, set(), False, ""
        eid = self.owner[hit[2]]
        # The same reply text as the engine would give for that entry: only matching differs.
        reply = self.engine.respond(Message("baseline", "", action=f"entry:{eid}"))
        return eid, set(reply.routes), True, reply.plain_text()


def timed_over(fn: Any, questions: list[str]) -> list[float]:
    out = []
    for q in questions:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def one_size(factor: int, dev: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_scaled_kb(factor, Path(tmp))
        t0 = time.perf_counter()
        kb = load_knowledge_base(root)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine = Engine(kb)
        index_s = time.perf_counter() - t0
    baseline = Baseline(engine)
    questions: list[str] = []
    items: list[dict[str, Any]] = []
    if dev is not None and dev.is_file():
        items = [i for i in load_yaml_file(dev) if isinstance(i, dict)]
        questions += [str(i["q"]) for i in items]
    originals = [e for e in kb.entries if "-synth" not in e.id]
    questions += [q for e in originals[:60] for q in e.text("nl").questions[:2]]
    questions += ["waar kan ik parkeren", "ik wordt gepest door mn baas", "qwerty", "x" * 4000]

    def timed(fn: Any) -> list[float]:
        return timed_over(fn, questions)

    timed(engine.ask)  # warm caches (stemmer memo) as a running bot would have them
    engine_ms = timed(engine.ask)
    base_ms = timed(baseline.ask)
    # Real questions (the tuning sets): the sentence model runs for their "did you mean" only.
    real = [
        str(i["q"])
        for name in TUNING
        for i in load_yaml_file(REAL / f"{name}.yaml")
        if isinstance(i, dict) and not i.get("crisis")
    ]
    consulted = 0
    check = engine.decider.check
    if check is not None:
        view = check.view

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal consulted
            consulted += 1
            return view(*args, **kwargs)

        check.view = counted  # type: ignore[method-assign]
    real_ms = timed_over(engine.ask, real)
    check_share = consulted / max(1, len(real))
    engine.decider.check = None
    plain_ms = timed_over(engine.ask, real)
    engine.decider.check = check
    result: dict[str, Any] = {
        "factor": factor,
        "entries": len(kb.entries),
        "phrasings": len(baseline.choices),
        "load_s": round(load_s, 3),
        "index_s": round(index_s, 3),
        "engine_p50_ms": round(percentile(engine_ms, 50), 3),
        "engine_p99_ms": round(percentile(engine_ms, 99), 3),
        "baseline_p50_ms": round(percentile(base_ms, 50), 3),
        "baseline_p99_ms": round(percentile(base_ms, 99), 3),
        "real_p50_ms": round(percentile(real_ms, 50), 3),
        "real_p99_ms": round(percentile(real_ms, 99), 3),
        "real_plain_p50_ms": round(percentile(plain_ms, 50), 3),
        "real_plain_p99_ms": round(percentile(plain_ms, 99), 3),
        "model_share": round(check_share, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if items:
        eng_ok = []
        base_ok = []
        for item in items:
            r = engine.ask(str(item["q"]))
            eng_ok.append(judge(item, set(r.routes), r.kind is ReplyKind.ANSWER, r.plain_text()))
            _, routes, matched, text = baseline.ask(str(item["q"]))
            base_ok.append(judge(item, routes, matched, text))
        result["engine_dev_score"] = round(100 * sum(eng_ok) / len(eng_ok), 1)
        result["baseline_dev_score"] = round(100 * sum(base_ok) / len(base_ok), 1)
    return result


def console_rss(dev: Path | None) -> float:
    """Peak RSS (MB) of the real console bot answering the dev set through a pipe."""
    lines = "ik word gepest\n"
    if dev is not None and dev.is_file():
        lines = "".join(str(i["q"]) + "\n" for i in load_yaml_file(dev) if isinstance(i, dict))
    # RUSAGE_CHILDREN would report the largest child so far (the 100x run), so
    # wait for this one child and read its own rusage.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    assert proc.stdin is not None
    proc.stdin.write(lines)
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"console bot exited with {proc.returncode}")
    return round(usage.ru_maxrss / 1024, 1)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1,10,100")
    ap.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    ap.add_argument("--real", default=DEFAULT_REAL, help="comma-separated real question sets")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    dev = args.dev if args.dev.is_file() else None
    if args.one:
        print(json.dumps(one_size(args.one, dev)))
        return 0
    rows = []
    for factor in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(factor), "--dev", str(args.dev)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        "size  entries phrasings  load_s index_s  engine p50/p99 ms   baseline p50/p99 ms  "
        "p99 ratio  peak RSS MB  dev score engine/baseline"
    )
    for r in rows:
        ratio = r["engine_p99_ms"] / max(r["baseline_p99_ms"], 1e-9)
        score = f"{r.get('engine_dev_score', 'n/a')}% / {r.get('baseline_dev_score', 'n/a')}%"
        print(
            f"{r['factor']:>4}x {r['entries']:>7} {r['phrasings']:>9}  {r['load_s']:>6.3f} "
            f"{r['index_s']:>7.3f}  "
            f"{r['engine_p50_ms']:>7.3f} / {r['engine_p99_ms']:<8.3f}  "
            f"{r['baseline_p50_ms']:>7.3f} / "
            f"{r['baseline_p99_ms']:<8.3f}  {ratio:>8.2f}x  {r['peak_rss_mb']:>10.1f}  {score}"
        )
    print(
        "real questions (the tuning sets), p50/p99 ms with the sentence model / without it "
        "(WEGWIJZER_SEMANTIC=off), and the share of questions the model read:"
    )
    for r in rows:
        print(
            f"{r['factor']:>4}x  {r['real_p50_ms']:.3f} / {r['real_p99_ms']:.3f}   "
            f"{r['real_plain_p50_ms']:.3f} / {r['real_plain_p99_ms']:.3f}   "
            f"{100 * r['model_share']:.0f}%"
        )
    print(f"console bot peak RSS (dev set piped through `wegwijzer chat`): {console_rss(dev)} MB")
    print("targets: p99 <= 2 ms (1x), <= 10 ms (100x); load <= 1 s (10x); console RSS <= 150 MB")
    print("load_s: reading and checking the YAML; index_s: building the matcher's index")
    real = [Path(p) for p in args.real.split(",") if p]
    if real:
        from realsets import report

        print("real questions, strict (answered outright and right):")
        print("\n".join(report(Engine(load_knowledge_base(REPO / "knowledge")), real)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
