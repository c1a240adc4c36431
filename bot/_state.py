"""Conversation state: in memory only, per conversation key, expiring, bounded.

Holds only what the next turn needs (language, organisation, the numbered choices just
offered, the last entry shown, whether they said they are a counsellor) and never the
person's words.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot._types import Lang

IDLE_SECONDS = 30 * 60
MAX_CONVERSATIONS = 10_000


@dataclass(slots=True)
class State:
    """What is remembered between two turns of one conversation."""

    lang: Lang | None = None
    lang_chosen: bool = False
    organisation: str | None = None
    choices: dict[int, str] = field(default_factory=dict)
    last_entry: str | None = None
    #: Said "ik ben vertrouwenspersoon": answers show the counsellors' details unfolded.
    counsellor: bool = False

    #: The entry just answered with "did this help?"; cleared by the next message.
    feedback_entry: str | None = None
    seen: float = 0.0


class ConversationStore:
    """Maps conversation keys to `State`; forgets idle ones and the oldest beyond a cap."""

    def __init__(
        self,
        *,
        idle_seconds: float = IDLE_SECONDS,
        max_conversations: int = MAX_CONVERSATIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_conversations = max_conversations
        self.clock = clock
        self._states: OrderedDict[str, State] = OrderedDict()

    def __len__(self) -> int:
        self._expire()
        return len(self._states)

    def get(self, key: str) -> State:
        """The state for `key`, new if absent or expired; marks it as just used."""
        now = self.clock()
        self._expire(now)
        state = self._states.pop(key, None) or State()
        state.seen = now
        self._states[key] = state
        while len(self._states) > self.max_conversations:
            self._states.popitem(last=False)
        return state

    def peek(self, key: str) -> State | None:
        """The state for `key` if it exists and has not expired; does not refresh it."""
        self._expire()
        return self._states.get(key)

    def forget(self, key: str) -> None:
        """Drop everything about `key` at once."""
        self._states.pop(key, None)

    def clear(self) -> None:
        self._states.clear()

    def _expire(self, now: float | None = None) -> None:
        limit = (self.clock() if now is None else now) - self.idle_seconds
        # Ordered by last use, so expired states are all at the front.
        while self._states:
            key, state = next(iter(self._states.items()))
            if state.seen > limit:
                break
            del self._states[key]
