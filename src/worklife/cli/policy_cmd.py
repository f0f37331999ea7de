"""`worklife check` and `worklife boundaries`: thin wrappers over ``worklife.policy``."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from worklife.cli._app import app, console, fail
from worklife.cli.toolkit import (
    ConfigOpt,
    OutOpt,
    emit,
    frame_table,
    parse_instant,
    write_table,
    write_text,
)
from worklife.config import load_config
from worklife.privacy.suppression import min_group_size


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


class ViewFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class View(str, Enum):
    sender = "sender"
    recipient = "recipient"
    pair = "pair"
    team = "team"
    manager = "manager"
    replies = "replies"
    meetings = "meetings"
    organizers = "organizers"


_KEYS = {"sender": "by_sender", "recipient": "by_recipient", "pair": "by_pair", "team": "by_team",
         "manager": "manager", "replies": "replies", "meetings": "meetings", "organizers": "meeting_organizers"}

DbOpt = Annotated[Path, typer.Option("--db", help="The worklife store (DuckDB file); with --engine spark also "
                                     "a folder of exported Parquet tables.")]
EngineOpt = Annotated[str, typer.Option(
    "--engine", help="duckdb | spark (the same SQL, transpiled; docs/scale-out.md).")]
MasterOpt = Annotated[str, typer.Option("--spark-master", help="Spark master URL for --engine spark "
                                        "(local[*], spark://host:7077, yarn).")]


UNCHECKED = {
    "person.no_jurisdiction": "{n} people have no jurisdiction (people.jurisdiction, defaults.jurisdiction): "
                              "not checked",
    "person.no_preset": "{n} people are in jurisdictions no preset covers ({jur}): not checked",
}
UNCHECKED_HINT = ("; set people.jurisdiction in a people file or defaults.jurisdiction in worklife.toml, "
                  "or check everyone against one preset with --assume PRESET")


def summarise_unchecked(findings: list) -> list:
    """Findings with the per-person 'not checked' notes folded into one line per rule."""
    from dataclasses import replace

    keep = [f for f in findings if f.rule not in UNCHECKED]
    for rule, text in UNCHECKED.items():
        notes = [f for f in findings if f.rule == rule]
        if not notes:
            continue
        jurs = sorted({f.jurisdiction for f in notes if f.jurisdiction})
        shown = ", ".join(jurs[:8]) + (f" and {len(jurs) - 8} more" if len(jurs) > 8 else "")
        message = text.format(n=f"{len(notes):,}", jur=shown) + UNCHECKED_HINT
        keep.append(replace(notes[0], jurisdiction="", person_id=None, count=len(notes), message=message,
                            samples=()))
    return keep


def _footer(meta: dict) -> str:
    """'N people checked (FR: n, …); M in other jurisdictions not checked; …' and the disclaimer."""
    presets = ", ".join(f"{k}: {v}" for k, v in meta["by_preset"].items())
    parts = [f"{meta['people_checked']:,} people checked" + (f" ({presets})" if presets else "")]
    if meta.get("assumed_preset"):
        parts[0] += f", everyone under {meta['assumed_preset']} (--assume)"
    if meta["people_out_of_scope"]:
        parts.append(f"{meta['people_out_of_scope']:,} in other jurisdictions not checked by this policy")
    if meta.get("people_no_preset"):
        parts.append(f"{meta['people_no_preset']:,} in jurisdictions without a preset not checked")
    if meta.get("people_no_jurisdiction"):
        parts.append(f"{meta['people_no_jurisdiction']:,} without a jurisdiction not checked")
    return "; ".join(parts) + ". " + meta["disclaimer"]


@app.command()
def check(
    db: Annotated[Path | None, typer.Option("--db", help="The worklife store (DuckDB file); with --engine "
                                               "spark also a folder of exported Parquet tables.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Preset code (FR, PT, CA-ON, EU-WTD, ...), "
                                                  "'auto' (each person's own jurisdiction) or a policy.toml.")] = None,
    assume: Annotated[str | None, typer.Option("--assume", help="Check everyone against this one preset, "
                                                  "whatever their jurisdiction (with --policy a policy.toml: "
                                                  "its charter too).")] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", help="table or json.")] = CheckFormat.table,
    out: OutOpt = None,
    by: Annotated[str, typer.Option("--by", help="person (every finding) or team (counts per team; "
                                    "teams under privacy.min_group_size suppressed).")] = "person",
    config: ConfigOpt = None,
    list_presets: Annotated[bool, typer.Option("--list-presets", help="List the presets and their sources.")] = False,
    engine: EngineOpt = "duckdb",
    spark_master: MasterOpt = "local[*]",
) -> None:
    """Check right-to-disconnect and working-time rules, each person under their own jurisdiction.

    Presets summarise statutes and codes for awareness; they are not legal advice.
    """
    from worklife import policy as pol

    if list_presets:
        table = Table(title="worklife policy presets (a summary for awareness, not legal advice)")
        for col in ("code", "binding", "contact", "from employees", "rest d/w h", "avg h (weeks)", "source"):
            table.add_column(col, overflow="fold")
        for code, p in sorted(pol.builtin_presets().items()):
            d, w = p.disconnect, p.working_time
            contact = ("prohibited" if d.contact_prohibited else "no reply owed" if d.reply_not_owed
                       else "may refuse" if d.right_to_refuse else "allowed")
            table.add_row(code, d.binding, contact, str(d.applies_from_employees),
                          f"{w.daily_rest_hours or '-'}/{w.weekly_rest_hours or '-'}",
                          f"{w.avg_weekly_hours or '-'} ({w.reference_weeks})", d.source)
        console.print(table)
        return
    if by not in ("person", "team"):
        fail(f"--by must be person or team, not {by!r}", 2)
    if db is None:
        fail("--db is required (the worklife store to check)", 2)
    if policy is None and assume is None:
        fail("--policy is required (a preset code, 'auto' or a policy.toml), or --assume PRESET", 2)
    _check_engine(engine)
    cfg = load_config(config)
    the_policy = _assumed(pol, pol.load_policy(policy or "auto"), assume)
    with pol.open_db(db, engine, spark_master) as pdb:
        result = pol.check_report(pdb, cfg, the_policy)
        scrub = _scrubber(cfg, pdb, db)
        if scrub is not None:  # privacy.pseudonymise: no id, address or name in any output
            result = dataclasses.replace(result, findings=scrub.value(list(result.findings)))
        if by == "team":
            teams, sizes = pol.people_teams(pdb)
    if by == "team":
        rows = pol.team_summary(result.findings, teams, sizes, min_group_size(cfg))
        if fmt is CheckFormat.json:
            write_text(json.dumps({"meta": result.meta, "teams": rows}, indent=2, default=str), out)
            return
        table = Table(title=f"worklife check by team ({the_policy.source})")
        for col in ("team", "rule", "week", "people", "count"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["team"], r["rule"], r["week"] or "", "suppressed" if r["suppressed"] else str(r["people"]),
                          "" if r["suppressed"] else str(r["count"]))
        write_table(table, _footer(result.meta), out)
        return
    findings = summarise_unchecked(result.findings)
    if fmt is CheckFormat.json:
        write_text(pol.to_json(findings, result.meta), out)
        return
    write_table(pol.to_table(findings, title=f"worklife check ({the_policy.source})"), _footer(result.meta), out)


def _assumed(pol, the_policy, assume: str | None):
    """``the_policy`` with every person checked under preset ``assume`` (exit 2 if unknown)."""
    from dataclasses import replace

    if assume is None:
        return the_policy
    code = assume.strip().upper()
    if code not in the_policy.presets:
        fail(f"--assume {assume!r}: unknown preset (known: {', '.join(sorted(the_policy.presets))}; "
             "`worklife check --list-presets`)", 2)
    source = code if the_policy.source == "auto" else f"{the_policy.source}, everyone as {code}"
    return replace(the_policy, assume=code, source=source)


def _scrubber(cfg, pdb, db: Path, keep: tuple[str, ...] = ()):
    """The pseudonym scrubber when ``privacy.pseudonymise`` is on (docs/privacy.md), else None."""
    from worklife.privacy.pseudonyms import scrubber_for

    return scrubber_for(cfg, pdb.store, db, keep)


def _check_engine(engine: str) -> None:
    if engine not in ("duckdb", "spark"):
        fail(f"--engine must be duckdb or spark, not {engine!r}", 2)


@app.command()
def boundaries(
    db: DbOpt,
    view: Annotated[View, typer.Option("--view", help="Which table: sender, recipient, pair, team, manager, "
                                       "replies, meetings (time-zone burden), organizers.")] = View.sender,
    me: Annotated[str | None, typer.Option("--me", help="Your e-mail: how your messages landed in "
                                              "other people's hours.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Start: an ISO instant with its offset (2025-03-01T00:00:00Z).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="End, exclusive: an ISO instant with its offset.")] = None,
    fmt: Annotated[ViewFormat, typer.Option("--format", help="table, json, csv or parquet (needs --out).")] = ViewFormat.table,
    out: OutOpt = None,
    config: ConfigOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown in a table.")] = 30,
    engine: EngineOpt = "duckdb",
    spark_master: MasterOpt = "local[*]",
) -> None:
    """Boundary pressure: messages landing in recipients' off-hours, replies, managers, meeting burden."""
    from worklife import policy as pol

    _check_engine(engine)
    cfg = load_config(config)
    t0, t1 = parse_instant(start, "--from"), parse_instant(end, "--to")
    with pol.open_db(db, engine, spark_master) as pdb:
        if me is not None:
            if t0 is None and t1 is None:  # the 30 days up to the last message in the store
                last = pol.last_message_utc(pdb)
                if last is not None:
                    t1 = last + timedelta(seconds=1)
                    t0 = t1 - timedelta(days=30)
            v = pol.sender_view(pdb, cfg, me, start=t0, end=t1)
            scrub = _scrubber(cfg, pdb, db, keep=(v.sender_id,))  # you see yourself, not the others
            v = scrub.value(v) if scrub is not None else v
            if fmt is ViewFormat.json:
                write_text(json.dumps({**v.__dict__, "holdable_share": v.holdable_share, "sentence": v.sentence()},
                                 indent=2, default=str), out)
            else:
                span = f"{t0:%Y-%m-%d} to {t1:%Y-%m-%d}" if t0 and t1 else "all data"
                lines = [f"{v.sender_id} ({span}): {v.sentence()}"]
                lines += [f"  {key} -> {rcpt} at {local} their time" for key, rcpt, local in v.samples]
                write_text("\n".join(lines), out)
            return
        frames = pol.boundary_pressure(pdb, cfg, start=t0, end=t1)
        scrub = _scrubber(cfg, pdb, db)
    df = frames[_KEYS[view.value]]
    if scrub is not None:
        df = scrub.frame(df)
    emit(df, fmt.value, out, table=lambda d: frame_table(d, f"boundary pressure: {view.value}", limit))
