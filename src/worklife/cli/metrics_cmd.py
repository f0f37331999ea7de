"""`worklife metrics`, `worklife explain`, `worklife export-viva` (thin over worklife.metrics)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from worklife.cli._app import app, console, err_console, fail, styled, warn
from worklife.cli.toolkit import ConfigOpt, DbOpt, FormatOpt, OutOpt, emit, frame_table, write_text
from worklife.config import load_config
from worklife.privacy.suppression import min_group_size
from worklife.store import connect

HEADLINE = ("collaboration_hours", "meeting_hours", "after_hours_collaboration_hours", "workweek_span",
            "focus_hours")
KEY_COLUMNS = ("person_id", "team", "org", "week", "date", "people", "suppressed")
TABLE_COLUMNS = HEADLINE + ("over_40h",)



def _open(db: Path):
    return connect(db, read_only=True, create=False)


def _reading(db: Path, cfg):
    """The store for a command showing metric values: results updated first when writable."""
    from worklife.metrics.stored import open_for_reading

    return open_for_reading(db, cfg)


def _write(df: pd.DataFrame, fmt: str, out: Path | None, title: str) -> None:
    emit(df, fmt, out, table=lambda d: _headline_table(d, title))


def _headline_table(df: pd.DataFrame, title: str) -> Table:
    """The headline columns (the keys, TABLE_COLUMNS, and the means of HEADLINE)."""
    shown = [c for c in df.columns if c in TABLE_COLUMNS or c in KEY_COLUMNS
             or any(c == f"{m}_mean" for m in HEADLINE)]
    return frame_table(df[shown], title, caption="headline columns; --format csv|json|parquet gives all "
                       f"{len(df.columns)}")


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{flag} {text!r}: expected a date YYYY-MM-DD", 2)


def _person_id(store, text: str) -> str:
    """The person_id of an id, e-mail or alias; exit 1 naming the person when unknown."""
    from worklife.metrics.explain import resolve_person

    pid = resolve_person(store, text)
    if pid is None:
        fail(f"no person {text.strip()!r} in {store.path} (give a person_id, e-mail or alias; "
             f"`worklife export people --db {store.path}` lists them)", 1)
    return pid


def _why_empty(store, df: pd.DataFrame) -> str:
    """Why the metrics would be empty before any filter ('' when there are rows)."""
    from worklife.metrics.empty import why_no_person_weeks

    return "" if len(df) else why_no_person_weeks(store, str(store.path))


def _select(df: pd.DataFrame, pid: str | None, span: tuple, period: str, why: str) -> pd.DataFrame:
    """Rows of ``pid`` whose period overlaps ``span`` (local dates); exit 1 with the reason if none."""
    if why:
        fail(why, 1)
    if pid is not None:
        df = df[df["person_id"] == pid]
        if df.empty:
            fail(f"{pid} has no person-weeks: no meeting, message or chat of theirs in the store", 1)
    lo, hi = span
    if lo or hi:
        first = pd.to_datetime(df["week_start"] if period == "week" else df["date"]).dt.date
        last = first + pd.Timedelta(days=6 if period == "week" else 0)
        keep = pd.Series(True, index=df.index)
        if lo:
            keep &= last >= lo
        if hi:
            keep &= first <= hi
        if not keep.any() and len(df):
            fail(f"no {period} between {lo or 'the start'} and {hi or 'the end'}: the data covers "
                 f"{first.min()} to {last.max()}", 1)
        df = df[keep]
    return df.reset_index(drop=True)


def _say_defaults(store, cfg, person_ids: list[str] | None) -> None:
    """Loud defaults on stderr: people on the default zone, hours or jurisdiction."""
    from worklife.report.defaults import default_counts, default_notes

    for line in default_notes(default_counts(store, person_ids), cfg):
        warn(line)


@app.command()
def metrics(
    db: DbOpt,
    by: Annotated[str, typer.Option("--by", help="person | team | org")] = "person",
    period: Annotated[str, typer.Option("--period", help="week | day")] = "week",
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    config: ConfigOpt = None,
    validate: Annotated[bool, typer.Option("--validate", help="Print the validation report instead.")] = False,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Replace person ids by keyed pseudonyms.")] = False,
    key: Annotated[str | None, typer.Option("--key", help="Pseudonym key (default: privacy.key_file "
                                               "or <db>.key, created on first use).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb | spark")] = "duckdb",
    spark_master: Annotated[str, typer.Option(
        "--spark-master", help="Spark master URL for --engine spark (local[*], spark://host:7077, yarn); "
        "--db may then be a folder of Parquet tables.")] = "local[*]",
    person: Annotated[str | None, typer.Option(
        "--person", help="Only this person (person_id, e-mail or alias); with --by person.")] = None,
    date_from: Annotated[str | None, typer.Option(
        "--from", help="First local date kept (YYYY-MM-DD); weeks overlapping the range are kept.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last local date kept (YYYY-MM-DD).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Recompute every stored result, not only the stale ones.")] = False,
    refresh_only: Annotated[bool, typer.Option(
        "--refresh-only", help="Only bring the stored results up to date (nightly runs); print what was done.")] = False,
) -> None:
    """Person-week work-pattern metrics (docs/metrics.md); roll-ups suppress small groups.

    Nothing to show (empty store, no such person, no week in the range) prints the
    reason on stderr and exits 1. Results are stored in the store and only stale
    person-weeks are recomputed (docs/metrics.md "Stored results"); the run holds the
    store's lock (exit 75 when another run holds it).
    """
    from worklife.metrics import compute
    from worklife.privacy import pseudonymise as pseudo

    if by not in ("person", "team", "org"):
        fail(f"--by must be person, team or org, not {by!r}", 2)
    if period not in ("week", "day"):
        fail(f"--period must be week or day, not {period!r}", 2)
    if person is not None and by != "person":
        fail("--person works with --by person (a roll-up of one person would be suppressed)", 2)
    span = (_date(date_from, "--from"), _date(date_to, "--to"))
    if span[0] and span[1] and span[0] > span[1]:
        fail(f"--from {span[0]} is after --to {span[1]}", 2)
    cfg = load_config(config)
    pseudonymise = pseudonymise or bool(cfg["privacy.pseudonymise"])
    if pseudonymise and not key:  # the store's key file (docs/privacy.md)
        from worklife.privacy.pseudonyms import load_key

        key = load_key(db, cfg)
    if engine not in ("duckdb", "spark"):
        fail(f"--engine must be duckdb or spark, not {engine!r}", 2)
    if db.is_dir():  # exported Parquet tables (docs/scale-out.md)
        df = compute(db, cfg, by=by, period=period, engine=engine, spark_master=spark_master)
        df = _select(df, person.strip().lower() if person else None, span, period, "")
        if pseudonymise and by == "person":
            df = pseudo(df, ["person_id"], key or "")
        _write(df, fmt, out, f"worklife metrics by {by} and {period}")
        return
    if engine == "duckdb":  # validation reads the stored results too
        _refresh(db, cfg, full, refresh_only)
        if refresh_only:
            return
    with _open(db) as store:
        if validate:
            from worklife.metrics.validate import format_report
            from worklife.metrics.validate import validate as run_validate

            report = run_validate(store, cfg)
            if fmt == "json":
                text = json.dumps(report.as_dict(), default=str, indent=1)
            else:
                text = format_report(report)
            write_text(text, out)
            return
        pid = _person_id(store, person) if person is not None else None
        if pid is not None and engine == "duckdb":  # one person: compute nobody else
            from worklife.report.personal import own_person_weeks

            df = own_person_weeks(store, cfg, pid, period)
        else:
            df = compute(store, cfg, by=by, period=period, engine=engine, spark_master=spark_master)
        df = _select(df, pid, span, period, _why_empty(store, df))
        _say_defaults(store, cfg, None if pid is None else [pid])
    if pseudonymise and by == "person":
        df = pseudo(df, ["person_id"], key or "")
    _write(df, fmt, out, f"worklife metrics by {by} and {period}")


def _refresh(db: Path, cfg, full: bool, refresh_only: bool) -> None:
    """Update the stored results when this user can write the store (under its run lock:
    worklife.metrics.stored.refresh_if_writable); say what was done for --full/--refresh-only."""
    from worklife.metrics.stored import refresh_if_writable

    if not db.exists():
        fail(f"{db}: no such store; run `worklife ingest ... --db {db}` first", 1)
    done = refresh_if_writable(db, cfg, full=full)
    if done is None:  # another user's store: read it as it is (stale results computed in memory)
        if refresh_only or full:
            fail(f"{db}: cannot store metric results: this user cannot write the store (or its folder)", 1)
        return
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
    metric: Annotated[str | None, typer.Option("--metric", help="One metric column.")] = None,
    config: ConfigOpt = None,
) -> None:
    """The events behind one metric value, with every exclusion and its reason."""
    from worklife.errors import ConfigError
    from worklife.metrics.explain import check_week
    from worklife.metrics.explain import explain as run_explain

    try:
        week = check_week(week)
    except ConfigError as exc:
        fail(str(exc), 2)
    from worklife.privacy.pseudonyms import resolve_pseudonym, scrubber_for

    cfg = load_config(config)
    with _reading(db, cfg) as store:
        subject = resolve_pseudonym(store, db, cfg, person.strip().lower())
        ex = run_explain(store, subject or person.strip(), week, metric, cfg)
        # the others as pseudonyms; the subject as given (a pseudonym stays one)
        scrub = scrubber_for(cfg, store, db, keep=() if subject else (ex.person_id,))
    if scrub is not None:
        ex = scrub.value(ex)
    s = ex.schedule
    zone = f"zone {s['tz']}" + (f" (from {s['tz_source']})" if s.get("tz_source") else "")
    console.print(styled(ex.person_id) + f" week {ex.week}: {zone}, working hours "
                  f"{s['work_start']}-{s['work_end']} on {s['workdays']}, holidays {s['jurisdiction']}, "
                  f"defaults used: {s['defaults_used']}", highlight=False)
    shown = [ex.metric] if ex.metric else list(ex.values)
    for m in shown:
        v = ex.values[m]
        console.print(f"  {m} = {v:.4f}" if isinstance(v, float) else f"  {m} = {v}", highlight=False)
    console.print(f"  source: {ex.source}", highlight=False, soft_wrap=True)
    for line in ex.differences:
        warn(line)
    console.print(Text("\n") + styled("Meetings") + " in the local week (status: counted or the exclusion reason)")
    console.print(ex.meetings.to_string(index=False) if len(ex.meetings) else "  none", highlight=False)
    console.print(Text("\n") + styled("Messages") + " in the local week")
    console.print(ex.messages.drop(columns=["sent_utc"], errors="ignore").to_string(index=False)
                  if len(ex.messages) else "  none", highlight=False)
    if len(ex.pieces):
        console.print(Text("\n") + styled("Union pieces by local date") + " (seconds; after_s = after hours)")
        console.print(ex.pieces.to_string(index=False), highlight=False)
        if ex.total_hours is not None:
            console.print(f"  total {ex.metric} = {ex.total_hours:.4f} h", highlight=False)
    console.print(Text("\n") + styled("Per local date") + " (long rows; seconds or counts)")
    console.print(ex.days.to_string() if len(ex.days) else "  none", highlight=False)
    for n in ex.notes:
        console.print(f"note: {n}", highlight=False)


@app.command("export-viva")
def export_viva(
    db: DbOpt,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (Viva person query).")],
    config: ConfigOpt = None,
    identified: Annotated[bool, typer.Option(
        "--identified", help="Real e-mail addresses and HR columns as stored (default: keyed pseudonyms "
        "and HR columns coarsened to privacy.min_group_size).")] = False,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", hidden=True,
                                               help="The default; kept for old scripts.")] = False,
    key: Annotated[str | None, typer.Option("--key", help="Pseudonym key (default: privacy.key_file "
                                               "or <db>.key, created on first use).")] = None,
) -> None:
    """A Viva Insights person query (CSV) for the vivainsights/wpa packages; private by default."""
    from worklife.metrics.viva import export_viva as run_export
    from worklife.privacy.pseudonyms import load_key

    if identified and (pseudonymise or key):
        fail("--identified exports real addresses: drop --pseudonymise/--key", 2)
    cfg = load_config(config)
    if not identified and not key:
        key = load_key(db, cfg)
    with _reading(db, cfg) as store:
        n, steps = run_export(store, out, cfg, None if identified else key,
                              None if identified else min_group_size(cfg))
    for step in steps:
        typer.echo(f"export-viva: {step}", err=True)
    kind = "identified" if identified else "pseudonymised"
    console.print(f"wrote {n} person-weeks ({kind}) to {out}", highlight=False)
