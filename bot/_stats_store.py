"""Where the use figures are kept: SQLite in the data folder, or a shared PostgreSQL.

The schema itself is the privacy promise: every text column is a week ("2026-W07"), a
fixed enum value, or an id of at most 64 characters from [a-z0-9-], enforced by CHECK
constraints in the database, so no column can hold free text or a finer time. Tables
have no row ids or insertion times (SQLite: WITHOUT ROWID), and each batch is written in
sorted order, so not even the order of rows says when something was counted.

Migrations: `schema_version` holds the version; `MIGRATIONS` are applied in order, in
one transaction, under a lock (several replicas may start at once). A store newer than
this code is refused rather than guessed at.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from bot._stats import CHANNELS, EVENTS, CountKey

Dialect = Literal["sqlite", "postgresql"]
SQLITE_FILE = "stats.sqlite3"
#: Any number the two database engines agree on; keys the PostgreSQL advisory lock.
_LOCK_ID = 7_115_311


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _checks(dialect: Dialect) -> dict[str, str]:
    if dialect == "sqlite":
        ident = "length({c}) <= 64 AND {c} NOT GLOB '*[^a-z0-9-]*'"
        week = "length(week) = 8 AND week GLOB '[0-9][0-9][0-9][0-9]-W[0-5][0-9]'"
    else:
        ident = "{c} ~ '^[a-z0-9-]{{0,64}}$'"
        week = "week ~ '^[0-9]{4}-W[0-5][0-9]$'"
    return {"ident": ident, "week": week}


def _migration_1(dialect: Dialect) -> list[str]:
    c = _checks(dialect)
    ident = c["ident"]
    tail = " WITHOUT ROWID" if dialect == "sqlite" else ""
    return [
        f"""CREATE TABLE counts (
            week VARCHAR(8) NOT NULL CHECK ({c["week"]}),
            organisation VARCHAR(64) NOT NULL CHECK ({ident.format(c="organisation")}),
            channel VARCHAR(16) NOT NULL CHECK (channel IN {_in(CHANNELS)}),
            theme VARCHAR(64) NOT NULL CHECK ({ident.format(c="theme")}),
            entry VARCHAR(64) NOT NULL CHECK ({ident.format(c="entry")}),
            event VARCHAR(16) NOT NULL CHECK (event IN {_in(EVENTS)}),
            n BIGINT NOT NULL CHECK (n >= 0),
            PRIMARY KEY (week, organisation, channel, theme, entry, event)
        ){tail}""",
        f"""CREATE TABLE crisis_weeks (
            week VARCHAR(8) NOT NULL PRIMARY KEY CHECK ({c["week"]}),
            n BIGINT NOT NULL CHECK (n >= 0)
        ){tail}""",
    ]


#: Version -> statements that bring the schema from the version before to it.
MIGRATIONS: dict[int, Any] = {1: _migration_1}
SCHEMA_VERSION = max(MIGRATIONS)


class StatsStoreError(Exception):
    """The store cannot be used as it is (too new, unreachable, not writable)."""


@dataclass(frozen=True, slots=True)
class CountRow:
    """One stored cell."""

    week: str
    organisation: str
    channel: str
    theme: str
    entry: str
    event: str
    n: int


class _Conn(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class StatsStore:
    """One database, either kind; every method opens and closes its own connection, so
    the store holds nothing between hourly batches."""

    def __init__(self, dialect: Dialect, target: str) -> None:
        self.dialect = dialect
        self.target = target
        #: False until the schema is known to be current (a new SQLite store is made at
        #: its first batch, so a bot that never counted leaves nothing on disk).
        self.ready = False

    # ------------------------------------------------------------------ connections

    @contextlib.contextmanager
    def _connect(self) -> Iterator[_Conn]:
        conn: _Conn
        if self.dialect == "sqlite":
            conn = sqlite3.connect(self.target, timeout=30, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            try:
                conn = psycopg.connect(self.target, connect_timeout=10)
            except psycopg.Error as exc:
                kind = type(exc).__name__
                raise StatsStoreError(
                    f"cannot reach the PostgreSQL store of WEGWIJZER_STATS_DSN ({kind})"
                ) from None
        try:
            yield conn
            if self.dialect == "sqlite":
                conn.execute("COMMIT")
            else:
                conn.commit()
        except BaseException:
            if self.dialect == "sqlite":
                conn.execute("ROLLBACK")
            else:
                conn.rollback()
            raise
        finally:
            conn.close()

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    # ------------------------------------------------------------------ schema

    def migrate(self) -> int:
        """Bring the schema to `SCHEMA_VERSION`; returns the version found before."""
        with self._connect() as conn:
            if self.dialect == "postgresql":
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            found = int(row[0]) if row and row[0] is not None else 0
            if found > SCHEMA_VERSION:
                raise StatsStoreError(
                    f"the figures store has schema version {found}, newer than this "
                    f"Wegwijzer ({SCHEMA_VERSION}): update Wegwijzer first"
                )
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version](self.dialect):
                    conn.execute(statement)
            if found != SCHEMA_VERSION:
                conn.execute("DELETE FROM schema_version")
                conn.execute(self._sql("INSERT INTO schema_version VALUES (?)"), (SCHEMA_VERSION,))
        self.ready = True
        return found

    def version(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # ------------------------------------------------------------------ writing

    def add(self, counts: Mapping[CountKey, int], crisis: Mapping[str, int]) -> None:
        """Add one batch to the stored totals, in one transaction, in sorted order."""
        if not self.ready:
            if self.dialect == "sqlite":
                Path(self.target).parent.mkdir(parents=True, exist_ok=True)
            self.migrate()
        upsert = self._sql(
            "INSERT INTO counts (week, organisation, channel, theme, entry, event, n) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (week, organisation, channel, theme, entry, event) "
            "DO UPDATE SET n = counts.n + excluded.n"
        )
        crisis_upsert = self._sql(
            "INSERT INTO crisis_weeks (week, n) VALUES (?, ?) "
            "ON CONFLICT (week) DO UPDATE SET n = crisis_weeks.n + excluded.n"
        )
        with self._connect() as conn:
            for k in sorted(counts):
                row = (k.week, k.organisation, k.channel, k.theme, k.entry, k.event, counts[k])
                conn.execute(upsert, row)
            for week in sorted(crisis):
                conn.execute(crisis_upsert, (week, crisis[week]))

    # ------------------------------------------------------------------ reading

    def rows(self, year: int | None = None) -> list[CountRow]:
        """Every stored cell, of one ISO year if given."""
        sql = "SELECT week, organisation, channel, theme, entry, event, n FROM counts"
        params: tuple[Any, ...] = ()
        if year is not None:
            sql += " WHERE week LIKE ?"
            params = (f"{year:04d}-W%",)
        with self._connect() as conn:
            found = conn.execute(self._sql(sql + " ORDER BY 1, 2, 3, 4, 5, 6"), params).fetchall()
        return [
            CountRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6]))
            for r in found
        ]

    def crisis_weeks(self, year: int | None = None) -> dict[str, int]:
        sql = "SELECT week, n FROM crisis_weeks"
        params: tuple[Any, ...] = ()
        if year is not None:
            sql += " WHERE week LIKE ?"
            params = (f"{year:04d}-W%",)
        with self._connect() as conn:
            found = conn.execute(self._sql(sql + " ORDER BY week"), params).fetchall()
        return {str(w): int(n) for w, n in found}


def open_store(*, dsn: str | None, data_dir: Path, create: bool = True) -> StatsStore:
    """The PostgreSQL store of `dsn`, else SQLite in `data_dir`, migrated and ready.

    With `create=False` a SQLite store that does not exist yet is not made now but at
    its first batch; the folder is only checked to be writable.
    """
    if dsn:
        store = StatsStore("postgresql", dsn)
    else:
        store = StatsStore("sqlite", str(data_dir / SQLITE_FILE))
        if not create and not (data_dir / SQLITE_FILE).exists():
            if not _writable(data_dir):
                raise StatsStoreError("WEGWIJZER_DATA_DIR is not a writable folder")
            return store
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            kind = type(exc).__name__
            raise StatsStoreError(f"WEGWIJZER_DATA_DIR is not writable ({kind})") from None
    try:
        store.migrate()
    except StatsStoreError:
        raise
    except Exception as exc:  # sqlite3 or psycopg errors, or a file that is no database
        raise StatsStoreError(f"cannot open the figures store ({type(exc).__name__})") from None
    return store


def _writable(folder: Path) -> bool:
    """Whether `folder` exists as a writable folder or could be made in one."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False
