"""A reverse proxy in front of the test Synapse that answers the first few joins with a
server error, as a proxy or an overloaded homeserver does; everything else passes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from tests.matrix.synapse import free_port

_JOIN = re.compile(r"^/_matrix/client/[^/]+/(join/[^/]+|rooms/[^/]+/join)$")
_HOP = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class FailingJoins:
    url: str
    failures_left: int
    failed: int = 0


@asynccontextmanager
async def failing_joins(upstream: str, failures: int) -> AsyncIterator[FailingJoins]:
    port = free_port()
    state = FailingJoins(f"http://127.0.0.1:{port}", failures)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))

    async def forward(request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and _JOIN.match(request.path) and state.failures_left > 0:
            state.failures_left -= 1
            state.failed += 1
            return web.json_response(
                {"errcode": "M_UNKNOWN", "error": "Internal server error"}, status=500
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with session.request(
            request.method, upstream + request.path_qs, headers=headers, data=await request.read()
        ) as up:
            body = await up.read()
            out = {k: v for k, v in up.headers.items() if k.lower() not in _HOP}
            return web.Response(status=up.status, body=body, headers=out)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield state
    finally:
        await runner.cleanup()
        await session.close()
