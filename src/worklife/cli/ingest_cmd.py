"""`worklife ingest`."""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from worklife.cli._app import app, console, err_console, error_line, fail, is_interactive, styled
from worklife.cli.toolkit import ConfigOpt
from worklife.config import Config, load_config
from worklife.errors import WorklifeError
from worklife.ingest import ADAPTERS, IngestSummary

# --kind choices: auto and every registered adapter (worklife.ingest.registry), in detection order
Kind = Enum("Kind", [("auto", "auto"), *((k, k) for k in ADAPTERS)], type=str)  # type: ignore[misc]


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{flag} {text!r}: expected a date YYYY-MM-DD", 2)


@app.command()
def ingest(
    sources: list[Path] = typer.Argument(None, help="Export files or folders (kind detected; a folder of "
                                         "mixed exports is split into its parts)."),
    db: Path | None = typer.Option(None, "--db", help="The store (DuckDB file); created if missing."),
    people: Path | None = typer.Option(None, "--people", help="People/HR file, read first (CSV or JSON)."),
    kind: Kind = typer.Option("auto", "--kind", help="Force the kind of every SOURCE "  # type: ignore[valid-type]
                              "(default: detect each one)."),
    owner: str | None = typer.Option(None, "--owner", help="Whose mailbox/calendar this is (e-mail)."),
    from_: str | None = typer.Option(None, "--from", help="Recurrence window start (YYYY-MM-DD)."),
    to: str | None = typer.Option(None, "--to", help="Recurrence window end (YYYY-MM-DD)."),
    config: ConfigOpt = None,
    people_template: bool = typer.Option(False, "--people-template",
                                         help="Print a people-file template (CSV) to fill in, and exit."),
) -> None:
    """Read raw exports into the store: streaming, idempotent, bad records quarantined."""
    if people_template:
        from worklife.ingest.templates import PEOPLE_TEMPLATE

        typer.echo(PEOPLE_TEMPLATE, nl=False)
        return
    if not sources:
        fail("give at least one SOURCE (an export file or folder)", 2)
    if db is None:
        fail("--db FILE is required (the store to ingest into)", 2)

    start, end = _date(from_, "--from"), _date(to, "--to")
    if (start is None) != (end is None):
        fail("--from and --to go together", 2)
    if start and end and end < start:
        fail("--to is before --from", 2)
    window = (start, end) if start and end else None
    notes: list[str] = []
    try:
        summaries = _run(sources, db, people, kind.value, owner, window, load_config(config), notes)
    except WorklifeError as exc:  # 2: a bad setting; 75: another run holds the store's lock
        fail(str(exc), getattr(exc, "exit_code", 1))
    _report(summaries, db, notes)


def _run(sources: list[Path], db: Path, people: Path | None, kind: str, owner: str | None,
         window: tuple[date, date] | None, cfg: Config, notes: list[str]) -> list[IngestSummary]:
    from worklife import ingest as lib
    from worklife.runlock import store_lock
    from worklife.store import connect

    with store_lock(db), connect(db) as store, Progress(
        SpinnerColumn(), TextColumn("{task.description}", markup=False), TextColumn("{task.completed:,.0f} records"),
        TimeElapsedColumn(), console=err_console, transient=True, disable=not is_interactive(),
    ) as progress:
        tasks: dict[str, int] = {}

        def on_progress(source: str, n: int) -> None:
            if source not in tasks:
                tasks[source] = progress.add_task(source, total=None)
            progress.advance(tasks[source], n)

        return lib.run(sources, store, cfg, kind=kind, owner=owner, window=window,
                       on_progress=on_progress, people=people, notes=notes)


def _report(summaries: list[IngestSummary], db: Path, notes: list[str] | None = None) -> None:
    """The summary table on stdout, errors on stderr; exit 1 when nothing at all was read."""
    table = Table(title=f"ingest into {db}")
    for col in ("source", "kind", "read", "inserted", "duplicates", "skipped", "quarantined", "updated"):
        table.add_column(col, justify="left" if col in ("source", "kind") else "right",
                         overflow="fold", min_width=8 if col == "source" else None)
    for s in summaries:
        table.add_row(Text(s.source), s.kind, f"{s.read:,}", f"{s.inserted:,}", f"{s.duplicate:,}",
                      f"{s.skipped:,}", Text(f"{s.quarantined:,}") + (styled(" ✗", "red") if s.error else ""),
                      f"{s.updated:,}")
    console.print(table)
    for s in summaries:
        if s.owner or s.owner_how:
            who = f"{s.owner} ({s.owner_how})" if s.owner else s.owner_how
            err_console.print(Text(f"owner: {s.source}: {who}"), highlight=False, soft_wrap=True)
        for note in dict.fromkeys(s.notes):  # each distinct note once
            err_console.print(f"note: {s.source}: {note}", highlight=False, soft_wrap=True)
        if s.error:
            err_console.print(error_line(str(s.error)), highlight=False, soft_wrap=True)
    for line in notes or ():
        err_console.print(Text(line), highlight=False, soft_wrap=True)
    quarantined = sum(s.quarantined for s in summaries)
    if quarantined:
        err_console.print(f"{quarantined:,} records quarantined: `worklife export quarantine --db {db}`",
                          highlight=False)
    if sum(s.ok for s in summaries) == 0:
        fail("nothing could be read from the sources given", 1)
