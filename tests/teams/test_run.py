"""`wegwijzer run` with Teams configured, as a real process: canary through everything."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.teams.conftest import teams_env
from tests.teams.helpers import (
    Connector,
    OpenIdServer,
    activity,
    card_of,
    flatten,
    sign,
    start_peer,
)

pytestmark = pytest.mark.teams

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", ".venv-synapse", ".git", "node_modules", "__pycache__"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def files_written_since(root: Path, since: float) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            try:
                if path.is_file() and path.stat().st_mtime >= since:
                    found.append(path)
            except OSError:
                continue
    return found


@pytest.fixture
async def peers() -> AsyncIterator[tuple[OpenIdServer, Connector]]:
    openid, connector = OpenIdServer(), Connector()
    openid.peer = await start_peer(openid.app())
    connector.peer = await start_peer(connector.app())
    yield openid, connector
    await connector.peer.close()
    await openid.peer.close()


def _env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEGWIJZER_", "Microsoft"))}
    env.update(
        HOME=str(tmp_path),
        WEGWIJZER_DATA_DIR=str(tmp_path / "data"),
        WEGWIJZER_LOG_LEVEL="DEBUG",
        PYTHONDEVMODE="1",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


async def test_canary_through_wegwijzer_run(
    peers: tuple[OpenIdServer, Connector], test_kb_dir: Path, tmp_path: Path
) -> None:
    openid, connector = peers
    canary = f"kanarie{uuid.uuid4().hex}"
    port = free_port()
    since = time.time() - 1
    env = _env(tmp_path, teams_env(openid.url, connector.url, WEGWIJZER_TEAMS_PORT=str(port)))
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot.cli", "--knowledge", str(test_kb_dir), "run"),
            stdout=out,
            stderr=err,
            env=env,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    ua = {"User-Agent": f"Agent-{canary}"}
    try:
        async with aiohttp.ClientSession(headers=ua) as session:
            for _ in range(300):
                try:
                    async with session.get(f"{url}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert proc.returncode is None, stderr.read_text()
                await asyncio.sleep(0.05)

            async def post(body: bytes, token: str | None, ctype: str = "application/json") -> int:
                headers = {"Content-Type": ctype}
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                data = io.BytesIO(body)
                async with session.post(f"{url}/api/messages", data=data, headers=headers) as r:
                    return r.status

            good = sign(connector.url)
            texts = [
                f"ik word gepest {canary}",
                canary,
                f"ik wil niet meer leven {canary}",
                f"organisatie {canary}",
                f"\x00{canary}\u202e",
                f"{canary} " * 2000,
            ]
            for text in texts:
                body = json.dumps(activity(connector.url, text=text)).encode()
                assert await post(body, good) == 200
            card = json.dumps(activity(connector.url, text=None, value={"wegwijzer": canary}))
            assert await post(card.encode(), good) == 200
            # Refused requests carrying the canary: none may log it either.
            body = json.dumps(activity(connector.url, text=canary)).encode()
            assert await post(body, sign(connector.url, lifetime=-9999)) == 401
            assert await post(body, "garbage" + canary) == 401
            assert await post(body, good, "text/plain") == 415
            assert await post(b"{" + canary.encode(), good) == 400
            assert await post(body + b"x" * (1024 * 1024), good) == 413
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            raise
    assert code == 0, stderr.read_text()[-2000:]
    assert len(connector.received) == len(texts) + 1
    for sent in connector.received:
        assert canary not in json.dumps(sent.body)
        assert flatten(card_of(sent.body)).strip()
    logs = stdout.read_text() + stderr.read_text()
    assert "Teams endpoint listening" in logs
    assert "Agent-" not in logs  # no access log: no user agents, no addresses per request
    checked = 0
    for root in (tmp_path, REPO):
        for path in files_written_since(root, since):
            checked += 1
            assert canary.encode() not in path.read_bytes(), path
    assert checked >= 2  # at least the captured stdout and stderr were searched


def test_run_refuses_to_start_without_an_app_id(test_kb_dir: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, {"WEGWIJZER_TEAMS_PORT": str(free_port())})
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--knowledge", str(test_kb_dir), "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "MicrosoftAppId is not set" in out.stderr
    assert "Traceback" not in out.stderr
