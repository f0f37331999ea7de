"""The canonical store: one DuckDB file holding the tables of docs/architecture.md.

All instants are UTC (``TIMESTAMP`` without zone, meaning UTC), all durations seconds.
Local time is never stored: metrics derive it by joining ``tz_offsets``.

The schema is versioned (``SCHEMA_VERSION``); a store of an older version is brought
up to date by the steps in ``MIGRATIONS`` when opened for writing, a newer one raises
StoreError instead of guessing. Writes go through ``Store.upsert``, which keys
every row on its natural key so that re-ingesting the same data changes nothing.

The event tables that grow with people × weeks (``UNINDEXED``: meetings, attendees,
messages, recipients) have no primary-key index since schema version 3: DuckDB holds a
primary key's ART index in memory, 60–90 bytes a row here (41 GB for the 463 M recipient
rows of 50,000 people × a year), so ``Store.upsert`` keeps their keys unique itself (an
anti-join on the natural key), docs/performance.md "Loading at scale".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from worklife import touched
from worklife.errors import StoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

# version -> statements that bring a store of the version before up to it (additive only)
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (  # who is measured, where each zone came from, the offset written in a mail's Date
        "ALTER TABLE people ADD COLUMN IF NOT EXISTS tz_source VARCHAR",
        "ALTER TABLE people ADD COLUMN IF NOT EXISTS is_measured BOOLEAN",
        "ALTER TABLE people ADD COLUMN IF NOT EXISTS measured_why VARCHAR",
        "ALTER TABLE messages ADD COLUMN IF NOT EXISTS sent_offset_s INTEGER",
    ),
}

# version -> tables rebuilt without their primary key at that version (see UNINDEXED)
KEYS_DROPPED: dict[int, tuple[str, ...]] = {
    3: ("meetings", "meeting_attendees", "messages", "message_recipients"),
}

# table -> (columns DDL, natural key columns)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "people": (
        """person_id VARCHAR NOT NULL, email VARCHAR, display_name VARCHAR, tz VARCHAR,
        work_start VARCHAR, work_end VARCHAR, workdays VARCHAR, manager_id VARCHAR,
        team VARCHAR, level VARCHAR, jurisdiction VARCHAR, is_internal BOOLEAN NOT NULL DEFAULT TRUE,
        defaults_used VARCHAR, source VARCHAR, tz_source VARCHAR, is_measured BOOLEAN,
        measured_why VARCHAR""",
        ("person_id",),
    ),
    "person_aliases": (
        "alias VARCHAR NOT NULL, person_id VARCHAR NOT NULL, kind VARCHAR, source VARCHAR",
        ("alias",),
    ),
    "meetings": (
        """meeting_key VARCHAR NOT NULL, uid VARCHAR NOT NULL, recurrence_id VARCHAR NOT NULL,
        start_utc TIMESTAMP NOT NULL, end_utc TIMESTAMP NOT NULL, all_day BOOLEAN NOT NULL,
        status VARCHAR NOT NULL, transp VARCHAR NOT NULL, show_as VARCHAR,
        organizer_id VARCHAR, title VARCHAR, is_recurring BOOLEAN NOT NULL, series_id VARCHAR,
        source VARCHAR, source_ref VARCHAR""",
        ("meeting_key",),
    ),
    "meeting_attendees": (
        """meeting_key VARCHAR NOT NULL, person_id VARCHAR NOT NULL, response VARCHAR NOT NULL,
        role VARCHAR, is_organizer BOOLEAN NOT NULL DEFAULT FALSE, source VARCHAR""",
        ("meeting_key", "person_id"),
    ),
    "messages": (
        """message_key VARCHAR NOT NULL, message_id VARCHAR, channel VARCHAR NOT NULL,
        sender_id VARCHAR, sent_utc TIMESTAMP NOT NULL, thread_id VARCHAR, in_reply_to VARCHAR,
        subject_or_channel VARCHAR, is_auto BOOLEAN NOT NULL DEFAULT FALSE,
        source VARCHAR, source_ref VARCHAR, sent_offset_s INTEGER""",
        ("message_key",),
    ),
    "message_recipients": (
        "message_key VARCHAR NOT NULL, person_id VARCHAR NOT NULL, kind VARCHAR NOT NULL",
        ("message_key", "person_id", "kind"),
    ),
    "outcomes": (
        """outcome_key VARCHAR NOT NULL, person_id VARCHAR, at_utc TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL, ref VARCHAR, title VARCHAR, project VARCHAR, state VARCHAR,
        url VARCHAR, source VARCHAR, source_ref VARCHAR""",
        ("outcome_key",),
    ),
    "ingest_log": (
        """run_id VARCHAR NOT NULL, source VARCHAR NOT NULL, kind VARCHAR, read BIGINT,
        inserted BIGINT, duplicate BIGINT, quarantined BIGINT,
        started_utc TIMESTAMP, finished_utc TIMESTAMP""",
        ("run_id", "source"),
    ),
    "quarantine": (
        """source VARCHAR NOT NULL, location VARCHAR NOT NULL, reason VARCHAR NOT NULL,
        excerpt VARCHAR, first_seen_utc TIMESTAMP""",
        ("source", "location", "reason"),
    ),
    "tz_offsets": (
        """tz VARCHAR NOT NULL, valid_from_utc TIMESTAMP NOT NULL, valid_to_utc TIMESTAMP NOT NULL,
        utc_offset_s INTEGER NOT NULL, is_dst BOOLEAN NOT NULL""",
        ("tz", "valid_from_utc"),
    ),
}


#: tables whose natural key is kept unique by ``Store.upsert``, not by a primary-key index
UNINDEXED = frozenset(t for tables in KEYS_DROPPED.values() for t in tables)


def _ddl(table: str, name: str | None = None) -> str:
    cols, key = TABLES[table]
    pk = "" if table in UNINDEXED else f", PRIMARY KEY ({', '.join(key)})"
    return f"CREATE TABLE IF NOT EXISTS {name or table} ({cols}{pk})"


class Store:
    """An open worklife store. Use ``connect(path)``; close it or use it as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, parquet_dir: Path | None = None):
        self.con = con
        self.path = path
        self.parquet_dir = parquet_dir  # set when the tables are views over exported Parquet
        self._owned = True  # False for a borrowed handle (``borrow``): close() leaves it open
        self._shared: dict[str, Any] = {}  # engine views staged once, shared with borrowed handles

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self.con.close()

    # -- schema ---------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create missing tables; refuse a store written by another schema version."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_utc TIMESTAMP)"
        )
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchone()
        found = row[0] if row else None
        if found is None:
            for table in TABLES:
                self.con.execute(_ddl(table))
            self.con.execute(
                "INSERT INTO schema_version VALUES (?, ?)",
                [SCHEMA_VERSION, datetime.now(timezone.utc).replace(tzinfo=None)],
            )
        elif found < SCHEMA_VERSION:
            self._migrate(found)
        elif found != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store has schema version {found}, this worklife expects "
                f"{SCHEMA_VERSION}; re-ingest into a new --db file"
            )
        else:
            for table in TABLES:
                self.con.execute(_ddl(table))

    def _migrate(self, found: int) -> None:
        """Apply ``MIGRATIONS`` after ``found`` in one transaction; the version row records it."""
        self.con.execute("BEGIN")
        try:
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(version, ()):
                    self.con.execute(statement)
                for table in KEYS_DROPPED.get(version, ()):
                    self._rebuild_without_key(table)
                self.con.execute("INSERT INTO schema_version VALUES (?, ?)",
                                 [version, datetime.now(timezone.utc).replace(tzinfo=None)])
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            self.con.execute("ROLLBACK")
            raise StoreError(f"{self.path}: cannot upgrade the store from schema version {found}: {exc}") from exc
        log.info("%s: store upgraded from schema version %d to %d", self.path, found, SCHEMA_VERSION)
        for table in TABLES:
            self.con.execute(_ddl(table))

    def _rebuild_without_key(self, table: str) -> None:
        """Copy ``table`` into a new table of the same columns without its primary key
        (DuckDB cannot drop a key in place); a table that does not exist yet is skipped."""
        if not self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
            "AND NOT temporary", [table]).fetchall()[0][0]:
            return
        self.con.execute(_ddl(table, f"_rebuild_{table}"))
        self.con.execute(f"INSERT INTO _rebuild_{table} BY NAME SELECT * FROM {table}")
        self.con.execute(f"DROP TABLE {table}")
        self.con.execute(f"ALTER TABLE _rebuild_{table} RENAME TO {table}")

    # -- writes ---------------------------------------------------------------------------
    def upsert(self, table: str, rows: pa.Table | Iterable[dict[str, Any]], update: bool = False) -> tuple[int, int]:
        """Insert rows keyed on the table's natural key; return (inserted, already_present).

        Rows whose key exists are left alone (``update=False``) or overwritten
        (``update=True``). Duplicate keys within ``rows`` count once (the last wins).
        """
        if table not in TABLES:
            raise StoreError(f"unknown table {table!r}")
        self._shared.pop("spark", None)  # a staged copy of the tables (worklife.storage) is stale now
        data = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(list(rows))
        if data.num_rows == 0:
            return 0, 0
        key = TABLES[table][1]
        cols = [c for c in data.column_names]
        self.con.register("_incoming", data)
        try:
            keys = ", ".join(key)
            # Deduplicate within the batch: keep the last occurrence of each key.
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _batch AS SELECT {', '.join(cols)} FROM "
                f"(SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY _rn DESC) AS _k "
                f"FROM (SELECT *, row_number() OVER () AS _rn FROM _incoming)) WHERE _k = 1"
            )
            if table in UNINDEXED:
                inserted = self._upsert_unindexed(table, key, cols, update)
                return inserted, self.con.execute("SELECT count(*) FROM _batch").fetchall()[0][0] - inserted
            on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM b.{k}" for k in key)
            present = self.con.execute(
                f"SELECT count(*) FROM _batch b WHERE EXISTS (SELECT 1 FROM {table} t WHERE {on})"
            ).fetchone()[0]
            total = self.con.execute("SELECT count(*) FROM _batch").fetchone()[0]
            collist = ", ".join(cols)
            if update:
                non_key = [c for c in cols if c not in key]
                action = (
                    "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in non_key)
                    if non_key else "DO NOTHING"
                )
            else:
                action = "DO NOTHING"
            touched.record(self.con, table, "_batch", update)  # for incremental metrics
            self.con.execute(
                f"INSERT INTO {table} ({collist}) SELECT {collist} FROM _batch "
                f"ON CONFLICT ({keys}) {action}"
            )
        finally:
            self.con.unregister("_incoming")
        return total - present, present

    def _upsert_unindexed(self, table: str, key: tuple[str, ...], cols: list[str], update: bool) -> int:
        """Write ``_batch`` (keys unique) into a table without a key index; return rows inserted.

        Present keys are found by joining the batch (DuckDB builds the hash table on the
        smaller side: memory follows the batch, the time one scan of the table's key
        columns); ``update`` overwrites their other columns first, then the absent keys
        are inserted. A composite key whose first column (the message or meeting) has no
        stored row skips that join: one scan of that column shows every row is new."""
        on = " AND ".join(f"t.{k} = b.{k}" for k in key)
        touched.record(self.con, table, "_batch", update)  # for incremental metrics
        collist = ", ".join(cols)
        if len(key) > 1 and not self._shares_first_key_column(table, key[0]):
            # nothing stored shares even the key's first column (a new message's recipients):
            # all rows are new, found by scanning one column instead of the whole key
            return int(self.con.execute(f"INSERT INTO {table} ({collist}) SELECT {collist} FROM _batch"
                                        ).fetchall()[0][0])
        non_key = [c for c in cols if c not in key]
        if update and non_key:
            self.con.execute(f"UPDATE {table} t SET " + ", ".join(f"{c} = b.{c}" for c in non_key)
                             + f" FROM _batch b WHERE {on}")
        row = self.con.execute(
            f"INSERT INTO {table} ({collist}) SELECT {', '.join('b.' + c for c in cols)} FROM _batch b "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})").fetchall()
        return int(row[0][0]) if row else 0

    def _shares_first_key_column(self, table: str, column: str) -> bool:
        """True when a stored row of ``table`` has a ``column`` value found in ``_batch``."""
        return bool(self.con.execute(
            f"SELECT 1 FROM {table} WHERE {column} IN (SELECT {column} FROM _batch) LIMIT 1").fetchall())

    def insert_missing(self, table: str, select_sql: str) -> int:
        """Insert the rows of ``select_sql`` (a query giving ``table``'s columns by name) whose
        natural key is not stored; of rows repeating a key, one is kept. Returns how many.

        For writes made in SQL (ingest's relinking), with or without a key index."""
        if table not in TABLES:
            raise StoreError(f"unknown table {table!r}")
        key = TABLES[table][1]
        keys = ", ".join(key)
        on = " AND ".join(f"t.{k} = s.{k}" for k in key)
        row = self.con.execute(
            f"INSERT INTO {table} BY NAME SELECT * EXCLUDE (_k) FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY {keys}) AS _k FROM ({select_sql})) s "
            f"WHERE _k = 1 AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})").fetchall()
        return int(row[0][0]) if row else 0

    def insert(self, table: str, rows: pa.Table) -> int:
        """Append rows whose keys are known to be new (bulk loads); return how many.

        One plain INSERT, without upsert's de-duplication and existence count (about 2x
        faster into large tables): the primary key still refuses a key that exists or
        repeats, raising StoreError, and then nothing of ``rows`` is inserted. Into an
        ``UNINDEXED`` table a key repeated within ``rows`` is refused the same way, but a
        key already stored is not looked for (that would scan the table): the caller
        guarantees it, as the synthetic loader does (keys carry the division's seed).
        """
        if table not in TABLES:
            raise StoreError(f"unknown table {table!r}")
        self._shared.pop("spark", None)  # a staged copy of the tables (worklife.storage) is stale now
        if rows.num_rows == 0:
            return 0
        cols = ", ".join(rows.column_names)
        self.con.register("_incoming", rows)
        try:
            if table in UNINDEXED:
                self._refuse_repeated_keys(table)
            touched.record(self.con, table, "_incoming", update=False, assume_new=True)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming")
        except duckdb.ConstraintException as exc:
            raise StoreError(f"{table}: a key is already present; use upsert ({exc})") from exc
        finally:
            self.con.unregister("_incoming")
        return rows.num_rows

    def _refuse_repeated_keys(self, table: str) -> None:
        """StoreError when a natural key repeats within ``_incoming``."""
        keys = ", ".join(TABLES[table][1])
        repeated = self.con.execute(
            f"SELECT {keys} FROM _incoming GROUP BY {keys} HAVING count(*) > 1 LIMIT 1").fetchall()
        if repeated:
            raise StoreError(f"{table}: a key is already present; use upsert (key {repeated[0]} repeats)")

    def replace_table(self, table: str, rows: pa.Table) -> None:
        """Replace all rows of a derived table (such as tz_offsets) in one transaction."""
        self.con.execute("BEGIN")
        try:
            self.con.execute(f"DELETE FROM {table}")
            self.upsert(table, rows)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    # -- reads ----------------------------------------------------------------------------
    def count(self, table: str) -> int:
        # fetchall, not fetchone: DuckDB 2 refuses register() while a result is unfinished
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def table(self, table: str) -> pa.Table:
        """The whole table as Arrow (for exports and tests; metrics query in the engine)."""
        return self.con.execute(f"SELECT * FROM {table}").to_arrow_table()

    def data_span_utc(self) -> tuple[datetime, datetime] | None:
        """First and last instant of activity (meetings, messages, outcomes), UTC naive."""
        row = self.con.execute(
            """SELECT min(t0), max(t1) FROM (
                 SELECT min(start_utc) t0, max(end_utc) t1 FROM meetings
                 UNION ALL SELECT min(sent_utc), max(sent_utc) FROM messages
                 UNION ALL SELECT min(at_utc), max(at_utc) FROM outcomes)"""
        ).fetchall()[0]
        if row is None or row[0] is None:
            return None
        return row[0], row[1]

    # -- the seam: named queries of the stages run through these (tests/test_store_seam.py) --
    # Every read fetches its whole result, so a later ``register`` never meets an unfinished one.
    def rows(self, sql: str, params: Any = None) -> list[tuple]:
        """All rows of a query as tuples (naive UTC datetimes for instants)."""
        return self.con.execute(sql, params).fetchall()

    def row(self, sql: str, params: Any = None) -> tuple | None:
        """The first row of a query, or None."""
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Any = None) -> Any:
        """The first value of the first row (None for no row)."""
        row = self.row(sql, params)
        return None if row is None else row[0]

    def frame(self, sql: str, params: Any = None) -> Any:
        """A query's result as a pandas DataFrame."""
        return self.con.execute(sql, params).df()

    def arrow(self, sql: str, params: Any = None) -> pa.Table:
        """A query's result as an Arrow table (a relation: DuckDB copies a DB-API result once more)."""
        self.settle()  # a relation refuses to run while an execute() result is unfinished
        return self.con.sql(sql, params=params).to_arrow_table()

    def relation(self, sql: str) -> duckdb.DuckDBPyRelation:
        """A query as a lazy DuckDB relation, for the caller to read or to write from
        (``CREATE TABLE … AS SELECT * FROM`` it)."""
        self.settle()
        return self.con.sql(sql)

    def run(self, sql: str, params: Any = None) -> None:
        """A statement without a result worth reading (DDL, UPDATE, COPY, temp tables)."""
        self.con.execute(sql, params).fetchall()

    @contextmanager
    def registered(self, name: str, data: Any) -> Iterator[str]:
        """``data`` (Arrow table or DataFrame) readable as view ``name`` inside the block."""
        self.settle()
        self.con.register(name, data)
        try:
            yield name
        finally:
            self.con.unregister(name)

    def settle(self) -> None:
        """Run a result an earlier ``execute()`` left unfetched to its end (DuckDB then refuses register())."""
        self.con.complete()

    def columns(self, table: str) -> set[str]:
        """Column names of ``table`` (empty when absent: older stores lack some columns)."""
        return {r[0] for r in self.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table])}

    def find_person(self, text: str) -> str | None:
        """The person_id of a person id, e-mail or alias (``person_aliases``), case-insensitive; None if unknown."""
        key = {"k": text.strip().lower()}
        pid = self.scalar("SELECT person_id FROM people WHERE lower(person_id) = $k OR lower(email) = $k LIMIT 1",
                          key)
        if pid is None and self.columns("person_aliases"):
            pid = self.scalar("SELECT person_id FROM person_aliases WHERE lower(alias) = $k LIMIT 1", key)
        return pid

    def borrow(self) -> Store:
        """Another handle on the same connection and staged views whose ``close`` does nothing."""
        other = Store.__new__(Store)
        other.__dict__.update(self.__dict__)
        other._owned = False
        return other


def connect(path: str | Path = ":memory:", read_only: bool = False, create: bool = True) -> Store:
    """Open (and by default create) the store at ``path``; ``":memory:"`` for tests.

    Raises StoreError with the path when the file is missing (``create=False``),
    locked by another process or not a DuckDB file.
    """
    p = str(path)
    if p != ":memory:" and not create and not Path(p).exists():
        raise StoreError(f"{p}: no such store; run `worklife ingest ... --db {p}` first")
    try:
        con = duckdb.connect(p, read_only=read_only)
    except duckdb.IOException as exc:
        if "not a valid DuckDB database" in str(exc):
            raise StoreError(f"{p}: cannot open store: not a worklife store (not a DuckDB database file)") from exc
        raise StoreError(f"{p}: cannot open store: {exc}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"{p}: not a worklife store: {exc}") from exc
    con.execute("SET enable_progress_bar = false")  # DuckDB would draw it into stdout (CSV output)
    store = Store(con, p)
    try:
        if read_only:
            check_schema_read_only(store)
        else:
            store.ensure_schema()
    except Exception:
        con.close()
        raise
    return store


def check_schema_read_only(store: Store) -> None:
    """Refuse a file that is no worklife store or was written by a newer worklife.

    An older version is read as it is (it cannot be migrated read-only; readers
    tolerate the columns it lacks) and upgraded at the next write.
    """
    if not store.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"):
        raise StoreError(f"{store.path}: not a worklife store (no schema_version table)")
    found = store.scalar("SELECT max(version) FROM schema_version")
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(f"{store.path}: store has schema version {found}, this worklife expects "
                         f"{SCHEMA_VERSION}; upgrade worklife to read it")


def as_store(store: Store | duckdb.DuckDBPyConnection) -> Store:
    """``store`` itself, or a Store over a bare DuckDB connection (internal callers of old)."""
    return store if isinstance(store, Store) else Store(store, "<connection>")
