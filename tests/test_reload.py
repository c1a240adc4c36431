"""The running bot's knowledge watcher: a broken change is refused with file and line."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path

from bot import Engine, configure_logging, load_knowledge_base
from bot.cli import watch_knowledge


async def wait_for(condition: object, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_watcher_keeps_last_good_and_says_why(test_kb_dir: Path) -> None:
    logs = io.StringIO()
    configure_logging("INFO", stream=logs)
    engine = Engine(load_knowledge_base(test_kb_dir))
    good_kb = engine.kb
    task = asyncio.create_task(watch_knowledge(engine, interval=0.05))
    try:
        path = test_kb_dir / "entries" / "test.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("    theme: integriteit\n", "    theme: integriteit\n    theme: x\n"),
            encoding="utf-8",
        )
        await wait_for(lambda: "refused" in logs.getvalue())
        assert engine.kb is good_kb
        assert "entries/test.yaml:" in logs.getvalue() and "appears twice" in logs.getvalue()
        assert engine.ask("ik word gepest").entry == "pesten"
        path.write_text(
            text.replace("Pesten op het werk", "Pesten op de afdeling"), encoding="utf-8"
        )
        await wait_for(lambda: engine.kb is not good_kb)
        assert engine.ask("ik word gepest").title == "Pesten op de afdeling"
        assert "reloaded" in logs.getvalue()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        configure_logging("WARNING", stream=io.StringIO())
