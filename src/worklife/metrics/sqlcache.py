"""A box's compiled SQL kept in the store, so the next refresh runs it without Ibis.

An incremental refresh of one added week spends about 0.5 s of single-threaded Python
building the box's Ibis graph and compiling it to SQL (docs/performance.md, pass 9):
a sixth of the update. The box's SQL does not depend on which box it is: its window
and days are DuckDB variables (``pipeline.WINDOW_VARIABLES``) and the calendar's
tables have stable names (``replay.StepRecorder``). So the SQL of an everyone box is
kept in table ``metric_sql`` under a key of everything else it depends on, and the next
refresh over the same key plays it (``replay.Recording``) instead of compiling.

The key (``recording_key``) covers: this module's format; the worklife source code and
the versions of Ibis, sqlglot, DuckDB, pyarrow and pandas (``code_fingerprint``); every
setting in force; the graph's shape (``run_job`` names it); the schemas of the
calendar's tables and of the raw tables the graph reads. A change to any of them is a
new key: the SQL is compiled again and kept beside the old one (the ``KEEP`` most recent
keys stay). A kept SQL that fails to run is dropped and the box compiled.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path

import duckdb

from worklife.config import Config
from worklife.metrics.localtime import LocalCalendar
from worklife.metrics.pipeline import SOURCE_TABLES
from worklife.metrics.replay import Recording
from worklife.store import Store

#: the table holding kept SQL, one row per key
TABLE = "metric_sql"
#: bump when what is kept, or how it is played, changes
FORMAT = 1
#: kept keys (the most recent ones; a store alternating between settings keeps both)
KEEP = 4
_DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (key VARCHAR PRIMARY KEY, made_utc TIMESTAMP, "
        "recording VARCHAR)")
_VERSIONED = ("ibis-framework", "sqlglot", "duckdb", "pyarrow", "pandas")


@functools.cache
def code_fingerprint() -> str:
    """Hash of the worklife package's source and the versions of the libraries that turn
    the graph into SQL (computed once per process: ~10 ms)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    for pkg in _VERSIONED:
        try:
            h.update(f"{pkg}={metadata.version(pkg)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{pkg}=?".encode())
    h.update(f"duckdb-runtime={duckdb.__version__}".encode())
    return h.hexdigest()


def _source_schemas(store: Store) -> list:
    """Columns and types of the raw tables the graph reads."""
    names = ", ".join(f"'{t}'" for t in SOURCE_TABLES)
    return store.rows("SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
                      f"WHERE schema_name = 'main' AND table_name IN ({names}) "
                      "ORDER BY table_name, column_index")


def recording_key(store: Store, config: Config, cal: LocalCalendar, shape: str) -> str:
    """The key a box's SQL is kept under (see the module's docstring)."""
    doc = {
        "format": FORMAT, "code": code_fingerprint(), "shape": shape,
        "settings": {setting.name: value for setting, value in config.items()},
        "calendar": {role: str(t.schema()) for role, t in sorted(cal.memtables().items())},
        "sources": _source_schemas(store),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _exists(store: Store) -> bool:
    return bool(store.rows("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                           "AND schema_name = 'main' AND NOT temporary", [TABLE])[0][0])


def _writable(store: Store) -> bool:
    return not store.rows("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()")[0][0]


def load(store: Store, key: str) -> Recording | None:
    """The SQL kept under ``key``; None when there is none (or it cannot be read)."""
    if not _exists(store):
        return None
    rows = store.rows(f"SELECT recording FROM {TABLE} WHERE key = ?", [key])
    if not rows:
        return None
    try:
        return Recording.from_json(rows[0][0])
    except (ValueError, KeyError, TypeError):
        return None


def save(store: Store, key: str, recording: Recording) -> None:
    """Keep ``recording`` under ``key`` (a read-only store keeps nothing); only the
    ``KEEP`` most recent keys stay."""
    if not _writable(store):
        return
    store.run(_DDL)
    store.run(f"DELETE FROM {TABLE} WHERE key = ?", [key])
    store.run(f"INSERT INTO {TABLE} VALUES (?, now()::TIMESTAMP, ?)", [key, recording.to_json()])
    store.run(f"DELETE FROM {TABLE} WHERE key NOT IN "
              f"(SELECT key FROM {TABLE} ORDER BY made_utc DESC, key LIMIT {KEEP})")


def forget(store: Store, key: str) -> None:
    """Drop the SQL kept under ``key`` (it failed to run)."""
    if _exists(store) and _writable(store):
        store.run(f"DELETE FROM {TABLE} WHERE key = ?", [key])
