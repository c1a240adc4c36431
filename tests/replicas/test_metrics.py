"""Metrics: counted where a turn is handled, shown on a loopback server that answers bad
requests plainly; no text and no ids in any label."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot import Engine, Message
from bot._metrics import (
    MAX_REQUEST_HEAD,
    Metrics,
    channel_of,
    metrics_settings,
    start_metrics_server,
)


@pytest.mark.parametrize(
    ("key", "channel"),
    [
        ("teams:0a1b", "teams"),
        ("matrix:ffff", "matrix"),
        ("web:1", "web"),
        ("console:abc", "console"),
        ("ask", "other"),
        ("@someone:example.org", "other"),
        ("", "other"),
    ],
)
def test_channel_comes_from_a_fixed_list(key: str, channel: str) -> None:
    assert channel_of(key) == channel


def test_settings() -> None:
    assert metrics_settings({}) is None
    settings = metrics_settings({"WEGWIJZER_METRICS_PORT": "9464"})
    assert settings is not None and (settings.host, settings.port) == ("127.0.0.1", 9464)
    for bad in ("http", "-1", "70000"):
        with pytest.raises(ValueError, match="WEGWIJZER_METRICS_PORT"):
            metrics_settings({"WEGWIJZER_METRICS_PORT": bad})


@pytest.fixture
async def served(engine: Engine) -> AsyncIterator[tuple[Engine, Metrics, int, list[str]]]:
    metrics = Metrics()
    engine.metrics = metrics
    status = ["ok"]

    async def health() -> dict[str, Any]:
        return {"status": status[0]}

    server = await start_metrics_server(metrics, health)
    port = server.sockets[0].getsockname()[1]
    yield engine, metrics, port, status
    server.close()
    await server.wait_closed()


async def raw_request(port: int, data: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


async def get(port: int, path: str) -> tuple[int, bytes]:
    return await raw_request(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


async def test_turns_latency_and_health(
    served: tuple[Engine, Metrics, int, list[str]],
) -> None:
    engine, _, port, status = served
    canary = "kanarie-77c3"
    for text in ("menu", "1", "ik word gepest", f"{canary} zzzq"):
        await engine.handle(Message("teams:abc", text))
    await engine.handle(Message("matrix:def", "ik wil niet meer leven"))
    code, body = await get(port, "/metrics")
    assert code == 200
    text = body.decode()
    assert 'wegwijzer_turns_total{channel="teams",outcome="menu"} 2.0' in text
    assert 'wegwijzer_turns_total{channel="teams",outcome="answer"} 1.0' in text
    assert 'wegwijzer_turns_total{channel="matrix",outcome="crisis"} 1.0' in text
    assert 'wegwijzer_turns_total{channel="teams",outcome="unknown"} 1.0' in text
    assert 'wegwijzer_reply_seconds_count{channel="teams"} 4.0' in text
    assert "wegwijzer_state_backend_up 1.0" in text
    assert "process_cpu_seconds_total" in text
    assert canary not in text and "abc" not in text and "def" not in text
    code, body = await get(port, "/healthz")
    assert code == 200 and json.loads(body) == {"status": "ok"}
    status[0] = "degraded"
    assert json.loads((await get(port, "/healthz?x=1"))[1]) == {"status": "degraded"}


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (b"GET /nope HTTP/1.1\r\n\r\n", 404),
        (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        (b"hello\r\n\r\n", 400),
        (b"GET /metrics\r\n\r\n", 400),
        (b"GET /" + b"a" * (MAX_REQUEST_HEAD * 2) + b" HTTP/1.1\r\n\r\n", 400),
        (b"\x00\xff\xfe garbage \r\n\r\n", 400),
    ],
)
async def test_bad_requests_get_a_plain_answer(
    served: tuple[Engine, Metrics, int, list[str]], request_bytes: bytes, code: int
) -> None:
    port = served[2]
    assert (await raw_request(port, request_bytes))[0] == code
    assert (await get(port, "/metrics"))[0] == 200  # and the server goes on


async def test_a_half_request_is_closed(
    served: tuple[Engine, Metrics, int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot._metrics

    monkeypatch.setattr(bot._metrics, "REQUEST_TIMEOUT", 0.2)
    port = served[2]
    assert (await raw_request(port, b"GET /metrics HTTP/1.1\r\n"))[0] == 400


def test_adapter_counters() -> None:
    from bot import homeserver_error, lease_held, rate_limited
    from bot._metrics import default_metrics

    metrics = default_metrics()
    before = metrics.rate_limited.labels("matrix")._value.get()
    rate_limited("matrix")
    rate_limited("@user:example.org")  # never a label value
    homeserver_error()
    lease_held(True)
    text = metrics.exposition().decode()
    assert metrics.rate_limited.labels("matrix")._value.get() == before + 1
    assert "example.org" not in text and "wegwijzer_matrix_lease_held 1.0" in text
    lease_held(False)
