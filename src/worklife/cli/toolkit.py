"""What the commands share beyond the console: options, one instant parser and one output writer.

- ``parse_instant(text, flag)``: an ISO 8601 instant **with** its offset (``Z`` or
  ``+01:00``). A date or time without an offset is refused with one clear line (exit 2):
  the same rule for ``check``/``boundaries --from/--to``, ``digest --now`` and
  ``guard next-window --at`` — worklife never guesses a zone.
- ``emit(rows, fmt, out)``: rows (a DataFrame or a list of dicts) as ``table``, ``csv``,
  ``json`` (an array of records, ISO instants) or ``parquet`` (needs ``--out``), to
  ``out`` or stdout; a line ``wrote N rows to FILE`` goes to stderr when a file is written.
  Rows too many to hold (``export``) are given as a function that writes them itself
  (``write(fmt, out) -> rows written``): the same checks, destinations and announcement.
- ``DbOpt``, ``ConfigOpt``, ``OutOpt``, ``FormatOpt``: the ``--db``, ``--config``, ``--out``
  and ``--format`` options, defined once for every command that reads a store and writes rows.
- ``write_table(table, footer, out)`` and ``write_text(text, out)``: the same destinations
  for a table built by a stage (``policy.to_table``) or a finished document (JSON, sentences).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from worklife.cli._app import console, err_console, fail

FORMATS = ("table", "csv", "json", "parquet")

# The options every command shares (typer reads them from a command's signature).
DbOpt = Annotated[Path, typer.Option("--db", help="The worklife store (DuckDB file).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="worklife.toml to read.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv, json or parquet (parquet needs --out).")]

Writer = Callable[[str, Path | None], int]  # writes rows itself as (fmt, out); returns how many


def parse_instant(text: str | None, flag: str) -> datetime | None:
    """``text`` as an aware datetime (None stays None); exit 2 without an offset or when unparsable."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{flag} {text!r} is not an ISO 8601 instant; expected e.g. 2026-11-23T08:00:00Z", 2)
    if value.tzinfo is None:
        fail(f"{flag} {text!r} has no UTC offset; add one (e.g. Z or +01:00)", 2)
    return value


def _frame(rows: pd.DataFrame | Sequence[dict[str, Any]]) -> pd.DataFrame:
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))


def cell(value: Any) -> str:
    """A table cell: floats with 2 decimals, missing values as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def frame_table(df: pd.DataFrame, title: str = "", limit: int | None = None, caption: str | None = None) -> Table:
    """A rich Table of every column of ``df`` (the first ``limit`` rows)."""
    table = Table(title=title or None, caption=caption)
    for c in df.columns:
        table.add_column(str(c), overflow="fold")
    for row in (df if limit is None else df.head(limit)).itertuples(index=False):
        table.add_row(*[cell(v) for v in row])
    return table


def check_output(fmt: str, out: Path | None, formats: Sequence[str] = FORMATS) -> None:
    """Exit 2 for a format outside ``formats`` or Parquet without ``--out`` (before any work is done)."""
    if fmt not in formats:
        fail(f"--format must be {', '.join(formats[:-1])} or {formats[-1]}, not {fmt!r}", 2)
    if fmt == "parquet" and out is None:
        fail("--format parquet needs --out FILE", 2)


def emit(rows: pd.DataFrame | Sequence[dict[str, Any]] | Writer, fmt: str, out: Path | None, *,
         title: str = "", table: Callable[[pd.DataFrame], Table] | None = None,
         formats: Sequence[str] = FORMATS) -> None:
    """Write ``rows`` as ``fmt`` (one of ``formats``: table, csv, json, parquet) to ``out`` or stdout.

    ``table`` builds the rich Table for ``fmt="table"`` (default: every column, ``title``).
    ``rows`` may be a ``Writer`` that streams them itself (csv, json or parquet).
    """
    check_output(fmt, out, formats)
    if callable(rows) and not isinstance(rows, pd.DataFrame):
        if fmt == "table":
            raise ValueError("a streamed writer has no table format")
        _announce(rows(fmt, out), out)
        return
    df = _frame(rows)
    if fmt == "parquet":
        df.to_parquet(out, index=False)
    elif fmt in ("csv", "json"):
        text = df.to_csv(index=False) if fmt == "csv" else df.to_json(orient="records", date_format="iso", indent=2)
        if out is None:
            typer.echo(text, nl=not text.endswith("\n"))
        else:
            out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        write_table(table(df) if table is not None else frame_table(df, title), None, out, quiet=True)
    _announce(len(df), out)


def _announce(n: int, out: Path | None) -> None:
    """``wrote N rows to FILE`` on stderr when a file (or folder) was written."""
    if out is not None:
        err_console.print(f"wrote {n} rows to {out}", highlight=False, soft_wrap=True)


def write_table(table: Table, footer: str | None, out: Path | None, *, quiet: bool = False) -> None:
    """A rich Table (and a dim footer line) on the terminal, or as plain text in ``out``."""
    if out is None:
        console.print(table)
        if footer:
            console.print(footer, style="dim", highlight=False)
        return
    with out.open("w", encoding="utf-8") as fh:
        c = Console(file=fh, width=160, no_color=True, markup=False)
        c.print(table)
        if footer:
            c.print(footer, highlight=False)
    if not quiet:
        err_console.print(f"wrote {out}", highlight=False, soft_wrap=True)


def write_text(text: str, out: Path | None) -> None:
    """Text already formatted (a JSON document, sentences) on stdout or in ``out``."""
    if out is None:
        typer.echo(text)
        return
    out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    err_console.print(f"wrote {out}", highlight=False, soft_wrap=True)
