"""One retry backoff for every adapter: exponential growth with full jitter.

Full jitter (a uniform draw between 0 and the exponential cap) spreads the retries of
many clients that failed together, so a homeserver or connector that comes back is not
hit by all of them at the same moment.
"""

from __future__ import annotations

import random

_RANDOM = random.Random()


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    The ceiling doubles per attempt from `base` up to `cap`; the delay is drawn uniformly
    below it.
    """
    # The exponent is bounded so a long outage never overflows a float.
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 0), 60))
    return (rng or _RANDOM).uniform(0.0, ceiling)
