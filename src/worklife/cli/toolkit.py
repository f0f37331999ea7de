"""What the commands share beyond the console: one instant parser and one output writer.

- ``parse_instant(text, flag)``: an ISO 8601 instant **with** its offset (``Z`` or
  ``+01:00``). A date or time without an offset is refused with one clear line (exit 2):
  the same rule for ``check``/``boundaries --from/--to``, ``digest --now`` and
  ``guard next-window --at`` — worklife never guesses a zone.
- ``emit(rows, fmt, out)``: rows (a DataFrame or a list of dicts) as ``table``, ``csv``,
  ``json`` (an array of records, ISO instants) or ``parquet`` (needs ``--out``), to
  ``out`` or stdout; a line ``wrote N rows to FILE`` goes to stderr when a file is written.
- ``write_table(table, footer, out)`` and ``write_text(text, out)``: the same destinations
  for a table built by a stage (``policy.to_table``) or a finished document (JSON, sentences).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from worklife.cli._app import console, err_console, fail

FORMATS = ("table", "csv", "json", "parquet")


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


def emit(rows: pd.DataFrame | Sequence[dict[str, Any]], fmt: str, out: Path | None, *, title: str = "",
         table: Callable[[pd.DataFrame], Table] | None = None) -> None:
    """Write ``rows`` as ``fmt`` (table, csv, json, parquet) to ``out`` or stdout.

    ``table`` builds the rich Table for ``fmt="table"`` (default: every column, ``title``).
    """
    if fmt not in FORMATS:
        fail(f"--format must be table, csv, json or parquet, not {fmt!r}", 2)
    df = _frame(rows)
    if fmt == "parquet":
        if out is None:
            fail("--format parquet needs --out FILE", 2)
        df.to_parquet(out, index=False)
    elif fmt in ("csv", "json"):
        text = df.to_csv(index=False) if fmt == "csv" else df.to_json(orient="records", date_format="iso", indent=2)
        if out is None:
            typer.echo(text, nl=not text.endswith("\n"))
        else:
            out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        write_table(table(df) if table is not None else frame_table(df, title), None, out, quiet=True)
    if out is not None:
        err_console.print(f"wrote {len(df)} rows to {out}", highlight=False, soft_wrap=True)


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
