"""`worklife report`: the self-contained HTML report of a store (or one person's own report)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from worklife.cli._app import app, console, fail, warn
from worklife.cli.toolkit import ConfigOpt, DbOpt
from worklife.config import load_config


@app.command()
def report(
    db: DbOpt,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    config_path: ConfigOpt = None,
    title: Annotated[Optional[str], typer.Option("--title", help="Heading of the report.")] = None,
    person: Annotated[Optional[str], typer.Option(
        "--person", help="A personal report of this person (id, e-mail or alias): their own numbers, "
        "nobody else's identity.")] = None,
) -> None:
    """Write the self-contained HTML report (charts and tables, readable offline).

    A store that measures one person gets that person's personal report.
    """
    from worklife.report import build_report, collect_sections, load_person_weeks, summary_lines
    from worklife.report.defaults import default_counts, default_notes
    from worklife.report.providers import standard_providers

    from worklife.metrics.stored import open_for_reading

    config = load_config(config_path)
    with open_for_reading(db, config) as store:  # results updated first when writable
        pid = _person(store, person) if person is not None else None
        if pid is not None:
            _personal(store, config, out, pid, None, title)
            return
        with console.status("computing person-week metrics…"):
            person_weeks = load_person_weeks(store, config)
        measured = list(person_weeks["person_id"].unique()) if len(person_weeks) else []
        if pid is None and len(measured) == 1:
            pid = str(measured[0])
            console.print(f"this store measures one person ({pid}): writing their personal report "
                          "(docs/report.md)", highlight=False, soft_wrap=True)
        if pid is not None:
            _personal(store, config, out, pid, person_weeks, title)
            return
        with console.status("collecting sections from other stages…"):
            extra = collect_sections(store, config, person_weeks, standard_providers())
        with console.status("writing the report…"):
            path = build_report(store, config, out, person_weeks=person_weeks, sections=extra,
                                title=title or "worklife report", generated_at=datetime.now(UTC))
        for line in summary_lines(store, person_weeks, config):
            console.print(line, highlight=False, soft_wrap=True)
        for line in default_notes(default_counts(store), config):
            warn(line)
    console.print(f"report: {path}", highlight=False, soft_wrap=True)


def _person(store, text: str) -> str:
    from worklife.metrics.explain import resolve_person

    pid = resolve_person(store, text)
    if pid is None:
        fail(f"no person {text.strip()!r} in {store.path} (give a person_id, e-mail or alias)", 1)
    return pid


def _personal(store, config, out: Path, pid: str, person_weeks, title: str | None) -> None:
    from worklife.report.defaults import default_counts, default_notes
    from worklife.report.personal import build_personal

    with console.status(f"computing and writing the personal report of {pid}…"):
        path = build_personal(store, config, out, pid, person_weeks, title, datetime.now(UTC))
    for line in default_notes(default_counts(store, [pid]), config):
        warn(line)
    console.print(f"personal report of {pid}: {path}", highlight=False, soft_wrap=True)
