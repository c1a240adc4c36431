"""The workbench served for real (aiohttp on loopback, in a thread) over a copy of the
knowledge folder in tmp, so tests can edit and break the files; a real Chromium.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bot import default_knowledge_dir
from tests.web.conftest import chromium
from workbench._app import start
from workbench._state import Workbench

#: Screenshots of each page, for people to look at (not compared by the tests).
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "workbench"


@dataclass
class Server:
    url: str
    root: Path
    workbench: Workbench


def copy_knowledge(tmp: Path) -> Path:
    root = tmp / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    return root


def serve_in_thread(root: Path, host: str = "127.0.0.1") -> Iterator[Server]:
    """Run the workbench on its own event loop in a thread; stop it afterwards."""
    wb = Workbench(root)
    loop = asyncio.new_event_loop()
    box: dict[str, object] = {}

    async def main() -> None:
        box["runner"], box["port"] = await start(wb, host, 0)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(main(), loop).result(timeout=30)
    try:
        yield Server(f"http://{host}:{box['port']}", root, wb)
    finally:
        runner = box["runner"]
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)  # type: ignore[attr-defined]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve_in_thread(copy_knowledge(tmp_path_factory.mktemp("wb")))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
