"""The `wegwijzer` command: run, chat, ask, kb validate|test|stats, teams-package, report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot._config import (
    counsellors_only,
    default_data_dir,
    default_knowledge_dir,
    log_level,
    semantic_enabled,
)
from bot._crisis_model import MODEL_FILE, ModelProblem
from bot._engine import Engine
from bot._kb import KnowledgeBaseError, fingerprint, load_knowledge_base
from bot._kbtools import (
    format_problems,
    format_question_score,
    lint,
    question_score_json,
    score_questions,
    self_test,
    stats,
    train_crisis_model,
)
from bot._metrics import metrics_settings, start_metrics_server
from bot._privacy import asyncio_exception_handler, configure_logging
from bot._semantic import VECTORS_FILE, embed_knowledge
from bot._stats import StatsSettingsError, run_flusher, stats_from_env
from bot._stats_store import StatsStoreError
from bot._stores import store_from_env
from bot._types import Reply, ReplyKind
from bot._yaml import YamlProblem

if TYPE_CHECKING:
    from adapters import Platform

log = logging.getLogger("wegwijzer.cli")

RELOAD_SECONDS = 5.0


def _load(args: argparse.Namespace, out: TextIO) -> Engine | None:
    try:
        counsellors = counsellors_only()
        semantic = semantic_enabled()
    except ValueError as exc:
        print(f"cannot start: {exc}", file=out)
        return None
    try:
        kb = load_knowledge_base(Path(args.knowledge))
        return Engine(kb, counsellors=counsellors, semantic=semantic)
    except KnowledgeBaseError as exc:
        for line in format_problems(exc.problems):
            print(line, file=out)
        print(f"The knowledge base in {args.knowledge} was refused.", file=out)
        return None


def cmd_run(args: argparse.Namespace) -> int:
    configure_logging(log_level())
    env = _env(args)
    try:
        # Before any conversation key is made: it may set the shared key secret.
        store = store_from_env(env)
        metrics_settings(env)
    except ValueError as exc:
        log.error("cannot start: %s", exc)
        return 2
    engine = _load(args, sys.stderr)
    if engine is None:
        return 2
    engine.store = store
    from adapters import SettingsError, configured

    try:
        chosen = configured(env)
        for platform in chosen:
            platform.check(env)
    except SettingsError as exc:
        log.error("cannot start: %s", exc)
        return 2
    except ImportError as exc:
        # A configured platform whose SDK is not installed (`pip install -e '.[matrix]'`).
        log.error("cannot start: a configured platform cannot be loaded (%s)", exc.name)
        return 2
    try:
        engine.stats = stats_from_env(env, default_data_dir(env))
    except (StatsSettingsError, StatsStoreError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    if not chosen:
        log.info("no chat platform configured: starting the console chat")
        return _console(engine, env)
    try:
        asyncio.run(_serve(engine, env, chosen))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    except ValueError as exc:  # SettingsError, or a bad setting found while starting
        log.error("cannot start: %s", exc)
        return 2
    return 0


def _env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if getattr(args, "lang", None):
        env["WEGWIJZER_LANG"] = args.lang
    return env


async def _serve(engine: Engine, env: Mapping[str, str], chosen: list[Platform]) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(asyncio_exception_handler)
    # systemd and container runtimes stop a service with SIGTERM: shut down as on Ctrl-C,
    # so adapters close cleanly (Matrix keeps its keys and sync token).
    me = asyncio.current_task()
    if me is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, me.cancel)
    watcher = asyncio.create_task(watch_knowledge(engine))
    # Use figures: one batch about once an hour and at shutdown, never per message.
    flusher = asyncio.create_task(run_flusher(engine.stats)) if engine.stats else None
    ops = await _start_metrics(engine, env)
    try:
        await asyncio.gather(*(p.serve(engine, env) for p in chosen))
    finally:
        for task in (watcher, flusher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if ops is not None:
            ops.close()
        close = getattr(engine.store, "close", None)
        if close is not None:
            await close()


async def _start_metrics(engine: Engine, env: Mapping[str, str]) -> asyncio.Server | None:
    """`/metrics` and `/healthz` on `WEGWIJZER_METRICS_PORT`, when it is set."""
    settings = metrics_settings(env)
    if settings is None:
        return None

    async def health() -> dict[str, Any]:
        probe = getattr(engine.store, "probe", None)
        shared = probe is not None
        healthy = await probe() if probe is not None else engine.store.healthy
        return {
            "status": "ok" if healthy else "degraded",
            "state": ("redis" if healthy else "memory (redis unreachable)") if shared else "memory",
            "entries": len(engine.kb.entries),
        }

    server = await start_metrics_server(engine.metrics, health, settings.host, settings.port)
    port = server.sockets[0].getsockname()[1] if server.sockets else settings.port
    log.info("metrics on http://%s:%d/metrics", settings.host, port)
    return server


async def watch_knowledge(engine: Engine, interval: float = RELOAD_SECONDS) -> None:
    """Reload the knowledge base when its files change; keep the last good one on errors."""
    reloads = engine.metrics.kb_reloads
    seen = engine.kb.fingerprint
    while True:
        await asyncio.sleep(interval)
        try:
            current = fingerprint(engine.kb.root)
        except OSError:
            continue
        if current == seen:
            continue
        seen = current
        error = engine.reload()
        reloads.labels("loaded" if error is None else "refused").inc()
        if error is None:
            log.info("knowledge base reloaded: %d entries", len(engine.kb.entries))
        else:
            log.error("new knowledge base refused; still using the last good one")
            for line in format_problems(p for p in error.problems if p.severity == "error"):
                log.error("%s", line)


def _console(engine: Engine, env: Mapping[str, str]) -> int:
    from adapters import SettingsError, load

    console = load("console")
    try:
        console.check(env)
    except SettingsError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2

    async def chat() -> None:
        # Use figures (only when `run` set them up): written at shutdown, never per message.
        flusher = asyncio.create_task(run_flusher(engine.stats)) if engine.stats else None
        try:
            await console.serve(engine, env)
        finally:
            if flusher is not None:
                flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flusher

    asyncio.run(chat())
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    engine = _load(args, sys.stderr)
    if engine is None:
        return 2
    return _console(engine, _env(args))


def reply_json(reply: Reply, engine: Engine) -> dict[str, Any]:
    """One line of `ask --json`, exactly as the evaluation contract describes."""
    if reply.kind is ReplyKind.ANSWER and reply.entry:
        entry = engine.kb.by_id[reply.entry]
        related = [engine.kb.by_id[r] for r in entry.related if r in engine.kb.by_id]
        suggestions = [{"entry": e.id, "title": e.text(reply.lang).title} for e in related]
    else:
        suggestions = [
            {"entry": c.action.removeprefix("entry:"), "title": c.label}
            for c in reply.choices
            if c.action.startswith("entry:")
        ]
    return {
        "matched": reply.kind is ReplyKind.ANSWER,
        "entry": reply.entry if reply.kind is ReplyKind.ANSWER else None,
        "confidence": round(reply.confidence, 3),
        "routes": list(reply.routes),
        "crisis": reply.crisis is not None,
        "lang": reply.lang,
        "reply": reply.plain_text(),
        "suggestions": suggestions,
    }


def cmd_ask(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    engine = _load(args, sys.stderr)
    if engine is None:
        return 2
    questions = [args.question] if args.question is not None else None

    def emit(question: str) -> None:
        reply = engine.ask(question, args.lang)
        if args.json:
            sys.stdout.write(json.dumps(reply_json(reply, engine), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(reply.plain_text() + "\n\n")
        sys.stdout.flush()

    if questions is not None:
        emit(questions[0])
        return 0
    for line in sys.stdin:
        emit(line.rstrip("\n"))
    return 0


def cmd_kb_validate(args: argparse.Namespace) -> int:
    try:
        kb = load_knowledge_base(Path(args.knowledge))
    except KnowledgeBaseError as exc:
        for line in format_problems(exc.problems):
            print(line)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"{errors} error(s): the knowledge base would be refused.")
        return 1
    problems = [*kb.warnings, *lint(kb)]
    for line in format_problems(problems):
        print(line)
    print(
        f"OK: {len(kb.entries)} entries, {len(kb.organisations)} organisation(s), "
        f"{len(problems)} warning(s)."
    )
    return 0


def cmd_kb_embed(args: argparse.Namespace) -> int:
    root = Path(args.knowledge)
    try:
        kb = load_knowledge_base(root)
    except KnowledgeBaseError as exc:
        for line in format_problems(exc.problems):
            print(line)
        return 1
    try:
        held, new = embed_knowledge(kb)
    except RuntimeError as exc:
        print(f"cannot embed: {exc}")
        return 1
    print(f"{root / VECTORS_FILE}: {held} phrasings, {new} newly embedded.")
    return 0


def cmd_kb_train_crisis(args: argparse.Namespace) -> int:
    root = Path(args.knowledge)
    try:
        crises, others = train_crisis_model(root)
    except YamlProblem as exc:
        print(f"{exc.path}:{exc.line}: {exc.message}")
        return 1
    except ModelProblem as exc:
        print(exc.message)
        return 1
    print(
        f"crisis model written to {root / MODEL_FILE}: "
        f"learned from {crises} crisis and {others} other examples."
    )
    return 0


def cmd_kb_test(args: argparse.Namespace) -> int:
    engine = _load(args, sys.stdout)
    if engine is None:
        return 1
    result = self_test(engine)
    status = 0 if result.found == result.total else 1
    score = None
    if args.questions:
        try:
            score = score_questions(engine, Path(args.questions))
        except YamlProblem as exc:
            print(f"{exc.path}:{exc.line}: {exc.message}")
            return 1
    if args.json:
        figures: dict[str, Any] = {
            "own_phrasings": {"found": result.found, "total": result.total},
            "own_confusions": [
                {"expected": a, "answered": b, "count": n}
                for (a, b), n in result.confusions.most_common()
            ],
        }
        if score is not None:
            figures["questions"] = question_score_json(score)
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return status
    pct = 100.0 * result.found / max(result.total, 1)
    print(f"own phrasings: {result.found}/{result.total} find their entry ({pct:.1f}%)")
    for eid, lang, phrasing, kind, got in result.misses:
        print(f'  miss: {eid} ({lang}) "{phrasing}" -> {kind} {got or ""}')
    for (a, b), n in result.confusions.most_common():
        print(f"  confusion: {a} -> {b} ({n}x)")
    if score is not None:
        for line in format_question_score(score):
            print(line)
    return status


def cmd_kb_stats(args: argparse.Namespace) -> int:
    engine = _load(args, sys.stderr)
    if engine is None:
        return 1
    figures = stats(engine.kb)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


def cmd_kb_serve(args: argparse.Namespace) -> int:
    """The coordinator workbench: a tool beside the bot, so it is loaded only when asked for."""
    configure_logging("WARNING")
    workbench = importlib.import_module("workbench")
    code: int = workbench.serve(Path(args.knowledge), host=args.host, port=args.port)
    return code


def cmd_teams_package(args: argparse.Namespace) -> int:
    configure_logging("WARNING")
    from adapters import PLATFORMS

    # Building the package is Teams-only, so it is a function of that module, not of the
    # platform contract; the registry still says where the module is.
    teams = importlib.import_module(PLATFORMS["teams"])
    try:
        path = teams.build_package(Path(args.out), dict(os.environ))
    except ValueError as exc:
        print(f"cannot build the package: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The yearly report (or the weak spots) from the stored use figures."""
    from bot._report_render import report_command

    configure_logging("WARNING")
    engine = _load(args, sys.stderr)
    if engine is None:
        return 2
    return report_command(
        engine.kb,
        dict(os.environ),
        year=args.year,
        org=args.org,
        out=Path(args.out) if args.out is not None else None,
        as_json=args.json,
        weak=args.weak_spots,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wegwijzer", description=__doc__)
    parser.add_argument(
        "--knowledge",
        default=str(default_knowledge_dir()),
        help="knowledge folder (default: bundled)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
        "run": (cmd_run, "start every configured platform, or the console chat"),
        "chat": (cmd_chat, "chat in this terminal (reads piped input line by line too)"),
        "ask": (cmd_ask, "answer one question, or one per input line"),
        "teams-package": (cmd_teams_package, "build the Teams app package (zip)"),
        "report": (cmd_report, "the yearly use figures for counsellors (small numbers hidden)"),
    }
    parsers = {}
    for name, (func, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        parsers[name] = p
    for name in ("run", "chat", "ask"):
        parsers[name].add_argument("--lang", choices=["nl", "en"], default=None)
    parsers["ask"].add_argument("--json", action="store_true", help="one JSON object per answer")
    parsers["ask"].add_argument("question", nargs="?", help="the question (default: read stdin)")
    parsers["teams-package"].add_argument("--out", default="build", help="output folder")
    rep = parsers["report"]
    rep.add_argument("--year", type=int, default=_dt.date.today().year, help="ISO year")
    rep.add_argument("--org", default=None, help="one organisation id (default: all)")
    rep.add_argument("--out", default=None, help="folder for report.html, .pdf and .csv")
    rep.add_argument("--json", action="store_true", help="print the same figures as JSON")
    rep.add_argument(
        "--weak-spots", action="store_true", help="for coordinators: answers that did not help"
    )
    kb = sub.add_parser("kb", help="check the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_commands: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
        "validate": (cmd_kb_validate, "check every file; exit 1 on errors"),
        "test": (cmd_kb_test, "check every entry is found from its own phrasings"),
        "stats": (cmd_kb_stats, "figures about the knowledge base"),
        "train-crisis": (cmd_kb_train_crisis, "learn the crisis model from the examples"),
        "embed": (cmd_kb_embed, "store the sentence model's vectors of every phrasing"),
        "serve": (
            cmd_kb_serve,
            "the workbench: see, try and review the knowledge base in a browser",
        ),
    }
    for name, (func, help_text) in kb_commands.items():
        p = kb_sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        if name == "test":
            p.add_argument("questions", nargs="?", help="a question file in the dev-set format")
            p.add_argument("--json", action="store_true", help="the figures as one JSON object")
        if name == "stats":
            p.add_argument("--json", action="store_true")
        if name == "serve":
            p.add_argument("--port", type=int, default=8090, help="port (default 8090)")
            p.add_argument(
                "--host",
                default="127.0.0.1",
                help="address (default 127.0.0.1: this computer only)",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
