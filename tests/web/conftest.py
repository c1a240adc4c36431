"""The web chat served for real (aiohttp on loopback, in a thread) and a real Chromium.

Chromium comes from the system packages (`apt-get install chromium`, done by `make test`);
Playwright drives it by `executable_path`, since browser downloads are impossible here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from adapters.web._app import start
from adapters.web._settings import Settings
from bot import Engine, default_knowledge_dir, load_knowledge_base

CHROMIUM = os.environ.get("WEGWIJZER_CHROMIUM", "/usr/bin/chromium")
#: Screenshots of each state, for people to look at (not compared by the tests).
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "web"
#: Flags for a closed network: no calls to Google's services at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


@dataclass
class Server:
    url: str
    engine: Engine


def serve_in_thread(settings: Settings) -> Iterator[Server]:
    """Run the web chat on its own event loop in a thread; stop it afterwards."""
    engine = Engine(load_knowledge_base(default_knowledge_dir()))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}

    async def main() -> None:
        runner, port = await start(engine, settings)
        box["runner"], box["port"] = runner, port
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(main(), loop).result(timeout=30)
    ready.wait(10)
    try:
        yield Server(f"http://127.0.0.1:{box['port']}", engine)
    finally:
        runner = box["runner"]
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)  # type: ignore[attr-defined]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from serve_in_thread(Settings(port=0, per_conversation_per_minute=600))


def chromium() -> Iterator[Browser]:
    """The system Chromium under sync Playwright, for a module-scoped `browser` fixture.

    Module scope, never session: sync Playwright keeps an event loop running in this
    thread while it is open, which asyncio tests in later modules must not find.
    """
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test` (it installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
