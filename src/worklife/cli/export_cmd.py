"""`worklife export`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from worklife.cli._app import app, fail
from worklife.cli.toolkit import DbOpt, check_output, emit
from worklife.errors import StoreError


class Format(str, Enum):
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def export(
    table: Annotated[str, typer.Argument(help="Table: people, messages, message_recipients, meetings, "
                                              "meeting_attendees, outcomes, quarantine, ingest_log, …")],
    db: DbOpt,
    format: Format = typer.Option(Format.csv, "--format", help="csv, json (array) or parquet."),
    out: Path | None = typer.Option(None, "--out", help="Output file (folder with --partition-by-week); "
                                                        "default: stdout for csv/json."),
    partition_by_week: bool = typer.Option(False, "--partition-by-week",
                                           help="Parquet folder partitioned by ISO week (UTC) of each row."),
) -> None:
    """Export a canonical table as CSV, JSON or Parquet (instants in UTC)."""
    from worklife.export import FORMATS, export_table
    from worklife.store import connect

    if format is not Format.parquet and partition_by_week:
        fail("--partition-by-week needs --format parquet", 2)
    check_output(format.value, out, FORMATS)
    try:
        with connect(db, read_only=True, create=False) as store:
            # streamed by DuckDB (never held in memory); checks and announcement as every command's
            emit(lambda fmt, path: export_table(store, table, fmt, path, partition_by_week),
                 format.value, out, formats=FORMATS)
    except StoreError as exc:
        fail(str(exc), 2 if "no table" in str(exc) or "unknown format" in str(exc) else 1)
