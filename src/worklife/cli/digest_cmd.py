"""`worklife digest`: a team's week from outcomes, printed, written, or handed to the guard."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from worklife.cli._app import app, err_console, fail
from worklife.config import load_config
from worklife.errors import ConfigError, WorklifeError


def _now(text: str | None) -> datetime:
    """--now as an aware instant; the CLI is the one place that may read the clock."""
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now {text!r}: expected ISO 8601 with an offset, e.g. 2026-11-23T08:00:00Z", 2)
    if value.tzinfo is None:
        fail(f"--now {text!r}: give an offset (Z or +01:00)", 2)
    return value


@app.command()
def digest(
    db: Annotated[Path, typer.Option("--db", help="The worklife store (DuckDB file).")],
    team: Annotated[str, typer.Option("--team", help="Team name, as in people.team.")],
    week: Annotated[str, typer.Option("--week", help="ISO week YYYY-Www, in each person's own zone.")],
    fmt: Annotated[str, typer.Option("--format", help="md, html or eml.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Hand the digest to the guard (needs --guard and --token).")] = False,
    guard: Annotated[str | None, typer.Option("--guard", help="Guard HTTP API base URL, e.g. http://127.0.0.1:8025.")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="WORKLIFE_GUARD_TOKEN",
                                                 help="Bearer token for the guard (or $WORKLIFE_GUARD_TOKEN).")] = None,
    guard_queue: Annotated[Path | None, typer.Option("--guard-queue", help="Enqueue straight into this guard queue file.")] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="From address (default digest.sender).")] = None,
    numbers: Annotated[str, typer.Option(
        "--numbers", help="auto (the metric engine if installed), metrics, quick or none.")] = "auto",
    now: Annotated[str | None, typer.Option("--now", help="Build as of this instant (ISO 8601); default: now.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="worklife.toml to read.")] = None,
) -> None:
    """Per person and team: shipped, moved, blocked and stale items, with meeting load and after-hours share."""
    from worklife.digest import FORMATS, build_digest, render, send_http, send_queue
    from worklife.store import connect

    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}", 2)
    if send and guard_queue is None and (not guard or not token):
        fail("--send needs --guard URL and --token (or $WORKLIFE_GUARD_TOKEN), or use --guard-queue FILE", 2)
    at = _now(now)
    cfg = load_config(config)
    from_addr = sender or cfg["digest.sender"]
    try:
        with connect(db, read_only=True, create=False) as store:
            d = build_digest(store, cfg, team, week, at, numbers=numbers)
    except ConfigError as exc:
        fail(str(exc), 2)
    except WorklifeError as exc:
        fail(str(exc), 1)
    limit = int(cfg["digest.max_items"])
    text = render(d, fmt, sender=from_addr, limit=limit)
    if bool(cfg["privacy.pseudonymise"]) and not (send or guard_queue):  # printed or written: pseudonyms
        from worklife.privacy.pseudonyms import scrubber_for

        with connect(db, read_only=True, create=False) as store:
            scrub = scrubber_for(cfg, store, db)
        text = scrub.text(text) if scrub is not None else text
    if out is not None:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}")
    elif not (send or guard_queue):
        typer.echo(text, nl=False)
    if send or guard_queue:
        mime = fmt in ("html", "eml")
        try:
            if guard_queue is not None:
                ids = send_queue(d, guard_queue, from_addr, cfg, store_path=db, now=at, mime=mime,
                                 limit=limit)
                err_console.print(f"queued digest {d.team} {d.week} for {len(ids)} recipient(s) in {guard_queue}")
            else:
                answer = send_http(d, guard, token, from_addr, mime=mime, limit=limit)  # type: ignore[arg-type]
                plans = ", ".join(f"{x.get('recipient')} at {x.get('planned_local') or x.get('planned_utc')}"
                                  for x in answer.get("deliveries", []))
                again = " (already sent: guard replayed the first submission)" if answer.get("replayed") else ""
                err_console.print(f"handed digest {d.team} {d.week} to the guard{again}: {plans}", soft_wrap=True)
        except WorklifeError as exc:
            fail(str(exc), 1)
