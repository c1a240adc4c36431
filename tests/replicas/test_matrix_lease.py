"""Two Matrix replicas against the test Synapse, sharing Redis and one data folder (the
crypto-store volume): only the lease holder syncs; kill it, and the other answers the
next message once, within 30 s, and answers nothing its predecessor answered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.matrix.conftest import bot_user, data_dir, people, synapse  # noqa: F401 (fixtures)
from tests.matrix.helpers import People, bot_env
from tests.matrix.synapse import Synapse, User
from tests.replicas.redis_server import RedisServer

pytestmark = [pytest.mark.replicas, pytest.mark.matrix]
REPO = Path(__file__).resolve().parents[2]
TTL = 3.0


def sync_token(folder: Path, replace: str | None = None) -> str | None:
    """The sync token in nio's store (the shared volume); with `replace`, write that one."""
    for db in folder.rglob("*.db"):
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            try:
                row = con.execute("SELECT token FROM synctokens").fetchone()
                if row is not None and replace is not None:
                    con.execute("UPDATE synctokens SET token = ?", (replace,))
            except sqlite3.OperationalError:
                continue  # not nio's store
            if row is not None:
                return str(row[0])
    return None


def holder(logs: list[Path]) -> int | None:
    """Which replica took the lease last (by its log)."""
    taken = [
        (path.read_text().rfind("taken: this replica does the work"), i)
        for i, path in enumerate(logs)
        if path.exists()
    ]
    found = [i for pos, i in taken if pos >= 0]
    return found[0] if len(found) == 1 else None


async def test_the_other_replica_takes_over_the_sync(
    synapse: Synapse,  # noqa: F811
    bot_user: User,  # noqa: F811
    data_dir: Path,  # noqa: F811
    people: People,  # noqa: F811
    redis_server: RedisServer,
    test_kb_dir: Path,
    tmp_path: Path,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WEGWIJZER_")},
        **bot_env(synapse, bot_user, data_dir),
        "PYTHONPATH": str(REPO),
        "WEGWIJZER_STATE_URL": redis_server.url,
        "WEGWIJZER_STATE_SECRET": "matrix-lease-test-secret-0123456789",
        "WEGWIJZER_LEASE_TTL_SECONDS": str(TTL),
    }
    script = str(Path(__file__).with_name("matrix_replica.py"))
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, script, str(test_kb_dir), str(log), env=env
        )
        for log in logs
    ]
    try:
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0, within=60)  # the welcome, from the holder
        for _ in range(100):
            before = sync_token(data_dir)
            if before is not None:
                break
            await asyncio.sleep(0.1)
        assert before is not None
        first = await person.ask(room, "menu")
        assert "1." in first.body
        index = holder(logs)
        assert index is not None, "not exactly one replica took the lease"
        procs[index].kill()  # a crash: the lease is left to expire
        await procs[index].wait()
        killed = time.monotonic()
        # As if it died before storing the sync that held "menu" (a real race): the
        # next holder reads "menu" again, and must not answer it a second time.
        sync_token(data_dir, replace=before)
        await person.say(room, "ik word gepest")
        answer = await person.next_notice(room, 2, within=30)
        took = time.monotonic() - killed
        assert "pest" in answer.body.lower() or "Pesten" in answer.body
        assert took < 30, took
        print(f"takeover answered {took:.1f} s after the kill (TTL {TTL:.0f} s)")
        other = 1 - index
        assert "taken: this replica does the work" in logs[other].read_text()
        await asyncio.sleep(2 * TTL)  # anything answered twice would be here by now
        await person.sync()
        assert len(person.notices(room)) == 3  # welcome, menu, the answer: once each
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    text = "".join(path.read_text() for path in logs)
    assert "gepest" not in text  # no message text in either replica's log
