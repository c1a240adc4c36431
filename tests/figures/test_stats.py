"""Counting in memory, the hourly batch, and the store (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import random
import sqlite3
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from bot import Engine, Message
from bot._stats import (
    FLUSH_JITTER,
    FLUSH_SECONDS,
    CountKey,
    Stats,
    StatsSettingsError,
    channel_of,
    iso_week,
    next_flush_delay,
    run_flusher,
    stats_from_env,
)
from bot._stats_store import (
    SCHEMA_VERSION,
    SQLITE_FILE,
    StatsStore,
    StatsStoreError,
    open_store,
)

DAY = _dt.date(2026, 3, 12)  # a Thursday in 2026-W11


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StatsStore:
    if request.param == "sqlite":
        return open_store(dsn=None, data_dir=tmp_path / "data")
    dsn = request.getfixturevalue("pg_dsn")
    return open_store(dsn=dsn, data_dir=tmp_path / "unused")


def snapshot(folder: Path) -> dict[str, tuple[str, float]]:
    """Every file with its content hash and mtime."""
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_week_and_channel() -> None:
    assert iso_week(DAY) == "2026-W11"
    assert iso_week(_dt.date(2027, 1, 1)) == "2026-W53"  # ISO year, not calendar year
    assert channel_of("teams:abc") == "teams"
    assert channel_of("matrix:abc") == "matrix"
    assert channel_of("someone@example.org") == "other"


async def test_a_message_changes_nothing_on_disk_until_the_flush(
    engine: Engine, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    stats = Stats(open_store(dsn=None, data_dir=data), today=lambda: DAY)
    engine.stats = stats
    before = snapshot(data)
    assert before, "the store is created at start-up, before any message"
    for text in ["ik word gepest", "ja", "menu", "wat is een misstand", "ik wil niet meer leven"]:
        await engine.handle(Message("teams:one", text))
    assert snapshot(data) == before
    assert stats.counts and stats.crisis
    assert stats.store.rows() == []
    assert await stats.flush()
    assert snapshot(data) != before
    rows = stats.store.rows()
    assert {(r.entry, r.event) for r in rows} >= {("pesten", "answered"), ("pesten", "helped")}
    assert stats.store.crisis_weeks() == {"2026-W11": 1}
    assert not stats.counts and not stats.crisis


async def test_outcomes_counted(engine: Engine, tmp_path: Path) -> None:
    stats = Stats(open_store(dsn=None, data_dir=tmp_path), today=lambda: DAY)
    engine.stats = stats
    for text in ["organisatie voorbeeld", "ik word gepest", "nee", "xyzzy blub", "menu"]:
        await engine.handle(Message("matrix:a", text))
    await engine.handle(Message("teams:b", "wat is een misstand"))
    await engine.handle(Message("teams:b", "ik wil niet meer leven"))
    got = Counter(
        {(k.organisation, k.channel, k.theme, k.entry, k.event): n for k, n in stats.counts.items()}
    )
    assert got == Counter(
        {
            ("voorbeeld", "matrix", "", "", "command"): 2,
            ("voorbeeld", "matrix", "ongewenst-gedrag", "pesten", "answered"): 1,
            ("voorbeeld", "matrix", "ongewenst-gedrag", "pesten", "not_helped"): 1,
            ("voorbeeld", "matrix", "", "", "unknown"): 1,
            ("unknown", "teams", "integriteit", "misstand", "answered"): 1,
        }
    )
    # A crisis is one weekly total: no organisation, channel or topic.
    assert stats.crisis == Counter({"2026-W11": 1})


async def test_ask_and_chat_without_stats_count_nothing(engine: Engine) -> None:
    assert engine.stats is None
    assert engine.ask("ik word gepest").entry == "pesten"


async def test_flusher_writes_at_shutdown_and_hourly(engine: Engine, tmp_path: Path) -> None:
    stats = Stats(open_store(dsn=None, data_dir=tmp_path), today=lambda: DAY)
    engine.stats = stats
    await engine.handle(Message("teams:a", "ik word gepest"))
    # A delay that never fires within the test: only shutdown writes.
    task = asyncio.create_task(run_flusher(stats, delay=lambda rng: 3600.0))
    await asyncio.sleep(0.05)
    assert stats.store.rows() == []
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r.n for r in stats.store.rows()] == [1]
    # Now a short period: batches keep coming while the bot runs.
    await engine.handle(Message("teams:a", "wat is een misstand"))
    task = asyncio.create_task(run_flusher(stats, delay=lambda rng: 0.01))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(stats.store.rows()) == 2:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(stats.store.rows()) == 2


def test_flush_delay_is_jittered() -> None:
    rng = random.Random(7)
    delays = [next_flush_delay(rng) for _ in range(200)]
    assert all(FLUSH_SECONDS - FLUSH_JITTER <= d <= FLUSH_SECONDS + FLUSH_JITTER for d in delays)
    assert len({round(d) for d in delays}) > 150


async def test_failed_flush_keeps_the_counts(tmp_path: Path) -> None:
    stats = Stats(open_store(dsn=None, data_dir=tmp_path), today=lambda: DAY)
    key = CountKey("2026-W11", "unknown", "teams", "", "", "command")
    stats.counts[key] += 3
    (tmp_path / SQLITE_FILE).unlink()
    (tmp_path / SQLITE_FILE).mkdir()  # the file is gone and cannot be made
    assert not await stats.flush()
    assert stats.counts[key] == 3


def test_batches_add_up_and_replicas_share_one_store(store: StatsStore) -> None:
    key = CountKey("2026-W11", "voorbeeld", "teams", "integriteit", "misstand", "answered")
    crisis = Counter({"2026-W11": 1})
    store.add(Counter({key: 2}), crisis)
    store.add(Counter({key: 3}), crisis)  # a second replica's batch
    (row,) = store.rows(2026)
    assert row.n == 5
    assert store.crisis_weeks(2026) == {"2026-W11": 2}
    assert store.rows(2025) == []


def test_migrations(store: StatsStore) -> None:
    assert store.version() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION  # a second start changes nothing
    _set_version(store, SCHEMA_VERSION + 1)
    with pytest.raises(StatsStoreError, match="newer than this"):
        store.migrate()


def _set_version(store: StatsStore, version: int) -> None:
    if store.dialect == "sqlite":
        with sqlite3.connect(store.target) as conn:
            conn.execute("UPDATE schema_version SET version = ?", (version,))
    else:
        with psycopg.connect(store.target) as conn:
            conn.execute("UPDATE schema_version SET version = %s", (version,))


def test_settings(tmp_path: Path) -> None:
    assert stats_from_env({"WEGWIJZER_STATS": "off"}, tmp_path) is None
    assert not (tmp_path / SQLITE_FILE).exists()
    with pytest.raises(StatsSettingsError, match="WEGWIJZER_STATS"):
        stats_from_env({"WEGWIJZER_STATS": "maybe"}, tmp_path)
    stats = stats_from_env({}, tmp_path / "new")
    # Nothing on disk before the first batch, not even the folder.
    assert stats is not None and not (tmp_path / "new").exists()
    stats.counts[CountKey("2026-W11", "unknown", "teams", "", "", "command")] += 1
    assert asyncio.run(stats.flush())
    assert [r.n for r in stats.store.rows()] == [1]
    with pytest.raises(StatsStoreError, match="WEGWIJZER_STATS_DSN"):
        stats_from_env({"WEGWIJZER_STATS_DSN": "postgresql://nobody@127.0.0.1:1/x"}, tmp_path)
    (tmp_path / "bad").write_text("not a folder")
    with pytest.raises(StatsStoreError, match="WEGWIJZER_DATA_DIR"):
        stats_from_env({}, tmp_path / "bad")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / SQLITE_FILE).write_text("this is no database " * 100)
    with pytest.raises(StatsStoreError, match="cannot open"):
        stats_from_env({}, tmp_path / "junk")


async def test_did_you_mean_counts_the_theme_of_its_closest_suggestion(
    engine: Engine, tmp_path: Path
) -> None:
    stats = Stats(open_store(dsn=None, data_dir=tmp_path), today=lambda: DAY)
    engine.stats = stats
    reply = await engine.handle(Message("web:a", "pesten verlof"))
    first = engine.entries[reply.choices[0].action.removeprefix("entry:")]
    assert [(k.channel, k.theme, k.entry, k.event) for k in stats.counts] == [
        ("web", first.theme, "", "clarify")
    ]
