"""The Matrix sync lease against a real Redis: one holder at a time, renewed, released,
taken over within the TTL when the holder dies, and work stopped before a lost lease can
be taken by another."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from adapters._lease import Lease, LeaseSettingsError, lease_from_env, run_while_held
from tests.replicas.redis_server import RedisServer

pytestmark = pytest.mark.replicas
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    yield redis
    await redis.aclose()


async def test_one_holder_renew_release(client: Redis) -> None:
    a, b = Lease(client, "t", ttl=5), Lease(client, "t", ttl=5)
    assert await a.acquire() and a.held
    assert not await b.acquire() and not b.held
    assert await a.renew()
    assert not await b.renew()
    assert 4000 < await client.pttl("wegwijzer:lease:t") <= 5000
    await a.release()
    assert not a.held
    assert await b.acquire()
    await a.release()  # not the holder: changes nothing
    assert await client.get("wegwijzer:lease:t") == b.holder.encode()


async def test_an_expired_lease_is_taken_and_stays_lost(client: Redis) -> None:
    a, b = Lease(client, "t", ttl=1), Lease(client, "t", ttl=1)
    assert await a.acquire()
    await asyncio.sleep(0.8)
    assert not a.held  # stops working before the server lets the lease go
    await asyncio.sleep(0.3)
    assert await b.acquire()
    assert not await a.renew()


async def test_work_is_stopped_when_the_lease_is_taken_over(client: Redis) -> None:
    lease = Lease(client, "t", ttl=1.5)
    stopped = asyncio.Event()
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    runner = asyncio.create_task(run_while_held(lease, work))
    await asyncio.wait_for(started.wait(), 5)
    await client.set("wegwijzer:lease:t", "another-replica", px=60_000)
    await asyncio.wait_for(stopped.wait(), 1.5)
    runner.cancel()  # just as the work ends: the cancel must not be lost
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert await client.get("wegwijzer:lease:t") == b"another-replica"  # not ours to release


async def test_work_stops_before_the_lease_could_expire_when_redis_is_gone(
    client: Redis, redis_server: RedisServer
) -> None:
    lease = Lease(client, "t", ttl=1.5)
    started, stopped = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    runner = asyncio.create_task(run_while_held(lease, work))
    await asyncio.wait_for(started.wait(), 5)
    redis_server.stop()
    gone = time.monotonic()
    await asyncio.wait_for(stopped.wait(), 3)
    # The last renewal was sent before Redis went, so the server's lease lasted at least
    # until `gone + 0` plus nothing: what counts is stopping within the TTL.
    assert time.monotonic() - gone < 1.5
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner


async def test_finished_work_releases(client: Redis) -> None:
    lease = Lease(client, "t", ttl=5)

    async def work() -> str:
        return "done"

    assert await run_while_held(lease, work) == "done"
    assert await client.get("wegwijzer:lease:t") is None


async def test_an_item_is_claimed_once_across_holders(
    client: Redis, redis_server: RedisServer
) -> None:
    a, b = Lease(client, "t", ttl=5), Lease(client, "t", ttl=5)
    assert await a.claim("event-1")
    assert not await a.claim("event-1")  # the same holder, later: still claimed
    assert not await b.claim("event-1")  # the next holder after a takeover
    assert await b.claim("event-2")
    ttl = await client.ttl("wegwijzer:lease:t:done:event-1")
    assert 23 * 3600 < ttl <= 24 * 3600  # gone by itself, long after any takeover
    redis_server.stop()
    # Unknown: answer rather than leave a person without a reply.
    assert await a.claim("event-3")


def test_settings() -> None:
    assert lease_from_env({}, "matrix-sync") is None
    for bad in ("0.5", "21", "vijf"):
        with pytest.raises(LeaseSettingsError, match="WEGWIJZER_LEASE_TTL_SECONDS"):
            lease_from_env(
                {"WEGWIJZER_STATE_URL": "redis://h/0", "WEGWIJZER_LEASE_TTL_SECONDS": bad}, "x"
            )


def _holders(path: Path) -> list[tuple[int, float]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        pid, _, when = line.partition(" ")
        if when:
            out.append((int(pid), float(when)))
    return out


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_two_processes_one_dies_the_other_takes_over(
    redis_server: RedisServer, tmp_path: Path, how: str
) -> None:
    ttl = 2.0
    ticks = tmp_path / "ticks.txt"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "WEGWIJZER_STATE_URL": redis_server.url,
        "WEGWIJZER_LEASE_TTL_SECONDS": str(ttl),
    }
    script = str(Path(__file__).with_name("lease_holder.py"))
    procs = [
        subprocess.Popen([sys.executable, script, str(ticks)], env=env, cwd=tmp_path)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(_holders(ticks)) < 20:
            assert time.monotonic() < deadline, "nobody took the lease"
            time.sleep(0.05)
        time.sleep(ttl)  # the other one polls meanwhile and must not start
        seen = {pid for pid, _ in _holders(ticks)}
        assert len(seen) == 1, "two processes held the lease at once"
        (holder,) = seen
        victim = next(p for p in procs if p.pid == holder)
        other = next(p for p in procs if p.pid != holder)
        if how == "killed":
            victim.kill()  # no chance to release: the lease must expire
        else:
            victim.send_signal(signal.SIGINT)  # a clean stop releases at once
        victim.wait(30)
        gone = time.time()
        deadline = time.monotonic() + 30
        while not any(pid == other.pid for pid, _ in _holders(ticks)):
            assert time.monotonic() < deadline, "the other process never took over"
            time.sleep(0.05)
        lines = _holders(ticks)
        first_other = min(when for pid, when in lines if pid == other.pid)
        last_victim = max(when for pid, when in lines if pid == holder)
        assert last_victim < first_other  # never both at once
        took = first_other - gone
        # Killed: at most the TTL plus one poll (a third of it); with the 15 s default
        # that is 20 s, within the 30 s asked. Stopped cleanly: one poll.
        limit = ttl + ttl / 3 + 1.0 if how == "killed" else ttl / 3 + 1.0
        assert took < limit, took
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(30)
