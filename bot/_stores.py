"""Conversation state shared between replicas, in Redis (or Valkey).

`WEGWIJZER_STATE_URL=redis://host:port/db` (or `rediss://`) switches it on; without it
the engine keeps state in this process's memory, as on a single machine.

What is stored: one key per conversation, `wegwijzer:state:<opaque key>`, whose value is
the JSON of `State` (language, organisation, the numbered choices just offered, the last
entry shown: ids from the knowledge base, never the person's words), expiring after the
same 30 idle minutes as in memory. `vergeet` deletes the key at once.

When Redis is unreachable or slow, no turn waits longer than the timeout: state comes
from this process's memory (what it saw last, minus numbered choices it cannot know are
still current), one warning a minute goes to the log, and `/healthz` says "degraded".
After a few failures in a row memory alone is used, and Redis is tried again every few
seconds. States written meanwhile go back to Redis on their next turn, and deletes that
could not be done are done first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot._metrics import Metrics, default_metrics
from bot._privacy import set_conversation_secret
from bot._state import (
    IDLE_SECONDS,
    ConversationStore,
    State,
    StateFormatError,
    StateStore,
    state_from_json,
    state_to_json,
)

log = logging.getLogger("wegwijzer.state")

KEY_PREFIX = "wegwijzer:state:"
#: The longest any Redis call may take before the turn goes on with memory. Measured
#: from this process's side, so a busy event loop counts too: generous, but bounded.
TIMEOUT_SECONDS = 1.0
#: After this many failures in a row, memory alone is used for RETRY_SECONDS, so a hung
#: Redis costs a few turns one timeout each, not every turn.
OPEN_AFTER = 3
RETRY_SECONDS = 2.0
#: At most one "unreachable" warning per this many seconds.
WARN_EVERY_SECONDS = 60.0
MIN_SECRET_CHARS = 32
#: What sends a turn to memory: connection and protocol errors (RedisError, OSError),
#: timeouts, and anything else redis-py raises: a state store must never cost a reply.
#: Each is logged by type and counted, so a bug here still shows.
_FAILURES = (Exception,)
T = TypeVar("T")


async def bounded(call: Awaitable[T], seconds: float) -> T:
    """`await call`, but never longer than `seconds`, and cancellable.

    redis-py's asyncio client can swallow a cancellation that reaches it mid-command
    (redis/redis-py#2028, #2551; measured with 8.1: a cancelled task ran on), which also
    defeats `asyncio.timeout`. So the call runs as a task of its own and we wait for it
    with `asyncio.wait`, which our own cancellation and the timeout always end.
    """
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except BaseException:
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise TimeoutError
    return task.result()


def _abandon(task: asyncio.Future[Any]) -> None:
    """Cancel a call we no longer wait for; its late error is read, so asyncio does not
    report it as never retrieved."""
    task.cancel()
    task.add_done_callback(lambda t: None if t.cancelled() else t.exception())


class StateSettingsError(ValueError):
    """A state setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True, slots=True)
class StateSettings:
    url: str | None
    secret: str | None
    timeout: float = TIMEOUT_SECONDS


def state_settings(env: Mapping[str, str]) -> StateSettings:
    """Read `WEGWIJZER_STATE_URL`, `WEGWIJZER_STATE_SECRET`, `WEGWIJZER_STATE_TIMEOUT_MS`.

    Raises:
        StateSettingsError: naming the variable; never echoing a value (the URL may hold
            a password).
    """
    url = env.get("WEGWIJZER_STATE_URL", "").strip() or None
    secret = env.get("WEGWIJZER_STATE_SECRET", "").strip() or None
    if url is not None and not url.startswith(("redis://", "rediss://")):
        raise StateSettingsError("WEGWIJZER_STATE_URL must start with redis:// or rediss://")
    if url is not None and secret is None:
        raise StateSettingsError(
            "WEGWIJZER_STATE_SECRET is not set: replicas sharing WEGWIJZER_STATE_URL need "
            f"one shared secret of at least {MIN_SECRET_CHARS} characters"
        )
    if secret is not None and len(secret) < MIN_SECRET_CHARS:
        raise StateSettingsError(
            f"WEGWIJZER_STATE_SECRET is too short: use at least {MIN_SECRET_CHARS} characters"
        )
    timeout = TIMEOUT_SECONDS
    raw = env.get("WEGWIJZER_STATE_TIMEOUT_MS", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
            raise StateSettingsError(
                "WEGWIJZER_STATE_TIMEOUT_MS must be a whole number of milliseconds, 1 to 10000"
            )
        timeout = int(raw) / 1000
    return StateSettings(url, secret, timeout)


def store_from_env(env: Mapping[str, str], metrics: Metrics | None = None) -> StateStore:
    """The store the settings ask for; sets the conversation-key secret when given.

    Raises:
        StateSettingsError: A setting is missing or wrong.
    """
    settings = state_settings(env)
    if settings.secret is not None:
        set_conversation_secret(settings.secret)
    if settings.url is None:
        return ConversationStore()
    try:
        return RedisStore(settings.url, timeout=settings.timeout, metrics=metrics)
    except ValueError:
        # redis-py's message quotes parts of the URL, which may hold the password.
        raise StateSettingsError("WEGWIJZER_STATE_URL is not a valid Redis URL") from None


class RedisStore:
    """`StateStore` in Redis, with this process's memory as cache and stand-in."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        idle_seconds: int = IDLE_SECONDS,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.idle_seconds = idle_seconds
        self.metrics = metrics or default_metrics()
        self.clock = clock
        # redis-py would retry on its own with backoff; one try within our timeout,
        # then memory, is what keeps a turn from hanging.
        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._local = ConversationStore(idle_seconds=idle_seconds)
        #: Keys written to memory while Redis was away: newer than what Redis holds.
        self._dirty: dict[str, None] = {}
        #: Keys `vergeet` could not delete in Redis yet.
        self._pending_deletes: dict[str, None] = {}
        self._down_since: float | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._warned_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ StateStore

    @property
    def healthy(self) -> bool:
        return self._down_since is None

    def peek(self, key: str) -> State | None:
        return self._local.peek(key)

    async def load(self, key: str) -> State:
        if self._usable():
            try:
                raw = await bounded(self._get(key), self.timeout)
            except _FAILURES as exc:
                self._failed("load", exc)
            else:
                self._recovered()
                if key in self._dirty and self._local.peek(key) is not None:
                    # Written here while Redis was away, so newer than Redis: the save
                    # after this turn puts it back.
                    return self._local.get(key)
                state = self._decode(raw)
                self._local.put(key, state)
                return state
        local = self._local.peek(key)
        if local is None:
            state = State()
        elif key in self._dirty:
            state = local
        else:
            # Another replica may have offered other numbers since: "that choice has
            # expired" is better than an answer to a question nobody asked.
            state = replace(local, choices={})
        self._local.put(key, state)
        return state

    async def save(self, key: str, state: State) -> None:
        self._local.put(key, state)
        if self._usable():
            try:
                await bounded(self._set(key, state_to_json(state)), self.timeout)
            except _FAILURES as exc:
                self._failed("save", exc)
            else:
                self._recovered()
                self._dirty.pop(key, None)
                return
        self._dirty[key] = None
        self._bound(self._dirty)

    async def delete(self, key: str) -> None:
        self._local.forget(key)
        self._dirty.pop(key, None)
        self._pending_deletes[key] = None
        self._bound(self._pending_deletes)
        if self._usable():
            try:
                await bounded(self._flush_deletes(), self.timeout)
            except _FAILURES as exc:
                self._failed("delete", exc)
            else:
                self._recovered()

    def forget(self, key: str) -> None:
        """Drop `key` from memory now and delete it in Redis in the background."""
        self._local.forget(key)
        self._dirty.pop(key, None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._pending_deletes[key] = None  # done on the next call that reaches Redis
            return
        task = loop.create_task(self.delete(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ upkeep

    async def probe(self) -> bool:
        """Try Redis now if it is due (for /healthz without traffic); True when healthy."""
        if self._down_since is not None and self._usable():
            try:
                await bounded(self._ping(), self.timeout)
            except _FAILURES as exc:
                self._failed("ping", exc)
            else:
                self._recovered()
        return self.healthy

    async def close(self) -> None:
        for task in list(self._tasks):
            await asyncio.wait({task}, timeout=self.timeout)
        await self._redis.aclose()

    # ------------------------------------------------------------------ internals

    def _usable(self) -> bool:
        return self._failures < OPEN_AFTER or self.clock() >= self._retry_at

    async def _get(self, key: str) -> Any:
        await self._flush_deletes()
        return await self._redis.get(KEY_PREFIX + key)

    async def _set(self, key: str, value: str) -> None:
        await self._flush_deletes()
        await self._redis.set(KEY_PREFIX + key, value, ex=self.idle_seconds)

    async def _ping(self) -> None:
        await self._redis.ping()
        await self._flush_deletes()

    async def _flush_deletes(self) -> None:
        if self._pending_deletes:
            keys = list(self._pending_deletes)
            await self._redis.delete(*(KEY_PREFIX + k for k in keys))
            for k in keys:
                self._pending_deletes.pop(k, None)

    def _decode(self, raw: Any) -> State:
        if raw is None:
            return State()
        try:
            return state_from_json(raw)
        except StateFormatError:
            log.warning("stored conversation state did not fit: starting that conversation anew")
            return State()

    def _failed(self, operation: str, exc: BaseException) -> None:
        now = self.clock()
        self.metrics.state_errors.labels(operation).inc()
        self.metrics.state_up.set(0)
        if self._down_since is None:
            self._down_since = now
        self._failures += 1
        if self._failures >= OPEN_AFTER:
            self._retry_at = now + self.retry_seconds
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            # The type only: redis-py's messages can hold the server address.
            log.warning(
                "shared state store unreachable (%s on %s): using this process's memory; "
                "trying again every %.0f s",
                type(exc).__name__,
                operation,
                self.retry_seconds,
            )

    def _recovered(self) -> None:
        self._failures = 0
        if self._down_since is not None:
            log.warning(
                "shared state store reachable again after %.0f s", self.clock() - self._down_since
            )
            self._down_since = None
            self._warned_at = None
            self.metrics.state_up.set(1)

    def _bound(self, keys: dict[str, None]) -> None:
        while len(keys) > self._local.max_conversations:
            del keys[next(iter(keys))]
