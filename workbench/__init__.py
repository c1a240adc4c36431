"""The coordinator workbench: `wegwijzer kb serve`, a local web page over a knowledge folder.

It shows the knowledge base as the bot sees it (problems with file and line, counts,
reviews, dangling references), each entry as every channel shows it, why a question finds
the entries it finds, and how a question file scores. It reads the YAML and never writes
it; it follows the files and updates the open pages when they change. Nothing typed in it
is kept or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import sys
from pathlib import Path

from workbench._app import start
from workbench._state import Workbench
from workbench._views import wording

log = logging.getLogger("workbench")

DEFAULT_PORT = 8090
DEFAULT_HOST = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(knowledge: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Run the workbench until Ctrl-C or SIGTERM; returns the exit code."""
    if not is_loopback(host):
        print(wording("cli_open_host").format(host=host), file=sys.stderr)
    wb = Workbench(knowledge)

    async def run() -> None:
        runner, bound = await start(wb, host, port)
        shown = f"[{host}]" if ":" in host else host
        print(wording("cli_listening").format(url=f"http://{shown}:{bound}/"), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(run())
    except OSError as exc:
        print(wording("cli_cannot_listen").format(error=exc.strerror or exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
