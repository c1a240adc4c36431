"""Rate limits in memory: one token bucket per conversation and one for the whole page."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Buckets kept at most; the least recently used go first (a full bucket is the default).
MAX_BUCKETS = 50_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`allow(key)` is False when that conversation, or the page as a whole, is too busy."""

    def __init__(
        self,
        per_key_per_minute: int,
        total_per_second: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key_rate = per_key_per_minute / 60.0
        self._key_burst = float(per_key_per_minute)
        self._total_rate = float(total_per_second)
        self._clock = clock
        self._total = _Bucket(float(total_per_second), clock())
        self._keys: OrderedDict[str, _Bucket] = OrderedDict()

    def _take(self, bucket: _Bucket, rate: float, burst: float, now: float) -> bool:
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def allow(self, key: str) -> tuple[bool, str]:
        """(allowed, which limit was hit: "" / "conversation" / "total")."""
        now = self._clock()
        bucket = self._keys.pop(key, None) or _Bucket(self._key_burst, now)
        self._keys[key] = bucket
        while len(self._keys) > MAX_BUCKETS:
            self._keys.popitem(last=False)
        if not self._take(bucket, self._key_rate, self._key_burst, now):
            return False, "conversation"
        if not self._take(self._total, self._total_rate, self._total_rate, now):
            bucket.tokens += 1.0
            return False, "total"
        return True, ""

    def forget(self, key: str) -> None:
        self._keys.pop(key, None)
