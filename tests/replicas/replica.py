"""Bot replicas as real processes (`wegwijzer run` with the Teams endpoint), a connector
that files replies by conversation, and a conversation that can talk to any replica.
Used by test_two_replicas.py and bench/replicas.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from tests.replicas.redis_server import free_port
from tests.teams.conftest import teams_env
from tests.teams.helpers import OpenIdServer, Peer, activity, card_of, flatten, sign, start_peer

REPO = Path(__file__).resolve().parents[2]
SECRET = "replicas-test-secret-0123456789abcdef"


@dataclass
class Replies:
    """The Bot Framework connector: keeps each reply under its conversation id."""

    by_conversation: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    peer: Peer | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)

        async def activities(request: web.Request) -> web.Response:
            body = await request.json()
            self.by_conversation[unquote(request.match_info["conversation"])].append(body)
            return web.json_response({"id": f"reply-{uuid.uuid4().hex[:8]}"})

        app.router.add_post("/v3/conversations/{conversation}/activities", activities)
        app.router.add_post("/v3/conversations/{conversation}/activities/{id}", activities)
        return app

    @property
    def url(self) -> str:
        assert self.peer is not None
        return self.peer.url + "/"


@dataclass
class Peers:
    openid: OpenIdServer
    replies: Replies
    token: str

    async def close(self) -> None:
        for peer in (self.replies.peer, self.openid.peer):
            if peer is not None:
                await peer.close()


async def start_peers() -> Peers:
    openid, replies = OpenIdServer(), Replies()
    openid.peer = await start_peer(openid.app())
    replies.peer = await start_peer(replies.app())
    return Peers(openid, replies, sign(replies.url))


@dataclass
class Replica:
    """One `wegwijzer run` process with the Teams endpoint and the metrics server."""

    name: str
    folder: Path
    env: dict[str, str]
    knowledge: Path
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEGWIJZER_", "Microsoft"))}
        env.update(self.env)
        env.update(
            HOME=str(self.folder),
            PYTHONPATH=str(REPO),
            WEGWIJZER_DATA_DIR=str(self.folder / "data"),
            WEGWIJZER_TEAMS_PORT=str(self.port),
            WEGWIJZER_METRICS_PORT=str(self.metrics_port),
        )
        with (
            (self.folder / "stdout.txt").open("ab") as out,
            (self.folder / "stderr.txt").open("ab") as err,
        ):
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "bot.cli", "--knowledge", str(self.knowledge), "run"),
                stdout=out,
                stderr=err,
                env=env,
                cwd=self.folder,
            )
        for _ in range(600):
            if self.proc.returncode is not None:
                raise RuntimeError(f"replica {self.name} exited: {self.logs()[-2000:]}")
            try:
                async with session.get(f"{self.url}/healthz") as r:
                    if r.status == 200:
                        async with session.get(f"{self.metrics_url}/healthz") as m:
                            if m.status == 200:
                                return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
        raise RuntimeError(f"replica {self.name} did not start")

    def kill(self) -> None:
        """As a crash: no clean-up."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise

    def logs(self) -> str:
        out = ""
        for name in ("stdout.txt", "stderr.txt"):
            path = self.folder / name
            if path.exists():
                out += path.read_text(errors="replace")
        return out

    async def health(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(f"{self.metrics_url}/healthz") as r:
            return dict(await r.json())

    async def metrics(self, session: aiohttp.ClientSession) -> str:
        async with session.get(f"{self.metrics_url}/metrics") as r:
            return await r.text()


def replica_env(peers: Peers, state_url: str | None, **extra: str) -> dict[str, str]:
    env = teams_env(peers.openid.url, peers.replies.url)
    env.update(WEGWIJZER_LOG_LEVEL="DEBUG", WEGWIJZER_STATE_TIMEOUT_MS="300")
    if state_url is not None:
        env.update(WEGWIJZER_STATE_URL=state_url, WEGWIJZER_STATE_SECRET=SECRET)
    env.update(extra)
    return env


@dataclass
class Said:
    """One reply as the person sees it."""

    text: str
    actions: list[str]
    locale: str


@dataclass
class Conversation:
    """One personal Teams chat; each message can go to any replica."""

    session: aiohttp.ClientSession
    peers: Peers
    id: str = field(default_factory=lambda: f"a:personal-{uuid.uuid4().hex}")
    user: str = field(default_factory=lambda: f"29:user-{uuid.uuid4().hex[:8]}")

    async def say(
        self, replica: Replica, text: str | None = None, action: str | None = None
    ) -> Said:
        body = activity(
            self.peers.replies.url,
            text=text,
            conversation=self.id,
            user=self.user,
            value={"wegwijzer": action} if action else None,
        )
        replies = self.peers.replies.by_conversation[self.id]
        before = len(replies)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.peers.token}",
        }
        async with self.session.post(
            f"{replica.url}/api/messages", data=json.dumps(body), headers=headers
        ) as r:
            assert r.status == 200, (r.status, await r.text())
        assert len(replies) == before + 1, "no reply, or more than one"
        sent = replies[-1]
        card = card_of(sent)
        return Said(flatten(card), _actions(card), sent.get("locale", ""))


def _actions(card: dict[str, Any]) -> list[str]:
    from tests.teams.helpers import actions

    out = []
    for a in actions(card):
        data = a.get("data")
        if isinstance(data, dict) and isinstance(data.get("wegwijzer"), str):
            out.append(data["wegwijzer"])
    return out
