"""The adapter contract against the console adapter, one running chat over a real pipe."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.console import run_console
from bot import Engine, configure_logging
from tests.adapter_contract import AdapterContract, Harness


class _Out(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
async def harness(engine: Engine, tmp_path: Path) -> AsyncIterator[Harness]:
    logs = io.StringIO()
    configure_logging("DEBUG", stream=logs)
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
    writer = os.fdopen(write_fd, "w", encoding="utf-8")
    out = _Out()
    task = asyncio.create_task(run_console(engine, stdin, out))

    async def send(text: str) -> str:
        start = len(out.getvalue())
        writer.write(text.replace("\n", " ") + "\n")
        writer.flush()
        for _ in range(500):  # every reply ends with a blank line
            await asyncio.sleep(0.01)
            seen = out.getvalue()[start:]
            if seen.endswith("\n\n"):
                return seen
        raise AssertionError("the console did not answer")

    yield Harness(send=send, written=[tmp_path], captured=logs.getvalue)
    writer.close()
    assert await asyncio.wait_for(task, 10) == 0
    stdin.close()
    with contextlib.suppress(Exception):
        configure_logging("WARNING", stream=io.StringIO())


class TestConsoleContract(AdapterContract):
    pass
