"""Anonymous use figures: counted in memory, written in one batch per hour.

What is counted, and nothing more: per ISO week, organisation (only if the person chose
one, else "unknown"), channel (the platform), theme and entry, and what happened
(answered, "did you mean", "don't know", a command, or "helped" / "did not help").
Crisis replies are a weekly total only: no organisation, channel, theme or entry.

Counts are never written when a message arrives. Someone who can see the platform's
logs (a Teams or homeserver admin who knows when a person wrote to the bot) must not be
able to link that moment to a topic in the store, so `run_flusher` writes everything in
one batch about once an hour, at a jittered moment, and once more at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from bot._types import Reply, ReplyKind

if TYPE_CHECKING:
    from bot._kb import Entry
    from bot._stats_store import StatsStore

log = logging.getLogger("wegwijzer.stats")

#: One batch per hour, at a moment drawn anew each time within +/- 15 minutes.
FLUSH_SECONDS = 3600.0
FLUSH_JITTER = 900.0
#: The channels counted by name; any other conversation-key prefix counts as "other".
CHANNELS = ("console", "matrix", "teams", "web", "other")
UNKNOWN_ORG = "unknown"
#: Entry, theme and organisation ids: the knowledge base's id shape, nothing freer.
ID_RE = re.compile(r"^[a-z0-9-]{0,64}$")
WEEK_RE = re.compile(r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$")


class Event(StrEnum):
    """What one count is of. The store accepts these values and no others."""

    ANSWERED = "answered"
    CLARIFY = "clarify"  # "did you mean"
    UNKNOWN = "unknown"  # "I don't know"
    COMMAND = "command"  # menu, help, privacy, organisation, language, forget, ...
    HELPED = "helped"
    NOT_HELPED = "not_helped"


EVENTS = tuple(e.value for e in Event)


@dataclass(frozen=True, slots=True, order=True)
class CountKey:
    """One cell of the figures. Every field is a week, a fixed enum value or an id."""

    week: str
    organisation: str
    channel: str
    theme: str
    entry: str
    event: str


def iso_week(day: _dt.date) -> str:
    """ "2026-W07": the ISO year and week, the finest time the figures ever hold."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def channel_of(conversation: str) -> str:
    """The platform, from the conversation key's prefix (`bot.conversation_key`)."""
    prefix = conversation.partition(":")[0]
    return prefix if prefix in CHANNELS else "other"


def _id(value: str | None) -> str:
    return value if value and ID_RE.match(value) else ""


class Stats:
    """The counts since the last batch, in memory only."""

    def __init__(
        self, store: StatsStore, *, today: Callable[[], _dt.date] = _dt.date.today
    ) -> None:
        self.store = store
        self.today = today
        self.counts: Counter[CountKey] = Counter()
        self.crisis: Counter[str] = Counter()

    def reply(
        self,
        conversation: str,
        organisation: str | None,
        reply: Reply,
        entries: Mapping[str, Entry],
    ) -> None:
        """Count one reply by its outcome; a crisis reply only as this week's total."""
        week = iso_week(self.today())
        if reply.crisis is not None or reply.kind is ReplyKind.CRISIS:
            self.crisis[week] += 1
            return
        entry = ""
        match reply.kind:
            case ReplyKind.ANSWER:
                event, entry = Event.ANSWERED, reply.entry or ""
            case ReplyKind.CLARIFY:
                # The theme of the closest suggestion shows where people get stuck;
                # the suggestions themselves are not counted.
                event = Event.CLARIFY
                first = next((c.action for c in reply.choices if c.action.startswith("entry:")), "")
                found = entries.get(first.removeprefix("entry:"))
                theme = found.theme if found else ""
                self._add(week, organisation, conversation, theme, "", event)
                return
            case ReplyKind.UNKNOWN:
                event = Event.UNKNOWN
            case _:
                event = Event.COMMAND
        found = entries.get(entry)
        # Only ids the knowledge base knows are ever counted.
        theme, entry = (found.theme, entry) if found else ("", "")
        self._add(week, organisation, conversation, theme, entry, event)

    def feedback(
        self,
        conversation: str,
        organisation: str | None,
        entry: str,
        helped: bool,
        entries: Mapping[str, Entry],
    ) -> None:
        """Count one "did this help?" answer for `entry`."""
        found = entries.get(entry)
        if found is None:
            return
        event = Event.HELPED if helped else Event.NOT_HELPED
        self._add(iso_week(self.today()), organisation, conversation, found.theme, entry, event)

    def _add(
        self,
        week: str,
        organisation: str | None,
        conversation: str,
        theme: str,
        entry: str,
        event: Event,
    ) -> None:
        key = CountKey(
            week,
            _id(organisation) or UNKNOWN_ORG,
            channel_of(conversation),
            _id(theme),
            _id(entry),
            event.value,
        )
        self.counts[key] += 1

    def take(self) -> tuple[Counter[CountKey], Counter[str]]:
        """Hand over everything counted so far and start from zero."""
        counts, crisis = self.counts, self.crisis
        self.counts, self.crisis = Counter(), Counter()
        return counts, crisis

    async def flush(self) -> bool:
        """Write the batch; on failure keep it in memory for the next try."""
        counts, crisis = self.take()
        if not counts and not crisis:
            return True
        try:
            await asyncio.to_thread(self.store.add, counts, crisis)
        except Exception as exc:  # the store's driver raises its own kinds
            log.error("writing the use figures failed (%s); kept for the next batch", type(exc))
            self.counts.update(counts)
            self.crisis.update(crisis)
            return False
        return True


def next_flush_delay(rng: random.Random) -> float:
    """Seconds to the next batch: an hour, give or take a quarter, drawn anew each time."""
    return FLUSH_SECONDS + rng.uniform(-FLUSH_JITTER, FLUSH_JITTER)


async def run_flusher(
    stats: Stats,
    *,
    delay: Callable[[random.Random], float] = next_flush_delay,
    rng: random.Random | None = None,
) -> None:
    """Write the counts about once an hour until cancelled, then once more."""
    rng = rng or random.SystemRandom()
    try:
        while True:
            await asyncio.sleep(delay(rng))
            await stats.flush()
    finally:
        # Shutdown: the last batch must not be lost, even while being cancelled.
        with contextlib.suppress(Exception):
            await asyncio.shield(stats.flush())


class StatsSettingsError(ValueError):
    """WEGWIJZER_STATS or WEGWIJZER_STATS_DSN is wrong; the message names the variable."""


def stats_from_env(env: Mapping[str, str], data_dir: Path) -> Stats | None:
    """Counting as configured: None when `WEGWIJZER_STATS=off`.

    A wrong setting stops the start with a clear message instead of losing an hour of
    counts later: a PostgreSQL store is reached and migrated here; a SQLite store that
    does not exist yet is only checked for (nothing is written before the first batch).
    """
    from bot._stats_store import open_store

    switch = env.get("WEGWIJZER_STATS", "on").strip().lower() or "on"
    if switch in ("off", "0", "false", "no"):
        return None
    if switch not in ("on", "1", "true", "yes"):
        raise StatsSettingsError("WEGWIJZER_STATS must be 'on' or 'off'")
    dsn = env.get("WEGWIJZER_STATS_DSN", "").strip()
    return Stats(open_store(dsn=dsn or None, data_dir=data_dir, create=False))
