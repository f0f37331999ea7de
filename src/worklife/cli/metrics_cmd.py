"""`worklife metrics`, `worklife explain`, `worklife export-viva` (thin over worklife.metrics)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.table import Table

from worklife.cli._app import app, console, err_console, fail
from worklife.config import load_config
from worklife.store import connect

HEADLINE = ("collaboration_hours", "meeting_hours", "after_hours_collaboration_hours", "workweek_span",
            "focus_hours")
KEY_COLUMNS = ("person_id", "team", "org", "week", "date", "people", "suppressed")
TABLE_COLUMNS = HEADLINE + ("over_40h",)

DbOpt = Annotated[Path, typer.Option("--db", help="The worklife store (DuckDB file).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="worklife.toml to read.")]


def _open(db: Path):
    return connect(db, read_only=True, create=False)


def _write(df: pd.DataFrame, fmt: str, out: Optional[Path], title: str) -> None:
    if fmt not in ("table", "csv", "json", "parquet"):
        fail(f"--format must be table, csv, json or parquet, not {fmt!r}", 2)
    if fmt == "parquet":
        if out is None:
            fail("--format parquet needs --out FILE", 2)
        df.to_parquet(out, index=False)
    elif fmt == "csv":
        text = df.to_csv(index=False)
        out.write_text(text) if out else typer.echo(text, nl=False)
    elif fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=1)
        out.write_text(text) if out else typer.echo(text)
    else:
        if out is not None:
            out.write_text(df.to_string(index=False))
            return
        shown = [c for c in df.columns if c in TABLE_COLUMNS or c in KEY_COLUMNS
                 or any(c == f"{m}_mean" for m in HEADLINE)]
        table = Table(title=title, caption="headline columns; --format csv|json|parquet gives all "
                      f"{len(df.columns)}")
        df = df[shown]
        for c in df.columns:
            table.add_column(str(c), overflow="fold")
        for row in df.itertuples(index=False):
            table.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row])
        console.print(table)
    if out is not None:
        console.print(f"wrote {len(df)} rows to {out}", highlight=False)


@app.command()
def metrics(
    db: DbOpt,
    by: Annotated[str, typer.Option("--by", help="person | team | org")] = "person",
    period: Annotated[str, typer.Option("--period", help="week | day")] = "week",
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | parquet")] = "table",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file.")] = None,
    config: ConfigOpt = None,
    validate: Annotated[bool, typer.Option("--validate", help="Print the validation report instead.")] = False,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Replace person ids by keyed pseudonyms.")] = False,
    key: Annotated[Optional[str], typer.Option("--key", help="Secret key for --pseudonymise.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb | spark")] = "duckdb",
    spark_master: Annotated[str, typer.Option(
        "--spark-master", help="Spark master URL for --engine spark (local[*], spark://host:7077, yarn); "
        "--db may then be a folder of Parquet tables.")] = "local[*]",
    full: Annotated[bool, typer.Option("--full", help="Recompute every stored result, not only the stale ones.")] = False,
    refresh_only: Annotated[bool, typer.Option(
        "--refresh-only", help="Only bring the stored results up to date (nightly runs); print what was done.")] = False,
) -> None:
    """Person-week work-pattern metrics (docs/metrics.md); roll-ups suppress small groups.

    Results are stored in the store and only stale person-weeks are recomputed
    (docs/metrics.md "Stored results"); the run holds the store's lock (exit 75 when
    another run holds it).
    """
    from worklife.metrics import compute
    from worklife.privacy import pseudonymise as pseudo

    if by not in ("person", "team", "org"):
        fail(f"--by must be person, team or org, not {by!r}", 2)
    if period not in ("week", "day"):
        fail(f"--period must be week or day, not {period!r}", 2)
    if pseudonymise and not key:
        fail("--pseudonymise needs --key K", 2)
    cfg = load_config(config)
    if engine not in ("duckdb", "spark"):
        fail(f"--engine must be duckdb or spark, not {engine!r}", 2)
    if db.is_dir():  # exported Parquet tables (docs/scale-out.md)
        df = compute(db, cfg, by=by, period=period, engine=engine, spark_master=spark_master)
        if pseudonymise and by == "person":
            df = pseudo(df, ["person_id"], key or "")
        _write(df, fmt, out, f"worklife metrics by {by} and {period}")
        return
    if engine == "duckdb" and not validate:
        _refresh(db, cfg, full, refresh_only)
        if refresh_only:
            return
    with _open(db) as store:
        if validate:
            from worklife.metrics.validate import format_report, validate as run_validate

            report = run_validate(store, cfg)
            if fmt == "json":
                text = json.dumps(report.as_dict(), default=str, indent=1)
            else:
                text = format_report(report)
            out.write_text(text) if out else typer.echo(text)
            return
        df = compute(store, cfg, by=by, period=period, engine=engine, spark_master=spark_master)
    if pseudonymise and by == "person":
        df = pseudo(df, ["person_id"], key or "")
    _write(df, fmt, out, f"worklife metrics by {by} and {period}")


def _refresh(db: Path, cfg, full: bool, refresh_only: bool) -> None:
    """Update the stored results under the store's run lock (worklife.runlock)."""
    from worklife.metrics.results import refresh
    from worklife.runlock import store_lock

    if not db.exists():
        fail(f"{db}: no such store; run `worklife ingest ... --db {db}` first", 1)
    with store_lock(db), connect(db, create=False) as store:
        done = refresh(store, cfg, full=full)
    if refresh_only or full:
        what = "up to date" if done.fresh else (
            f"{'full run' if done.full else f'{done.jobs} incremental jobs'}: "
            f"{done.person_days:,} person-days stored ({'; '.join(done.reasons)})")
        err_console.print(f"metrics: {what} in {done.seconds:.1f} s", highlight=False, soft_wrap=True)


@app.command()
def explain(
    db: DbOpt,
    person: Annotated[str, typer.Option("--person", help="person_id (lower-cased e-mail).")],
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2025-W13.")],
    metric: Annotated[Optional[str], typer.Option("--metric", help="One metric column.")] = None,
    config: ConfigOpt = None,
) -> None:
    """The events behind one metric value, with every exclusion and its reason."""
    from worklife.metrics.explain import explain as run_explain

    cfg = load_config(config)
    with _open(db) as store:
        ex = run_explain(store, person.strip().lower(), week, metric, cfg)
    s = ex.schedule
    console.print(f"[bold]{ex.person_id}[/] week {ex.week}: zone {s['tz']}, working hours "
                  f"{s['work_start']}-{s['work_end']} on {s['workdays']}, holidays {s['jurisdiction']}, "
                  f"defaults used: {s['defaults_used']}", highlight=False)
    shown = [ex.metric] if ex.metric else list(ex.values)
    for m in shown:
        v = ex.values[m]
        console.print(f"  {m} = {v:.4f}" if isinstance(v, float) else f"  {m} = {v}", highlight=False)
    console.print("\n[bold]Meetings[/] (status: counted or the exclusion reason)")
    console.print(ex.meetings.to_string(index=False) if len(ex.meetings) else "  none", highlight=False)
    console.print("\n[bold]Messages[/]")
    console.print(ex.messages.drop(columns=["sent_utc"], errors="ignore").to_string(index=False)
                  if len(ex.messages) else "  none", highlight=False)
    if len(ex.pieces):
        console.print("\n[bold]Union pieces by local date[/] (seconds; after_s = after hours)")
        console.print(ex.pieces.to_string(index=False), highlight=False)
        if ex.total_hours is not None:
            console.print(f"  total {ex.metric} = {ex.total_hours:.4f} h", highlight=False)
    console.print("\n[bold]Per local date[/] (long rows; seconds or counts)")
    console.print(ex.days.to_string() if len(ex.days) else "  none", highlight=False)
    for n in ex.notes:
        console.print(f"note: {n}", highlight=False)


@app.command("export-viva")
def export_viva(
    db: DbOpt,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (Viva person query).")],
    config: ConfigOpt = None,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Pseudonymise PersonId.")] = False,
    key: Annotated[Optional[str], typer.Option("--key", help="Secret key for --pseudonymise.")] = None,
) -> None:
    """A Viva Insights person query (CSV) for the vivainsights/wpa packages."""
    from worklife.metrics.viva import export_viva as run_export

    if pseudonymise and not key:
        fail("--pseudonymise needs --key K", 2)
    cfg = load_config(config)
    with _open(db) as store:
        n = run_export(store, out, cfg, key if pseudonymise else None)
    console.print(f"wrote {n} person-weeks to {out}", highlight=False)
