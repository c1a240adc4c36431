"""Conversation state per conversation key, expiring, bounded.

Holds only what the next turn needs (language, organisation, the numbered choices just
offered, the last entry shown, whether they said they are a counsellor, the answer waiting
for "did this help?") and never the person's words. `ConversationStore` keeps it in this
process's memory (the single-machine default); `bot._stores.RedisStore` shares it between
replicas. Both implement `StateStore`.
"""

from __future__ import annotations

import json
import time
import types
import typing
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

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


#: Fields that mean something only inside one process (a monotonic clock reading):
#: never serialised; a shared store expires keys by its own clock instead.
LOCAL_FIELDS = frozenset({"seen"})


def state_to_json(state: State) -> str:
    """Every field of `State` except the process-local ones, as compact JSON.

    The field list comes from the dataclass, so a field added later is carried too.
    """
    data: dict[str, Any] = {}
    for f in fields(State):
        if f.name in LOCAL_FIELDS:
            continue
        value = getattr(state, f.name)
        if isinstance(value, dict):
            value = {str(k): v for k, v in value.items()}
        elif isinstance(value, tuple | frozenset | set):
            value = list(value)
        data[f.name] = value
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


class StateFormatError(ValueError):
    """Stored state does not fit `State` (another version wrote it, or it is damaged)."""


def state_from_json(raw: str | bytes) -> State:
    """The `State` written by `state_to_json`; unknown fields are ignored, missing ones
    take their defaults.

    Raises:
        StateFormatError: A field has the wrong type or the data is not JSON.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateFormatError("stored state is not JSON") from exc
    if not isinstance(data, dict):
        raise StateFormatError("stored state is not an object")
    hints = typing.get_type_hints(State)
    values: dict[str, Any] = {}
    for f in fields(State):
        if f.name in LOCAL_FIELDS or f.name not in data:
            continue
        values[f.name] = _coerce(f.name, data[f.name], hints[f.name])
    return State(**values)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """`value` from JSON as the type `hint` says, or StateFormatError."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _coerce(name, value, arg)
            except StateFormatError:
                continue
        raise StateFormatError(f"stored state field {name!r} has the wrong type")
    if origin is typing.Literal:
        if value in args:
            return value
    elif hint is type(None):
        if value is None:
            return None
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint in (int, float, str):
        # JSON has one number type; bool is an int in Python but never a number here.
        if isinstance(value, hint) and not isinstance(value, bool):
            return value
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    elif origin is dict and isinstance(value, dict):
        key_type, value_type = args
        try:
            return {
                _coerce(name, int(k) if key_type is int else k, key_type): _coerce(
                    name, v, value_type
                )
                for k, v in value.items()
            }
        except ValueError as exc:
            raise StateFormatError(f"stored state field {name!r} has a wrong key") from exc
    elif origin in (tuple, list, frozenset, set) and isinstance(value, list):
        item = args[0] if args else Any
        items = [v if item is Any else _coerce(name, v, item) for v in value]
        return origin(items)
    elif hint is Any:
        return value
    raise StateFormatError(f"stored state field {name!r} has the wrong type")


@runtime_checkable
class StateStore(Protocol):
    """Where the engine keeps `State` between turns.

    Every call returns in bounded time and never raises for an unreachable backend:
    a shared store falls back to this process's memory (see `bot._stores`).
    """

    async def load(self, key: str) -> State:
        """The state for `key`, new if absent or expired."""
        ...

    async def save(self, key: str, state: State) -> None:
        """Keep `state` for `key` and restart its idle expiry."""
        ...

    async def delete(self, key: str) -> None:
        """Drop everything about `key` at once (`vergeet`)."""
        ...

    def peek(self, key: str) -> State | None:
        """What this process last saw for `key`, without waiting for a backend."""
        ...

    def forget(self, key: str) -> None:
        """Drop `key` here at once; a shared store deletes it there in the background."""
        ...

    @property
    def healthy(self) -> bool:
        """False while a shared backend is unreachable and memory stands in for it."""
        ...


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

    def put(self, key: str, state: State) -> None:
        """Keep `state` for `key` as just used (a state loaded from elsewhere)."""
        now = self.clock()
        self._expire(now)
        self._states.pop(key, None)
        state.seen = now
        self._states[key] = state
        while len(self._states) > self.max_conversations:
            self._states.popitem(last=False)

    # The `StateStore` interface: memory answers at once, so these only wrap the above.

    async def load(self, key: str) -> State:
        return self.get(key)

    async def save(self, key: str, state: State) -> None:
        self.put(key, state)

    async def delete(self, key: str) -> None:
        self.forget(key)

    @property
    def healthy(self) -> bool:
        return True

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
