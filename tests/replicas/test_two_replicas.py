"""Two `wegwijzer run` processes with the Teams endpoint sharing a real Redis: one
conversation sent alternately to both; one replica killed; Redis stopped and restarted;
no message text in Redis, metrics or logs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.replicas.redis_server import RedisServer
from tests.replicas.replica import (
    Conversation,
    Peers,
    Replica,
    replica_env,
    start_peers,
)

pytestmark = [pytest.mark.replicas, pytest.mark.teams]

VP = "Anna de Vries"  # the example organisation's counsellor in the test knowledge base


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    peers = await start_peers()
    yield peers
    await peers.close()


def counter(metrics: str, name: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_one_conversation_across_two_replicas(
    peers: Peers, redis_server: RedisServer, test_kb_dir: Path, tmp_path: Path
) -> None:
    canary = "kanarie7f3e9"
    env = replica_env(peers, redis_server.url)
    a = Replica("a", tmp_path / "a", env, test_kb_dir)
    b = Replica("b", tmp_path / "b", env, test_kb_dir)
    async with aiohttp.ClientSession() as session:
        try:
            await a.start(session)
            await b.start(session)
            chat = Conversation(session, peers)

            # Numbered choices offered by one replica are understood by the other.
            menu = await chat.say(a, "menu")
            assert menu.actions[0] == "theme:ongewenst-gedrag"
            theme = await chat.say(b, "1")
            assert set(theme.actions) >= {"entry:pesten", "entry:klacht"}
            n = theme.actions.index("entry:klacht") + 1
            answer = await chat.say(a, str(n))
            assert "entry:pesten" in answer.actions  # klacht's related entry, as choice 1

            # Language and organisation carry over, and text with the canary in it.
            # (The Teams adapter sets the reply's locale from the incoming activity, so
            # the language shows in the words.)
            assert "English" in (await chat.say(b, "english")).text
            assert "Bullying at work" in (await chat.say(a, f"ik word gepest {canary}")).text
            await chat.say(a, "organisatie voorbeeld")
            assert VP in (await chat.say(b, "ik word gepest")).text
            await chat.say(b, canary)

            # A replica dies mid-conversation; the other goes on where it was.
            menu = await chat.say(a, "menu")
            a.kill()
            theme = await chat.say(b, "1")
            assert set(theme.actions) >= {"entry:pesten", "entry:klacht"}
            assert "Bullying at work" in theme.text

            # Redis stops: replies go on from the replica's memory, health says so.
            redis_server.stop()
            assert "Undesirable behaviour" in (await chat.say(b, "menu")).text
            theme = await chat.say(b, "2")
            assert theme.actions and all(x.startswith("entry:") for x in theme.actions)
            await chat.say(b, f"ik wil niet meer leven {canary}")
            assert (await b.health(session))["status"] == "degraded"
            during = await b.metrics(session)
            assert counter(during, "wegwijzer_state_errors_total") >= 1
            assert "wegwijzer_state_backend_up 0.0" in during

            # Redis is back (empty: no persistence) and the dead replica restarted:
            # what was said during the outage is shared again.
            redis_server.start()
            await a.start(session)
            await _until_healthy(b, session)
            await chat.say(b, "menu")  # written to Redis again
            theme = await chat.say(a, "1")
            assert set(theme.actions) >= {"entry:pesten", "entry:klacht"}
            assert "Bullying at work" in theme.text
            assert VP in (await chat.say(a, "ik word gepest")).text

            # `vergeet` on one replica deletes the key for both at once.
            await chat.say(b, "vergeet")
            assert redis_server.dump() == {}
            gone = await chat.say(a, "1")  # nothing carried over: no choices, no language
            assert gone.actions == ["menu", "talk", "org", "privacy"]
            assert "English" not in gone.text and "Browse" not in gone.text

            metrics = [await a.metrics(session), await b.metrics(session)]
            assert await a.stop() == 0
            assert await b.stop() == 0
        finally:
            a.kill()
            b.kill()

    assert counter(metrics[1], 'wegwijzer_turns_total{channel="teams"') >= 10
    bucket = r'wegwijzer_reply_seconds_bucket\{channel="teams",le="0.5"\} [1-9]'
    assert re.search(bucket, metrics[1])
    for text in metrics:
        assert canary not in text
        assert chat.id not in text and "personal" not in text and chat.user not in text
    logs = a.logs() + b.logs()
    assert "shared state store unreachable" in logs
    assert "reachable again" in logs
    assert canary not in logs and "gepest" not in logs
    assert not files_with(tmp_path, canary.encode())


def files_with(root: Path, needle: bytes) -> list[Path]:
    """Every file under `root` (logs, data folders, Redis's folder) holding `needle`."""
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def _until_healthy(replica: Replica, session: aiohttp.ClientSession) -> None:
    for _ in range(100):
        if (await replica.health(session))["status"] == "ok":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("replica did not go back to Redis")


async def test_redis_is_scanned_for_text(
    peers: Peers, redis_server: RedisServer, test_kb_dir: Path, tmp_path: Path
) -> None:
    """Everything a conversation leaves in Redis, key and value, holds no text."""
    canary = "kanarie04d1"
    env = replica_env(peers, redis_server.url)
    a = Replica("a", tmp_path / "a", env, test_kb_dir)
    async with aiohttp.ClientSession() as session:
        try:
            await a.start(session)
            chat = Conversation(session, peers)
            for text in (
                f"ik word gepest {canary}",
                f"organisatie {canary}",
                f"ik werk bij voorbeeld en {canary} pest me",
                "menu",
                canary,
            ):
                await chat.say(a, text)
            await chat.say(a, action=f"entry:{canary}")
            dump = redis_server.dump()
            assert len(dump) == 1
            for key, value in dump.items():
                assert canary.encode() not in key + value
                assert chat.id.encode() not in key and b"gepest" not in value
            assert await a.stop() == 0
        finally:
            a.kill()
