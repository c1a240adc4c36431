"""Privacy proof for the use figures: no canary in the store or the report, and a schema
in which no column can hold free text or a time finer than a week."""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot import Engine, Message
from bot._report import figures, weak_spots
from bot._report_render import write_report
from bot._stats import CHANNELS, EVENTS, ID_RE, WEEK_RE, Stats
from bot._stats_store import SQLITE_FILE, StatsStore, open_store

WEGWIJZER = [sys.executable, "-m", "bot.cli"]
#: Every column the store has, and what it may hold. Anything else fails the test.
COLUMNS = {
    "schema_version": {"version": "number"},
    "counts": {
        "week": "week",
        "organisation": "id",
        "channel": "channel",
        "theme": "id",
        "entry": "id",
        "event": "event",
        "n": "number",
    },
    "crisis_weeks": {"week": "week", "n": "number"},
}
FREE_TEXT = ["ik word gepest door Jan", "Jan de Vries", "x" * 65, "kanarie!", "Ünïcode", "a b"]
FINER_TIMES = ["2026-03-12", "2026-W11-4", "2026-W11 10:00", "2026-W11T10", "12:00"]


def new_canary() -> str:
    return f"kanarie{uuid.uuid4().hex}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StatsStore:
    if request.param == "sqlite":
        return open_store(dsn=None, data_dir=tmp_path / "data")
    return open_store(dsn=request.getfixturevalue("pg_dsn"), data_dir=tmp_path / "unused")


async def mixed_session(engine: Engine, store: StatsStore, canary: str) -> None:
    """Every kind of reply, with the canary wherever a person or platform could put it."""
    engine.stats = Stats(store, today=lambda: _dt.date(2026, 3, 12))
    keys = ["teams:" + canary, "matrix:" + canary, canary + ":x", canary]
    texts = [
        f"ik word gepest {canary}",
        "ja",
        f"wat is een misstand {canary}",
        "nee",
        canary,
        f"organisatie {canary}",
        f"ik werk bij {canary} en mijn baas pest me",
        "organisatie voorbeeld",
        f"ik wil niet meer leven {canary}",
        f"verlof ziek {canary}",
        "menu",
        "1",
        f"\x00{canary}\u202e",
    ]
    actions = [f"entry:{canary}", f"theme:{canary}", f"org:{canary}", f"feedback:yes:{canary}"]
    for key in keys:
        for text in texts:
            await engine.handle(Message(key, text))
        for action in actions:
            await engine.handle(Message(key, "", action=action))
        await engine.handle(Message(key, "ik word gepest"))
        await engine.handle(Message(key, "", action="feedback:no"))
    assert await engine.stats.flush()


def dump(store: StatsStore) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table, read straight from the database."""
    out: list[tuple[str, dict[str, Any]]] = []
    if store.dialect == "sqlite":
        conn = sqlite3.connect(store.target)
        conn.row_factory = sqlite3.Row
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            out += [(t, dict(r)) for r in conn.execute(f"SELECT * FROM {t}")]  # noqa: S608
        conn.close()
    else:
        with psycopg.connect(store.target) as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
                )
            ]
            for t in tables:
                cur = conn.execute(f"SELECT * FROM {t}")  # noqa: S608
                names = [d.name for d in cur.description or ()]
                out += [(t, dict(zip(names, r, strict=True))) for r in cur.fetchall()]
    return out


def schema(store: StatsStore) -> dict[str, dict[str, str]]:
    """Table -> column -> declared type."""
    if store.dialect == "sqlite":
        conn = sqlite3.connect(store.target)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {
            t: {r[1]: str(r[2]).lower() for r in conn.execute(f"PRAGMA table_info({t})")}
            for t in tables
        }
        conn.close()
        return found
    with psycopg.connect(store.target) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema='public'"
        ).fetchall()
    found2: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        found2.setdefault(table, {})[column] = kind
    return found2


def insert_fails(store: StatsStore, table: str, values: dict[str, Any]) -> bool:
    columns = ", ".join(values)
    marks = ", ".join("?" if store.dialect == "sqlite" else "%s" for _ in values)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    if store.dialect == "sqlite":
        conn = sqlite3.connect(store.target)
        try:
            conn.execute(sql, tuple(values.values()))
        except sqlite3.IntegrityError:
            return True
        finally:
            conn.rollback()
            conn.close()
        return False
    with psycopg.connect(store.target) as pconn:
        try:
            pconn.execute(sql, tuple(values.values()))
        except (psycopg.errors.IntegrityError, psycopg.errors.DataError):
            return True
        finally:
            pconn.rollback()
    return False


async def test_no_canary_in_the_store_or_the_report(
    engine: Engine, store: StatsStore, tmp_path: Path
) -> None:
    canary = new_canary()
    await mixed_session(engine, store, canary)
    rows = dump(store)
    assert any(t == "counts" for t, _ in rows) and any(t == "crisis_weeks" for t, _ in rows)
    assert canary not in repr(rows)
    if store.dialect == "sqlite":
        for path in Path(store.target).parent.iterdir():
            assert canary.encode() not in path.read_bytes(), path
    report = figures(engine.kb, store.rows(2026), store.crisis_weeks(2026), 2026)
    weak = weak_spots(engine.kb, store.rows(2026), 2026)
    assert canary not in json.dumps([report.as_json(), weak.as_json()])
    for path in write_report(report, tmp_path / "report", engine.kb):
        assert canary.encode() not in path.read_bytes(), path


async def test_no_column_can_hold_free_text_or_a_finer_time(
    engine: Engine, store: StatsStore
) -> None:
    await mixed_session(engine, store, new_canary())
    found = schema(store)
    assert {t: set(c) for t, c in found.items()} == {t: set(c) for t, c in COLUMNS.items()}
    for table, columns in found.items():
        for column, kind in columns.items():
            # No date, time or timestamp type anywhere, no unbounded text.
            assert not re.search(r"date|time|interval|text|blob|json", kind), (table, column, kind)
    # What is there: weeks, ids of the knowledge base and fixed enums only.
    org_ids = {o.id for o in engine.kb.organisations} | {"unknown"}
    for table, values in dump(store):
        for column, value in values.items():
            what = COLUMNS[table][column]
            if what == "number":
                assert isinstance(value, int)
            elif what == "week":
                assert WEEK_RE.match(value), value
            elif what == "channel":
                assert value in CHANNELS
            elif what == "event":
                assert value in EVENTS
            elif column == "organisation":
                assert value in org_ids
            elif column == "entry":
                assert value == "" or value in engine.kb.by_id
            else:
                assert value == "" or value in {t.id for t in engine.kb.themes}
    # And what cannot be there: the database itself refuses it.
    good = {
        "week": "2026-W11",
        "organisation": "unknown",
        "channel": "teams",
        "theme": "",
        "entry": "",
        "event": "answered",
        "n": 1,
    }
    for column, what in COLUMNS["counts"].items():
        if what == "number":
            continue
        for bad in FREE_TEXT + (FINER_TIMES if what == "week" else []):
            assert insert_fails(store, "counts", {**good, "week": "2026-W12", column: bad}), (
                column,
                bad,
            )
    for bad in FREE_TEXT + FINER_TIMES:
        assert insert_fails(store, "crisis_weeks", {"week": bad, "n": 1}), bad
    assert not insert_fails(store, "counts", {**good, "week": "2026-W12"})  # the check itself
    if store.dialect == "sqlite":
        # No hidden row id: row order cannot tell what was counted first.
        conn = sqlite3.connect(store.target)
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("SELECT rowid FROM counts")
        conn.close()
    assert all(ID_RE.match(v["entry"]) for t, v in dump(store) if t == "counts")


def test_canary_through_run_into_the_store_and_report(test_kb_dir: Path, tmp_path: Path) -> None:
    canary = new_canary()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEGWIJZER_")}
    env.update(HOME=str(tmp_path), WEGWIJZER_DATA_DIR=str(tmp_path / "data"), PYTHONDEVMODE="1")
    messages = [
        f"ik word gepest {canary}",
        "ja",
        f"organisatie {canary}",
        f"ik wil niet meer leven {canary}",
    ]
    run = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "run"],
        input="\n".join(messages) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    db = tmp_path / "data" / SQLITE_FILE
    assert db.is_file(), "the shutdown batch was written"
    assert canary.encode() not in db.read_bytes()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT sum(n) FROM counts").fetchone()[0] >= 3
    conn.close()
    year = str(_dt.date.today().isocalendar()[0])
    report = subprocess.run(
        [
            *WEGWIJZER,
            "--knowledge",
            str(test_kb_dir),
            "report",
            "--year",
            year,
            "--json",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert report.returncode == 0, report.stderr[-2000:]
    assert canary not in report.stdout + report.stderr + run.stdout + run.stderr
    for path in (tmp_path / "r").iterdir():
        assert canary.encode() not in path.read_bytes()
    off = subprocess.run(
        [*WEGWIJZER, "--knowledge", str(test_kb_dir), "run"],
        input="ik word gepest\n",
        capture_output=True,
        text=True,
        env={**env, "WEGWIJZER_STATS": "off", "WEGWIJZER_DATA_DIR": str(tmp_path / "off")},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert off.returncode == 0 and not (tmp_path / "off" / SQLITE_FILE).exists()
