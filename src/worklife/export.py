"""Export a table of the store as CSV, JSON (an array of objects) or Parquet, streaming in DuckDB.

    export.export_table(store, "messages", "parquet", Path("messages.parquet"))
    export.export_table(store, "messages", "parquet", Path("messages/"), partition_by_week=True)

Instants are written as they are stored: UTC. ``partition_by_week`` writes a folder
of Parquet files partitioned by the ISO week (``week=2025-W13/``) of each row's time
column in UTC (child tables take their parent's time), the layout Spark reads. Files
and stdout are sorted by the table's natural key, so two exports of the same data diff clean.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from worklife.errors import StoreError
from worklife.store import TABLES, Store

log = logging.getLogger(__name__)

FORMATS = ("csv", "json", "parquet")
# table -> SQL yielding its rows with a UTC instant `_t` (for partitioning by week)
TIME_SOURCES = {
    "messages": "SELECT *, sent_utc AS _t FROM messages",
    "meetings": "SELECT *, start_utc AS _t FROM meetings",
    "outcomes": "SELECT *, at_utc AS _t FROM outcomes",
    "quarantine": "SELECT *, first_seen_utc AS _t FROM quarantine",
    "ingest_log": "SELECT *, started_utc AS _t FROM ingest_log",
    "message_recipients": "SELECT r.*, m.sent_utc AS _t FROM message_recipients r "
                          "JOIN messages m USING (message_key)",
    "meeting_attendees": "SELECT a.*, m.start_utc AS _t FROM meeting_attendees a "
                         "JOIN meetings m USING (meeting_key)",
}


def tables(store: Store) -> list[str]:
    """Tables present in the store (the canonical ones and any other stage's)."""
    rows = store.rows(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name")
    return [r[0] for r in rows]


def _copy_options(fmt: str) -> str:
    return {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true",
            "parquet": "FORMAT parquet, COMPRESSION zstd"}[fmt]


def export_table(store: Store, table: str, fmt: str = "csv", out: Path | None = None,
                 partition_by_week: bool = False, stdout: BinaryIO | None = None) -> int:
    """Write ``table`` to ``out`` (or ``stdout`` for csv/json); return the number of rows.

    Raises StoreError for an unknown table or format, a Parquet export without ``out``,
    or a partitioned export of a table without a time column.
    """
    known = tables(store)
    if table not in known:
        raise StoreError(f"no table {table!r} in {store.path}; tables: {', '.join(known)}")
    if fmt not in FORMATS:
        raise StoreError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    count = store.scalar(f'SELECT count(*) FROM "{table}"')
    if partition_by_week:
        if fmt != "parquet" or out is None:
            raise StoreError("--partition-by-week writes Parquet into a folder: use --format parquet --out DIR")
        if table not in TIME_SOURCES:
            raise StoreError(f"table {table!r} has no time column to partition by week")
        out.mkdir(parents=True, exist_ok=True)
        sql = (f"SELECT * EXCLUDE (_t), strftime(_t, '%G-W%V') AS week FROM ({TIME_SOURCES[table]})")
        store.run(f"COPY ({sql}) TO '{_quote(out)}' "
                          f"(FORMAT parquet, PARTITION_BY (week), OVERWRITE_OR_IGNORE true)")
        return count
    order = f" ORDER BY {', '.join(TABLES[table][1])}" if table in TABLES else ""
    select = f'SELECT * FROM "{table}"{order}'
    if out is None:
        if fmt == "parquet":
            raise StoreError("Parquet is binary: give --out FILE")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{table}.{fmt}"
            store.run(f"COPY ({select}) TO '{_quote(path)}' ({_copy_options(fmt)})")
            target = stdout or sys.stdout.buffer
            with open(path, "rb") as fh:
                shutil.copyfileobj(fh, target)
            target.flush()
        return count
    out.parent.mkdir(parents=True, exist_ok=True)
    store.run(f"COPY ({select}) TO '{_quote(out)}' ({_copy_options(fmt)})")
    return count


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
