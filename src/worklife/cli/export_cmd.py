"""`worklife export`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from worklife.cli._app import app, err_console, fail
from worklife.errors import StoreError


class Format(str, Enum):
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def export(
    table: str = typer.Argument(..., help="Table: people, messages, message_recipients, meetings, "
                                          "meeting_attendees, outcomes, quarantine, ingest_log, …"),
    db: Path = typer.Option(..., "--db", help="The store (DuckDB file)."),
    format: Format = typer.Option(Format.csv, "--format", help="csv, json (array) or parquet."),
    out: Path | None = typer.Option(None, "--out", help="Output file (folder with --partition-by-week); "
                                                        "default: stdout for csv/json."),
    partition_by_week: bool = typer.Option(False, "--partition-by-week",
                                           help="Parquet folder partitioned by ISO week (UTC) of each row."),
) -> None:
    """Export a canonical table as CSV, JSON or Parquet (instants in UTC)."""
    from worklife.export import export_table
    from worklife.store import connect

    if format is not Format.parquet and partition_by_week:
        fail("--partition-by-week needs --format parquet", 2)
    if format is Format.parquet and out is None:
        fail("--format parquet needs --out FILE", 2)
    try:
        with connect(db, read_only=True, create=False) as store:
            n = export_table(store, table, format.value, out, partition_by_week)
    except StoreError as exc:
        fail(str(exc), 2 if "no table" in str(exc) or "unknown format" in str(exc) else 1)
    if out is not None:
        err_console.print(f"{n} rows of {table} written to {out}")
