"""A lease in Redis, so that of several replicas only one runs a piece of work at a time
(the Matrix sync loop: two syncing replicas would answer every message twice).

The holder takes the key with `SET key <holder> NX PX ttl`, renews it every third of
the TTL with a Lua check-and-extend (only while the key still names it), and deletes it
(again only if it names it) when it stops. A replica that dies stops renewing; the key
expires after the TTL and a waiting replica, polling every third of the TTL, takes over:
with the default 15 s TTL that is within 20 s.

A holder that cannot renew (Redis unreachable, or the lease was taken over after a long
pause) stops its work before its lease can have expired on the server: the local
deadline is counted from when the request was sent, which is never later than when Redis
started the key's clock, minus a safety margin. So two replicas never work at once.

A takeover re-reads what the dead holder had not yet marked as read (the Matrix sync
token is stored after a sync's events are answered). `claim()` keeps a new holder from
answering those twice: the holder claims each item in Redis before it works on it, and
an item already claimed by any holder is skipped.

Without `WEGWIJZER_STATE_URL` there is one replica, and no lease is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from adapters._contract import SettingsError
from bot import bounded, lease_held

log = logging.getLogger("adapters.lease")

T = TypeVar("T")

KEY_PREFIX = "wegwijzer:lease:"
TTL_SECONDS = 15.0
#: How long a claimed item stays claimed: far longer than any takeover re-reads.
CLAIM_SECONDS = 24 * 3600
#: The holder stops working this share of the TTL before its lease could expire.
SAFETY_SHARE = 0.2
_FAILURES = (RedisError, OSError, TimeoutError)

# Extend only a lease this holder still has; an expired or taken-over one stays lost.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LeaseSettingsError(SettingsError):
    """A lease setting is wrong; the message names the variable."""


class Lease:
    """One named lease, held (or not) by this process."""

    def __init__(
        self,
        redis: Redis,
        name: str,
        *,
        ttl: float = TTL_SECONDS,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError("a lease needs a positive TTL")
        self.redis = redis
        self.key = KEY_PREFIX + name
        self.ttl = ttl
        # Random per process: names no host, user or room.
        self.holder = holder or secrets.token_hex(16)
        self.clock = clock
        self._valid_until = 0.0

    @property
    def interval(self) -> float:
        """How often the holder renews and a waiting replica tries."""
        return self.ttl / 3

    @property
    def valid_until(self) -> float:
        """When the lease may expire on the server at the earliest (`clock` time)."""
        return self._valid_until

    @property
    def held(self) -> bool:
        """True while this process may work: its lease cannot have expired yet."""
        return self.clock() < self._valid_until - self.ttl * SAFETY_SHARE

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process now holds it."""
        sent = self.clock()
        taken = await bounded(
            self.redis.set(self.key, self.holder, nx=True, px=self._ttl_ms()), self.interval
        )
        if taken:
            self._valid_until = sent + self.ttl
            lease_held(True)
            return True
        # A restarted process with the same holder id may still own it: renew instead.
        return await self.renew()

    async def renew(self) -> bool:
        """Extend the lease if this process still holds it; False when it is lost."""
        sent = self.clock()
        extended = await bounded(
            self.redis.eval(_RENEW, 1, self.key, self.holder, self._ttl_ms()), self.interval
        )
        if extended == 1:
            self._valid_until = sent + self.ttl
            lease_held(True)
            return True
        self._valid_until = 0.0
        lease_held(False)
        return False

    async def release(self) -> None:
        """Give the lease up at once (only if this process holds it)."""
        was_held = self._valid_until > 0
        self._valid_until = 0.0
        lease_held(False)
        if was_held:
            await bounded(self.redis.eval(_RELEASE, 1, self.key, self.holder), self.interval)

    async def claim(self, item: str) -> bool:
        """Claim one piece of work (an opaque key, never content) for good.

        True when no holder claimed `item` before: this process does it. When Redis cannot
        answer, True as well: a reply given twice is better than one never given.
        """
        key = f"{self.key}:done:{item}"
        try:
            taken = await bounded(
                self.redis.set(key, "1", nx=True, ex=CLAIM_SECONDS), self.interval
            )
        except _FAILURES as exc:
            log.warning("lease %s: claim not checked (%s)", self.key, type(exc).__name__)
            return True
        return bool(taken)

    def _ttl_ms(self) -> int:
        return max(1, round(self.ttl * 1000))


async def run_while_held(
    lease: Lease,
    work: Callable[[], Awaitable[T]],
    *,
    rng: random.Random | None = None,
) -> T:
    """Wait for the lease, run `work()` while holding it, renew it meanwhile.

    When the lease is lost (not renewed in time), `work()` is cancelled and this waits
    for the lease again; a later holder starts `work()` afresh. Returns what `work()`
    returns, and releases the lease then, on an error and on cancellation.
    """
    rng = rng or random.Random()
    while True:
        await _wait_for(lease, rng)
        log.info("lease %s taken: this replica does the work now", lease.key)
        task = asyncio.ensure_future(work())
        try:
            lost = await _keep(lease, task)
        except BaseException:
            await _stop(task)
            with contextlib.suppress(*_FAILURES):
                await lease.release()
            raise
        if not lost:
            with contextlib.suppress(*_FAILURES):
                await lease.release()
            return task.result()
        log.warning("lease %s lost: work stopped, waiting to take it again", lease.key)


async def _wait_for(lease: Lease, rng: random.Random) -> None:
    while True:
        try:
            if await lease.acquire():
                return
        except _FAILURES as exc:
            log.warning("lease %s: Redis unreachable (%s)", lease.key, type(exc).__name__)
        # Jitter keeps replicas started together from asking in lockstep.
        await asyncio.sleep(lease.interval * (0.5 + rng.random() / 2))


async def _keep(lease: Lease, task: asyncio.Future[T]) -> bool:
    """Renew until `task` ends (False) or the lease is lost (cancels it; True).

    Every wait, renewal included, ends by the time the lease stops being `held`, so the
    work is stopped before the lease can expire on the server and be taken by another.
    """
    next_renew = lease.clock() + lease.interval
    while not task.done():
        held_until = lease.valid_until - lease.ttl * SAFETY_SHARE
        wait = min(next_renew, held_until) - lease.clock()
        if wait > 0:
            await asyncio.wait({task}, timeout=wait)
        if task.done():
            break
        if lease.held and lease.clock() >= next_renew:
            renewed = False
            try:
                renewed = await bounded(lease.renew(), max(0.0, held_until - lease.clock()))
            except _FAILURES as exc:
                log.warning("lease %s: renewal failed (%s)", lease.key, type(exc).__name__)
            # After a failed try, try again soon: there are a few before the deadline.
            next_renew = lease.clock() + (lease.interval if renewed else lease.interval / 4)
        if not lease.held:
            await _stop(task)
            return True
    return False


async def _stop(task: asyncio.Future[T]) -> None:
    """Cancel `task` and wait for it, without swallowing a cancellation of our own."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        log.warning("work ended with %s while stopping", type(task.exception()).__name__)


def lease_from_env(env: Mapping[str, str], name: str) -> Lease | None:
    """The lease named `name` in the Redis of `WEGWIJZER_STATE_URL`; None without it.

    `WEGWIJZER_LEASE_TTL_SECONDS` (default 15, at most 20 so a takeover stays within
    30 s) sets the TTL.

    Raises:
        LeaseSettingsError: The TTL is not a number from 1 to 20.
    """
    url = env.get("WEGWIJZER_STATE_URL", "").strip()
    if not url:
        return None
    ttl = TTL_SECONDS
    raw = env.get("WEGWIJZER_LEASE_TTL_SECONDS", "").strip()
    if raw:
        try:
            ttl = float(raw)
        except ValueError:
            ttl = -1.0
        if not 1.0 <= ttl <= 20.0:
            raise LeaseSettingsError("WEGWIJZER_LEASE_TTL_SECONDS must be a number from 1 to 20")
    try:
        redis = Redis.from_url(
            url,
            socket_timeout=ttl / 3,
            socket_connect_timeout=ttl / 3,
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError:
        # redis-py's message quotes parts of the URL, which may hold the password.
        raise LeaseSettingsError("WEGWIJZER_STATE_URL is not a valid Redis URL") from None
    return Lease(redis, name, ttl=ttl)
