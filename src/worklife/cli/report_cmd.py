"""`worklife report`: the self-contained HTML report of a store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from worklife.cli._app import app, console
from worklife.config import load_config
from worklife.store import connect


@app.command()
def report(
    db: Annotated[Path, typer.Option("--db", help="The worklife store (DuckDB file).")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    config_path: Annotated[
        Path | None, typer.Option("--config", help="worklife.toml with settings.")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="Heading of the report.")] = "worklife report",
) -> None:
    """Write the self-contained HTML report (charts and tables, readable offline)."""
    from worklife.report import build_report, collect_sections, load_person_weeks, summary_lines

    config = load_config(config_path)
    with connect(db, create=False) as store:
        with console.status("computing person-week metrics…"):
            person_weeks = load_person_weeks(store, config)
        with console.status("collecting sections from other stages…"):
            extra = collect_sections(store, config, person_weeks)
        with console.status("writing the report…"):
            path = build_report(store, config, out, person_weeks=person_weeks, sections=extra,
                                title=title, generated_at=datetime.now(UTC))
        for line in summary_lines(store, person_weeks, config):
            console.print(line, highlight=False, soft_wrap=True)
    console.print(f"report: {path}", highlight=False, soft_wrap=True)
