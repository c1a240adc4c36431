"""Replicas benchmark: two replicas sharing state in Redis against one with memory state.

Each setup runs real `wegwijzer run` processes with the Teams endpoint (JWT checked,
tokens from a local OpenID server), the bundled knowledge base, and a real redis-server
on loopback (no persistence). N concurrent personal conversations each keep one message
in flight and repeat: "menu", a theme number, "1" (the first entry of that theme).
With two replicas every message goes to the other replica than the one before, as a
load balancer without sticky sessions would send it, so every follow-up depends on
state written by the other process.

Prints throughput, p50/p99 latency and the share of follow-ups answered in the right
context (the theme's entries; that entry's answer), which must be 100%. Asserts only
that share (machines are shared, so times vary).

    .venv/bin/python bench/replicas.py [--seconds 10] [--warmup 2] [--conversations 50]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import psutil  # noqa: E402

from bot import default_knowledge_dir, load_knowledge_base  # noqa: E402
from tests.replicas.redis_server import RedisServer  # noqa: E402
from tests.replicas.replica import (  # noqa: E402
    Conversation,
    Peers,
    Replica,
    replica_env,
    start_peers,
)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    follow_ups: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)


def expectations(knowledge: Path) -> list[tuple[int, list[str], str]]:
    """Per theme with entries: its number, its entries' actions, its first entry's title."""
    kb = load_knowledge_base(knowledge)
    out = []
    for number, theme in enumerate(kb.themes, start=1):
        entries = [e for e in kb.entries if e.theme == theme.id]
        if entries:
            out.append((number, [f"entry:{e.id}" for e in entries], entries[0].text("nl").title))
    return out


async def converse(
    chat: Conversation,
    replicas: list[Replica],
    themes: list[tuple[int, list[str], str]],
    offset: int,
    tally: Tally,
    measuring: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    turn = itertools.count(offset)
    rounds = itertools.count(offset)

    async def say(text: str) -> tuple[list[str], str]:
        replica = replicas[next(turn) % len(replicas)]
        started = time.perf_counter()
        said = await chat.say(replica, text)
        if measuring.is_set():
            tally.latencies.append(time.perf_counter() - started)
        return said.actions, said.text

    while not stop.is_set():
        number, entries, title = themes[next(rounds) % len(themes)]
        await say("menu")
        actions, _ = await say(str(number))
        counted = measuring.is_set()
        ok = actions == entries
        _, text = await say("1")
        ok_answer = title in text
        if counted:
            tally.follow_ups += 2
            tally.right += ok + ok_answer
            if not ok:
                tally.wrong.append(f"theme {number}: {actions[:3]}")
            if not ok_answer:
                tally.wrong.append(f"answer to theme {number}: no {title!r}")


async def run_setup(
    name: str,
    count: int,
    state_url: str | None,
    peers: Peers,
    knowledge: Path,
    folder: Path,
    args: argparse.Namespace,
) -> dict[str, float]:
    # The default Redis timeout (the tests use a shorter one).
    env = replica_env(
        peers, state_url, WEGWIJZER_LOG_LEVEL="WARNING", WEGWIJZER_STATE_TIMEOUT_MS="1000"
    )
    names = [f"{name}-{i}" for i in range(count)]
    replicas = [Replica(n, folder / n, env, knowledge) for n in names]
    themes = expectations(knowledge)
    tally = Tally()
    measuring, stop = asyncio.Event(), asyncio.Event()
    connector = aiohttp.TCPConnector(limit=args.conversations * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            for r in replicas:
                await r.start(session)
            chats = [Conversation(session, peers) for _ in range(args.conversations)]
            tasks = [
                asyncio.create_task(converse(c, replicas, themes, i, tally, measuring, stop))
                for i, c in enumerate(chats)
            ]
            await asyncio.sleep(args.warmup)
            procs = [psutil.Process(r.proc.pid) for r in replicas if r.proc is not None]
            cpu_before = sum(_cpu(p) for p in procs)
            measuring.set()
            began = time.perf_counter()
            await asyncio.sleep(args.seconds)
            measuring.clear()
            elapsed = time.perf_counter() - began
            cpu = sum(_cpu(p) for p in procs) - cpu_before
            stop.set()
            await asyncio.gather(*tasks)
        finally:
            for r in replicas:
                if r.proc is not None and r.proc.returncode is None:
                    await r.stop()
    lat = sorted(tally.latencies)
    for line in tally.wrong[:5]:
        print(f"  wrong context: {line}")
    return {
        "turns/s": len(lat) / elapsed,
        "p50 ms": 1000 * statistics.median(lat),
        "p99 ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
        "cpu ms/turn": 1000 * cpu / max(len(lat), 1),
        "follow-ups": tally.follow_ups,
        "right %": 100.0 * tally.right / max(tally.follow_ups, 1),
    }


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def main(args: argparse.Namespace) -> int:
    knowledge = default_knowledge_dir()
    with tempfile.TemporaryDirectory(prefix="wegwijzer-bench-") as tmp:
        folder = Path(tmp)
        redis = RedisServer(folder / "redis")
        redis.start()
        peers = await start_peers()
        try:
            results = {
                "1 replica, memory": await run_setup(
                    "memory", 1, None, peers, knowledge, folder, args
                ),
                "2 replicas, Redis": await run_setup(
                    "redis", 2, redis.url, peers, knowledge, folder, args
                ),
            }
        finally:
            await peers.close()
            redis.stop()
    print(
        f"{args.conversations} concurrent conversations, {args.seconds:.0f} s measured, "
        f"each turn to the other replica than the one before (2 replicas)"
    )
    head = ("setup", "turns/s", "p50 ms", "p99 ms", "CPU ms/turn", "follow-ups", "right")
    print(
        f"{head[0]:<20} {head[1]:>8} {head[2]:>8} {head[3]:>8} {head[4]:>12} "
        f"{head[5]:>11} {head[6]:>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<20} {r['turns/s']:>8.1f} {r['p50 ms']:>8.1f} {r['p99 ms']:>8.1f} "
            f"{r['cpu ms/turn']:>12.2f} {int(r['follow-ups']):>11} {r['right %']:>6.1f}%"
        )
    print("CPU ms/turn: all replicas' CPU time over the turns answered (their sum).")
    return 0 if all(r["right %"] == 100.0 for r in results.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--conversations", type=int, default=50)
    sys.exit(asyncio.run(main(parser.parse_args())))
