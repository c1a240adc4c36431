"""No message content is stored: a canary string through every engine channel, then search."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bot import Engine, Message, configure_logging

REPO = Path(__file__).resolve().parent.parent
WEGWIJZER = [sys.executable, "-m", "bot.cli"]
SKIP_DIRS = {".venv", ".venv-synapse", ".git", "node_modules"}


def new_canary() -> str:
    return f"kanarie{uuid.uuid4().hex}"


def files_written_since(root: Path, since: float) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            try:
                if path.is_file() and path.stat().st_mtime >= since:
                    found.append(path)
            except OSError:
                continue
    return found


def assert_nowhere(canary: str, outputs: list[str], roots: list[Path], since: float) -> int:
    for text in outputs:
        assert canary not in text
    checked = 0
    for root in roots:
        for path in files_written_since(root, since):
            checked += 1
            assert canary.encode() not in path.read_bytes(), path
    return checked


@pytest.mark.parametrize("command", ["chat", "ask", "ask --json", "run"])
def test_canary_through_cli(command: str, test_kb_dir: Path, tmp_path: Path) -> None:
    canary = new_canary()
    since = time.time() - 1
    messages = [
        f"ik word gepest {canary}",
        f"{canary}",
        f"ik wil niet meer leven {canary}",
        f"organisatie {canary}",
        f"\x00{canary}\u202e",
        f"{canary} " * 2000,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEGWIJZER_")}
    env.update(
        HOME=str(tmp_path),
        WEGWIJZER_DATA_DIR=str(tmp_path / "data"),
        WEGWIJZER_LOG_LEVEL="DEBUG",
        PYTHONDEVMODE="1",
    )
    out = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), *command.split()],
        input="\n".join(messages) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip()
    assert_nowhere(canary, [out.stdout, out.stderr], [tmp_path, REPO], since)


def test_canary_not_in_logs_or_tracebacks() -> None:
    canary = new_canary()
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    try:
        logging.getLogger("nio.events.misc").warning("event without msgtype: %s", {"body": canary})
        logging.getLogger("botbuilder.core").error(f"turn error {canary}")
        logging.getLogger("aiohttp.access").info("GET /%s", canary)
        try:
            raise ValueError(f"cannot parse {canary}")
        except ValueError:
            logging.getLogger("wegwijzer.test").exception("handler failed")
            logging.getLogger("someone.else").exception("handler failed")
    finally:
        configure_logging("WARNING", stream=io.StringIO())
    text = stream.getvalue()
    assert canary not in text
    assert "ValueError" in text and "handler failed" in text  # still useful for debugging
    assert "withheld" in text


def test_engine_debug_logging_holds_no_text(engine: Engine) -> None:
    canary = new_canary()
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    try:
        for text in (f"ik word gepest {canary}", canary, f"ik wil dood {canary}", f"menu {canary}"):
            reply = engine.respond(Message("p", text))
            assert canary not in reply.plain_text()
    finally:
        configure_logging("WARNING", stream=io.StringIO())
    assert canary not in stream.getvalue()


def test_uncaught_exception_hook_withholds_message(tmp_path: Path) -> None:
    canary = new_canary()
    code = (
        "from bot import configure_logging\n"
        "configure_logging('DEBUG')\n"
        f"raise RuntimeError('{canary[:7]}' + '{canary[7:]}')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "RuntimeError" in out.stderr and canary not in out.stderr
