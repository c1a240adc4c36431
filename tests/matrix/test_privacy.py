"""The canary: a unique string goes through plain and encrypted direct chats (answers,
crisis, odd and undecryptable messages, forget); then every file the bot wrote (the nio
SQLite store included), every log line and all process output are searched for it."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import sys
import uuid
from pathlib import Path

import pytest
from nio import RoomSendResponse

from bot import Engine
from tests.matrix.helpers import People, bot_env, running_bot
from tests.matrix.synapse import REPO, Synapse, User

pytestmark = pytest.mark.matrix


async def test_canary_never_reaches_files_logs_or_output(
    engine: Engine,
    synapse: Synapse,
    bot_user: User,
    data_dir: Path,
    people: People,
    logs: io.StringIO,
    capfd: pytest.CaptureFixture[str],
) -> None:
    canary = f"kanarie{uuid.uuid4().hex}"
    # A plain handler beside the privacy-filtered one: the adapter's own guard must keep
    # nio's text out even where nobody configured Wegwijzer's logging.
    raw = io.StringIO()
    unfiltered = logging.StreamHandler(raw)
    logging.getLogger().handlers.insert(0, unfiltered)  # runs before the filtered one
    async with running_bot(engine, bot_env(synapse, bot_user, data_dir)):
        # Worst case: third-party loggers at their most talkative (sync bodies at debug).
        for name in ("nio", "peewee", "aiohttp"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        person = await people()
        for encrypted in (False, True):
            room = await person.create_dm(bot_user.user_id, encrypted=encrypted)
            await person.next_notice(room, 0)
            for text in (
                f"ik word gepest {canary}",
                canary,
                f"ik wil dood {canary}",
                f"<b>{canary}</b>",
            ):
                seen = await person.ask(room, text)
                assert canary not in seen.body + seen.formatted
            if encrypted:
                # nio logs the content of a message without msgtype when it rejects it.
                before = len(person.notices(room))
                resp = await person.client.room_send(
                    room, "m.room.message", {"body": canary}, ignore_unverified_devices=True
                )
                assert isinstance(resp, RoomSendResponse)
                assert canary not in (await person.next_notice(room, before)).body
            bye = await person.ask(room, "vergeet")
            assert canary not in bye.body
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    logging.getLogger().removeHandler(unfiltered)
    assert "withheld" in raw.getvalue()
    assert canary not in raw.getvalue()
    out, err = capfd.readouterr()
    captured = logs.getvalue() + out + err
    # nio did log (the message without msgtype, sync bodies at debug), with its text withheld.
    assert re.search(r"(WARNING|DEBUG) nio[.\w]*: \(.*withheld", captured)
    assert canary not in captured
    files = [p for p in data_dir.rglob("*") if p.is_file()]  # noqa: ASYNC240
    assert any(p.suffix == ".db" for p in files)  # the crypto store is among them
    for path in files:
        assert canary.encode() not in path.read_bytes(), path


async def test_wegwijzer_run_process_keeps_the_canary_out_of_its_output(
    synapse: Synapse, bot_user: User, data_dir: Path, people: People, test_kb_dir: Path
) -> None:
    """The real `wegwijzer run` process, debug logging on: stdout and stderr stay clean."""
    canary = f"kanarie{uuid.uuid4().hex}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "WEGWIJZER_LOG_LEVEL": "DEBUG",
        **bot_env(synapse, bot_user, data_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "--knowledge",
        str(test_kb_dir),
        "run",
        env=env,
        cwd=str(REPO),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        person = await people()
        room = await person.create_dm(bot_user.user_id, encrypted=True)
        await person.next_notice(room, 0)
        for text in (f"ik word gepest {canary}", canary, f"ik wil dood {canary}"):
            assert canary not in (await person.ask(room, text)).body
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert b"DEBUG" in err  # it did log, at debug
    assert canary.encode() not in out + err
    for path in [p for p in data_dir.rglob("*") if p.is_file()]:  # noqa: ASYNC240
        assert canary.encode() not in path.read_bytes(), path
