"""Web chat throughput: turns per second and latency at 50 concurrent conversations,
beside a bare aiohttp JSON echo endpoint measured in the same run.

Both servers run in their own process on loopback; the load comes from this process.
Each conversation sends one turn at a time (a person waits for the answer). The figure
that matters is the ratio to the echo (target: >= 0.70). Both servers are one process;
the server CPU time per turn is printed too, since other work on a shared machine moves
turns/s a lot.

    .venv/bin/python bench/web_load.py [--seconds 10] [--conversations 50]

Measured 2026-11-30 (2-core shared machine, load average about 1), `--seconds 5`, the
code before and after the speed work run alternately, two runs each:

    before: echo 8,208 / 8,500 turns/s; web chat 713 / 712 turns/s, 1.43 / 1.42 ms CPU a turn
    after:  echo 8,640 / 9,014 turns/s; web chat 1,095 / 1,114 turns/s, 0.92 / 0.91 ms CPU a turn

Ratio 0.08 -> 0.12-0.13 (target 0.70: not met). The echo costs its server 0.07 ms CPU a
turn and is bound by this one-process client; the web chat's own layer (rendering, JSON,
headers, limits) costs about 0.1 ms more than the echo, the engine about 0.54 ms for these
questions in process (1.04 ms before). See docs/web.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "ik word gepest door mijn leidinggevende",
    "menu",
    "1",
    "hoeveel vakantiedagen heb ik",
    "wat doet een vertrouwenspersoon",
    "I am being bullied at work",
    "mag ik een cadeau aannemen van een leverancier",
    "ik ben ziek, wanneer moet ik naar de bedrijfsarts",
]

ECHO = """
import sys
from aiohttp import web
async def turn(request):
    data = await request.json()
    return web.json_response({"html": data.get("text", ""), "lang": "nl"})
app = web.Application()
app.router.add_post("/api/turn", turn)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""

BOT = """
import asyncio, sys
from bot import Engine, default_knowledge_dir, load_knowledge_base
from adapters.web import PLATFORM
engine = Engine(load_knowledge_base(default_knowledge_dir()))
env = {"WEGWIJZER_WEB_PORT": sys.argv[1], "WEGWIJZER_WEB_RATE": "10000",
       "WEGWIJZER_WEB_RATE_TOTAL": "100000"}
asyncio.run(PLATFORM.serve(engine, env))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(900):
            try:
                async with session.post(url, json={"token": "w" * 32, "text": "menu"}) as r:
                    if r.status in (200, 400):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, conversations: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def person() -> None:
            token = secrets.token_urlsafe(24)
            for q in itertools.cycle(QUESTIONS):
                if time.perf_counter() >= stop:
                    return
                t0 = time.perf_counter()
                async with session.post(url, json={"token": token, "text": q}) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(person() for _ in range(conversations)))
    return len(latencies), latencies


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(code: str, seconds: float, conversations: int) -> tuple[float, float, float, float]:
    """(turns/s, p50 ms, p99 ms, server CPU ms per turn) for one server."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port)], cwd=REPO)
    try:
        url = f"http://127.0.0.1:{port}/api/turn"
        asyncio.run(wait_up(url))
        asyncio.run(load(url, conversations, 1.0))  # warm-up
        cpu = cpu_seconds(proc.pid)
        n, lat = asyncio.run(load(url, conversations, seconds))
        cpu = cpu_seconds(proc.pid) - cpu
    finally:
        proc.terminate()
        proc.wait(10)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return n / seconds, statistics.median(lat) * 1000, p99 * 1000, cpu / max(n, 1) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--conversations", type=int, default=50)
    args = ap.parse_args()
    echo = run(ECHO, args.seconds, args.conversations)
    bot = run(BOT, args.seconds, args.conversations)
    print(f"{args.conversations} concurrent conversations, {args.seconds:.0f} s each, loopback")
    print(f"{'server':<22}{'turns/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/turn':>13}")
    for name, (rate, p50, p99, cpu) in (("aiohttp JSON echo", echo), ("Wegwijzer web chat", bot)):
        print(f"{name:<22}{rate:>10.0f}{p50:>10.1f}{p99:>10.1f}{cpu:>13.3f}")
    print(f"ratio web chat / echo: {bot[0] / echo[0]:.2f} (target >= 0.70)")
    # The load comes from this machine too, and other work shares its cores: the server
    # CPU time per turn says what one core would serve, whatever else ran beside it.
    print(f"ratio by server CPU per turn (echo / web chat): {echo[3] / bot[3]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
