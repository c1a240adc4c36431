"""Teams endpoint load benchmark: sustained messages/s and p50/p99 latency.

Side by side in one run, each server in its own child process (one core each on a
2-core machine; the load generator and the local connector share the other):

- `echo`: a bare botbuilder echo bot (CloudAdapter.process, authentication off), the
  baseline botbuilder itself gives;
- `wegwijzer`: the real Wegwijzer endpoint (adapters/teams) with JWT validation on,
  tokens signed by a local key served from a local OpenID/JWKS server;
- `wegwijzer-noauth`: the same endpoint with WEGWIJZER_TEAMS_INSECURE_NO_AUTH=1, for an
  like-for-like comparison with the echo bot.

N concurrent personal conversations each keep one message in flight: POST the activity,
wait for the answer (both servers answer after the reply reached the connector), repeat.
Prints figures and ratios; asserts nothing (machines are shared).

    .venv/bin/python bench/teams_load.py [--seconds 10] [--warmup 2] [--conversations 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import jwt  # noqa: E402
import psutil  # noqa: E402
from aiohttp import web  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

APP_ID = "00000000-1111-2222-3333-444444444444"
TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SERVERS = ("echo", "wegwijzer", "wegwijzer-noauth")
QUESTIONS = [
    "ik word gepest door mijn leidinggevende",
    "menu",
    "1",
    "hoe dien ik een klacht in",
    "i am being bullied at work",
    "wat bewaar je",
    "ik vermoed een misstand op mijn afdeling",
    "help",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------- the servers


def knowledge_dir(tmp: Path) -> tuple[Path, str]:
    """The bundled knowledge base, or the small test one when it does not load."""
    from bot import KnowledgeBaseError, load_knowledge_base

    try:
        kb = load_knowledge_base(REPO / "knowledge")
        return REPO / "knowledge", f"bundled ({len(kb.entries)} entries)"
    except KnowledgeBaseError:
        from tests.conftest import make_test_kb

        root = make_test_kb(tmp)
        n = len(load_knowledge_base(root).entries)
        return root, f"small test knowledge base ({n} entries; the bundled one did not load)"


async def serve_wegwijzer(port: int, env: dict[str, str], knowledge: str) -> None:
    from adapters.teams._app import start
    from adapters.teams._settings import load_settings
    from bot import Engine, configure_logging, load_knowledge_base

    configure_logging("WARNING")
    engine = Engine(load_knowledge_base(Path(knowledge)))
    runner, _ = await start(engine, load_settings({**env, "WEGWIJZER_TEAMS_PORT": str(port)}))
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def serve_echo(port: int) -> None:
    """The bare botbuilder echo bot, as its samples write it (authentication off)."""
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class Echo(ActivityHandler):  # type: ignore[misc]
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(
                MessageFactory.text(f"Echo: {turn_context.activity.text}")
            )

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# ---------------------------------------------------------------------- the peers


class Peers:
    """Local connector (counts replies) and OpenID/JWKS/token server, in this process."""

    def __init__(self) -> None:
        self.replies = 0
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.url = ""

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()

        def b64(n: int) -> str:
            return (
                base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big"))
                .rstrip(b"=")
                .decode()
            )

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": "bench",
                    "n": b64(numbers.n),
                    "e": b64(numbers.e),
                    "endorsements": ["msteams"],
                }
            ]
        }

    def token(self, service_url: str) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://api.botframework.com",
            "aud": APP_ID,
            "exp": now + 3600,
            "nbf": now - 60,
            "serviceurl": service_url,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "bench"})

    async def start(self) -> web.AppRunner:
        app = web.Application()

        async def activities(request: web.Request) -> web.Response:
            await request.read()
            self.replies += 1
            return web.json_response({"id": str(self.replies)})

        async def metadata(request: web.Request) -> web.Response:
            return web.json_response({"jwks_uri": f"{self.url}/keys"})

        async def keys(request: web.Request) -> web.Response:
            return web.json_response(self.jwks())

        async def token(request: web.Request) -> web.Response:
            return web.json_response({"access_token": "bench-token", "expires_in": 3600})

        app.router.add_post("/v3/conversations/{c}/activities", activities)
        app.router.add_post("/v3/conversations/{c}/activities/{a}", activities)
        app.router.add_get("/openid", metadata)
        app.router.add_get("/keys", keys)
        app.router.add_post("/token", token)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return runner


# ---------------------------------------------------------------------- the load


def activity(service_url: str, conversation: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{conversation}", "name": "Bench"},
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": TENANT},
        "recipient": {"id": f"28:{APP_ID}", "name": "Wegwijzer"},
        "locale": "nl-NL",
        "channelData": {"tenant": {"id": TENANT}},
        "text": text,
    }


async def load(
    url: str, service_url: str, token: str | None, conversations: int, warmup: float, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    begin, end = start + warmup, start + warmup + seconds
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    async def worker(i: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        n = i
        while True:
            sent = time.perf_counter()
            if sent >= end:
                return
            body = json.dumps(activity(service_url, f"a:bench-{i}", QUESTIONS[n % len(QUESTIONS)]))
            n += 1
            try:
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    ok = r.status in (200, 201)
            except aiohttp.ClientError:
                ok = False
            done = time.perf_counter()
            if begin <= sent and done <= end:
                if ok:
                    latencies.append(done - sent)
                else:
                    errors += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(i, session) for i in range(conversations)))
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
            if latencies
            else float("nan")
        )

    return {
        "messages": len(latencies),
        "errors": errors,
        "per_second": len(latencies) / seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


async def run_one(
    name: str, peers: Peers, args: argparse.Namespace, knowledge: Path
) -> dict[str, Any]:
    port = free_port()
    env = {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "bench-secret",
        "MicrosoftAppTenantId": TENANT,
        "WEGWIJZER_TEAMS_HOST": "127.0.0.1",
        "WEGWIJZER_TEAMS_OPENID_URL": f"{peers.url}/openid",
        "WEGWIJZER_TEAMS_TOKEN_URL": f"{peers.url}/token",
        "WEGWIJZER_TEAMS_SERVICE_URLS": peers.url,
    }
    if name == "wegwijzer-noauth":
        env = {"WEGWIJZER_TEAMS_INSECURE_NO_AUTH": "1"}
    cmd = [
        sys.executable,
        __file__,
        "--serve",
        name,
        "--port",
        str(port),
        "--knowledge",
        str(knowledge),
    ]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "BENCH_ENV": json.dumps(env), "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"{name} did not start")
        service_url = peers.url + "/"
        token = peers.token(service_url) if name == "wegwijzer" else None
        before_replies = peers.replies
        ps = psutil.Process(proc.pid)
        cpu0 = sum(ps.cpu_times()[:2])
        result = await load(
            f"http://127.0.0.1:{port}/api/messages",
            service_url,
            token,
            args.conversations,
            args.warmup,
            args.seconds,
        )
        cpu = sum(ps.cpu_times()[:2]) - cpu0
        result["replies"] = peers.replies - before_replies
        sent = max(result["messages"], 1)
        # Server CPU over warm-up and measured window, divided by the messages answered in both.
        result["server_cpu_ms_per_message"] = cpu * 1000 / max(result["replies"], sent)
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


async def bench(args: argparse.Namespace) -> None:
    peers = Peers()
    runner = await peers.start()
    with tempfile.TemporaryDirectory() as tmp:
        knowledge, kb_note = knowledge_dir(Path(tmp))
        results = {}
        for name in args.servers.split(","):
            results[name] = await run_one(name, peers, args, knowledge)
    await runner.cleanup()
    print(
        f"Teams endpoint load: {args.conversations} concurrent conversations, "
        f"{args.seconds:.0f} s measured after {args.warmup:.0f} s warm-up, "
        f"{os.cpu_count()} CPUs; knowledge: {kb_note}"
    )
    print(f"{'server':<18}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/msg':>12}{'errors':>8}")
    for name, r in results.items():
        print(
            f"{name:<18}{r['per_second']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
            f"{r['server_cpu_ms_per_message']:>12.2f}{r['errors']:>8}"
        )
    echo = results.get("echo")
    for name in ("wegwijzer", "wegwijzer-noauth"):
        r = results.get(name)
        if echo is None or r is None:
            continue
        print(
            f"{name} vs echo: throughput x{r['per_second'] / echo['per_second']:.2f}, "
            f"p50 x{r['p50_ms'] / echo['p50_ms']:.2f}, p99 x{r['p99_ms'] / echo['p99_ms']:.2f}"
        )
    if args.json:
        print(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="comma-separated, run in this order (default: %(default)s)",
    )
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--knowledge", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "echo":
        asyncio.run(serve_echo(args.port))
    elif args.serve:
        env = json.loads(os.environ.get("BENCH_ENV", "{}"))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_wegwijzer(args.port, env, args.knowledge))
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
