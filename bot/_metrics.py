"""Operator metrics in Prometheus format, and the small loopback server that shows them.

No label ever holds text, a user, a room or a conversation id: channels come from a
fixed list (the prefix of the opaque conversation key), outcomes are reply kinds,
results and operations are fixed words chosen in code.

`WEGWIJZER_METRICS_PORT` switches the server on (`/metrics` and `/healthz`), on
`WEGWIJZER_METRICS_HOST` (default 127.0.0.1: scraped through the host, never public).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

log = logging.getLogger("wegwijzer.metrics")

#: Channel labels allowed; any other key prefix is counted as "other", so a malformed
#: key can never add a label value.
CHANNELS = frozenset({"console", "matrix", "teams", "web"})
#: Reply latency buckets in seconds: engine turns take milliseconds, Redis adds a little,
#: a slow backend hits its timeout at 0.5 s.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: The longest request head the metrics server reads; scrapers send a few hundred bytes.
MAX_REQUEST_HEAD = 8192
REQUEST_TIMEOUT = 5.0


def channel_of(conversation: str) -> str:
    """The platform of an opaque conversation key ("teams:3f2a..." -> "teams")."""
    prefix, sep, _ = conversation.partition(":")
    return prefix if sep and prefix in CHANNELS else "other"


class Metrics:
    """Every metric Wegwijzer exports, on a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.turns = Counter(
            "wegwijzer_turns",
            "Messages answered, by channel and by the kind of reply.",
            ["channel", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "wegwijzer_reply_seconds",
            "Time from a message reaching the engine to its reply, state included.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.kb_reloads = Counter(
            "wegwijzer_kb_reloads",
            "Knowledge-base reloads after a change, by result (loaded or refused).",
            ["result"],
            registry=r,
        )
        self.state_errors = Counter(
            "wegwijzer_state_errors",
            "Failed or timed-out calls to the shared state store (Redis), by operation.",
            ["operation"],
            registry=r,
        )
        self.state_up = Gauge(
            "wegwijzer_state_backend_up",
            "1 while conversation state is shared (or kept in memory by design), 0 while "
            "memory stands in for an unreachable Redis.",
            registry=r,
        )
        self.state_up.set(1)
        self.homeserver_errors = Counter(
            "wegwijzer_homeserver_errors",
            "Failed calls to the Matrix homeserver.",
            registry=r,
        )
        self.rate_limited = Counter(
            "wegwijzer_rate_limited",
            "Times a platform or the bot itself limited the rate, by channel.",
            ["channel"],
            registry=r,
        )
        self.lease_held = Gauge(
            "wegwijzer_matrix_lease_held",
            "1 while this replica holds the lease that lets it run the Matrix sync.",
            registry=r,
        )
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)

    def turn(self, conversation: str, outcome: str, seconds: float) -> None:
        channel = channel_of(conversation)
        self.turns.labels(channel, outcome).inc()
        self.latency.labels(channel).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


_default: Metrics | None = None


def default_metrics() -> Metrics:
    """The process's metrics, made on first use (nothing happens at import)."""
    global _default
    if _default is None:
        _default = Metrics()
    return _default


def rate_limited(channel: str) -> None:
    """Count one rate-limit hit; adapters call this (channel: "matrix", "teams", ...)."""
    default_metrics().rate_limited.labels(channel if channel in CHANNELS else "other").inc()


def lease_held(held: bool) -> None:
    """Show whether this replica holds the Matrix sync lease."""
    default_metrics().lease_held.set(1 if held else 0)


def homeserver_error() -> None:
    """Count one failed call to the Matrix homeserver."""
    default_metrics().homeserver_errors.inc()


# ---------------------------------------------------------------------- the HTTP server

#: Returns the health document; "status" is "ok" or "degraded".
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    host: str
    port: int


def metrics_settings(env: Mapping[str, str]) -> MetricsSettings | None:
    """`WEGWIJZER_METRICS_PORT` and `_HOST`, or None when metrics are off.

    Raises:
        ValueError: The port is not a number from 0 to 65535.
    """
    raw = env.get("WEGWIJZER_METRICS_PORT", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise ValueError("WEGWIJZER_METRICS_PORT must be a port number (0 to 65535)")
    host = env.get("WEGWIJZER_METRICS_HOST", "").strip() or "127.0.0.1"
    return MetricsSettings(host, int(raw))


async def start_metrics_server(
    metrics: Metrics, health: HealthCheck, host: str = "127.0.0.1", port: int = 0
) -> asyncio.Server:
    """Serve `GET /metrics` and `GET /healthz` until the returned server is closed."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, ctype, body = await _answer(reader, metrics, health)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, ctype, body = 400, "text/plain", b"bad request\n"
        except ConnectionError:
            writer.close()
            return
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode("ascii") + body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    return await asyncio.start_server(handle, host, port, limit=MAX_REQUEST_HEAD)


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


async def _answer(
    reader: asyncio.StreamReader, metrics: Metrics, health: HealthCheck
) -> tuple[int, str, bytes]:
    async with asyncio.timeout(REQUEST_TIMEOUT):
        head = await reader.readuntil(b"\r\n\r\n")
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        return 400, "text/plain", b"bad request\n"
    method, target = parts[0], parts[1].split(b"?", 1)[0]
    if target not in (b"/metrics", b"/healthz"):
        return 404, "text/plain", b"not found\n"
    if method != b"GET":
        return 405, "text/plain", b"only GET\n"
    if target == b"/metrics":
        return 200, CONTENT_TYPE_LATEST, metrics.exposition()
    document = await health()
    return 200, "application/json", json.dumps(document).encode() + b"\n"
