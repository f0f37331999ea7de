"""`worklife digest`: a team's week from outcomes, printed, written, or handed to the guard."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from worklife.cli._app import app, err_console, fail
from worklife.cli.toolkit import ConfigOpt, DbOpt, OutOpt, parse_instant
from worklife.config import load_config
from worklife.digest.build import personal_digests, team_people
from worklife.errors import ConfigError, WorklifeError


def _now(text: str | None) -> datetime:
    """--now as an aware instant; the CLI is the one place that may read the clock."""
    return parse_instant(text, "--now") if text else datetime.now(UTC)


@app.command()
def digest(
    db: DbOpt,
    team: Annotated[str, typer.Option("--team", help="Team name, as in people.team.")],
    week: Annotated[str, typer.Option("--week", help="ISO week YYYY-Www, in each person's own zone.")],
    fmt: Annotated[str, typer.Option("--format", help="md, html or eml.")] = "md",
    out: OutOpt = None,
    send: Annotated[bool, typer.Option("--send", help="Hand the digest to the guard (needs --guard and --token).")] = False,
    guard: Annotated[str | None, typer.Option("--guard", help="Guard HTTP API base URL, e.g. http://127.0.0.1:8025.")] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="WORKLIFE_GUARD_TOKEN",
                                                 help="Bearer token for the guard (or $WORKLIFE_GUARD_TOKEN).")] = None,
    guard_queue: Annotated[Path | None, typer.Option("--guard-queue", help="Enqueue straight into this guard queue file.")] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="From address (default digest.sender).")] = None,
    numbers: Annotated[str, typer.Option(
        "--numbers", help="auto (the metric engine if installed), metrics, quick or none.")] = "auto",
    now: Annotated[str | None, typer.Option("--now", help="Build as of this instant (ISO 8601); default: now.")] = None,
    full: Annotated[bool, typer.Option("--full", help="List every item and folded commit with its link.")] = False,
    person: Annotated[str | None, typer.Option("--person", help="That person's own digest (id or e-mail), with their own figures.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", envvar="WORKLIFE_DIGEST_WEBHOOK",
                                                   help="Post the team digest to this incoming-webhook URL (or $WORKLIFE_DIGEST_WEBHOOK).")] = None,
    webhook_kind: Annotated[str, typer.Option("--webhook-kind", help="slack, mattermost, teams (Adaptive Card) or teams-messagecard.")] = "slack",
    wait: Annotated[bool, typer.Option("--wait", help="With --webhook: wait for the team's agreed time instead of only saying when it is.")] = False,
    each_person: Annotated[bool, typer.Option("--each-person", help="With --send/--guard-queue: mail each member their own digest instead of the team digest.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Per person and team: shipped, moved, blocked and stale items, with meeting load and after-hours share."""
    from worklife.digest import FORMATS, build_digest, render
    from worklife.digest.webhook import KINDS, check_url
    from worklife.store import connect

    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}", 2)
    if webhook_kind not in KINDS:
        fail(f"--webhook-kind {webhook_kind!r}: expected one of {', '.join(KINDS)}", 2)
    if webhook:
        try:
            check_url(webhook)
        except ConfigError as exc:
            fail(str(exc), 2)
    if webhook and person:
        fail("--person with --webhook: a personal digest goes only to that person (by mail), never to a channel", 2)
    if each_person and person:
        fail("--each-person and --person: choose one", 2)
    if each_person and not (send or guard_queue):
        fail("--each-person needs --send (with --guard and --token) or --guard-queue FILE", 2)
    if send and guard_queue is None and (not guard or not token):
        fail("--send needs --guard URL and --token (or $WORKLIFE_GUARD_TOKEN), or use --guard-queue FILE", 2)
    at = _now(now)
    cfg = load_config(config)
    from_addr = sender or cfg["digest.sender"]
    try:
        with _reading(db, cfg, numbers) as store:
            d = build_digest(store, cfg, team, week, at, numbers=numbers, person=person)
            schedules = [s for _, s in team_people(store, cfg, team)]
    except ConfigError as exc:
        fail(str(exc), 2)
    except WorklifeError as exc:
        fail(str(exc), 1)
    limit = int(cfg["digest.group_items"])
    text = render(d, fmt, sender=from_addr, limit=limit, full=full)
    if bool(cfg["privacy.pseudonymise"]) and not (send or guard_queue):  # printed or written: pseudonyms
        from worklife.privacy.pseudonyms import scrubber_for

        with connect(db, read_only=True, create=False) as store:
            scrub = scrubber_for(cfg, store, db)
        text = scrub.text(text) if scrub is not None else text
    if out is not None:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}", markup=False)
    elif not (send or guard_queue or webhook):
        typer.echo(text, nl=False)
    if webhook:
        _post_webhook(d, cfg, schedules, webhook, webhook_kind, at, wait, limit, full)
    if send or guard_queue:
        digests = personal_digests(d) if each_person else [d]
        for one in digests:
            _send_mail(one, db, cfg, from_addr, guard, token, guard_queue, fmt in ("html", "eml"), at, limit, full)

def _reading(db: Path, cfg, numbers: str):
    """The store, read-only; with the metric engine's numbers, its stored results updated
    first when this user can write it (worklife.metrics.stored.open_for_reading)."""
    from worklife.digest.build import metrics_available
    from worklife.store import connect

    if numbers in ("auto", "metrics") and metrics_available():
        from worklife.metrics.stored import open_for_reading

        return open_for_reading(db, cfg)
    return connect(db, read_only=True, create=False)


def _post_webhook(d, cfg, schedules, url: str, kind: str, at: datetime, wait: bool, limit: int, full: bool) -> None:
    """Post now if the team's agreed time has come (and it is day for most of the team); else say when."""
    import time
    from datetime import date

    from worklife.digest.webhook import WebhookError, payload, planned_post, post, team_zone

    try:
        zone = team_zone(cfg, d.team, schedules)
        year, wk = (int(x) for x in d.week.split("-W"))
        when = planned_post(at, date.fromisocalendar(year, wk, 1), zone, str(cfg["digest.post_at"]), schedules)
    except ConfigError as exc:
        fail(str(exc), 2)
    local = when.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M")
    if when > at:
        if not wait:
            err_console.print(f"not posted yet: {d.team}'s post is due {local} {zone} ({when:%Y-%m-%d %H:%M} UTC); "
                              f"run again then, or add --wait", soft_wrap=True, markup=False)
            return
        err_console.print(f"waiting until {local} {zone} to post", markup=False)
        time.sleep(max((when - datetime.now(UTC)).total_seconds(), 0.0))
    try:
        attempts = post(url, payload(d, kind, limit, full), kind=kind, retries=int(cfg["digest.webhook_retries"]),
                        max_wait_s=float(cfg["digest.webhook_max_wait_s"]))
    except ConfigError as exc:
        fail(str(exc), 2)
    except WebhookError as exc:
        fail(str(exc), 1)
    err_console.print(f"posted {d.team} {d.week} to the {kind} webhook ({attempts} attempt(s))", markup=False)


def _send_mail(d, db: Path, cfg, from_addr: str, guard: str | None, token: str | None, guard_queue: Path | None,
               mime: bool, at: datetime, limit: int, full: bool) -> None:
    """Hand one digest (team or personal) to the guard: HTTP API or its queue file."""
    from worklife.digest import send_http, send_queue

    what = f"digest {d.team} {d.week}" + (f" for {d.person}" if d.person else "")
    try:
        if guard_queue is not None:
            import worklife.guard as guard_lib

            ids = send_queue(d, guard_queue, from_addr, cfg, store_path=db, now=at, mime=mime,
                             limit=limit, full=full, guard=guard_lib)
            err_console.print(f"queued {what} for {len(ids)} recipient(s) in {guard_queue}", markup=False)
        else:
            answer = send_http(d, guard, token, from_addr, mime=mime, limit=limit, full=full)  # type: ignore[arg-type]
            plans = ", ".join(f"{x.get('recipient')} at {x.get('planned_local') or x.get('planned_utc')}"
                              for x in answer.get("deliveries", []))
            again = " (already sent: guard replayed the first submission)" if answer.get("replayed") else ""
            err_console.print(f"handed {what} to the guard{again}: {plans}", soft_wrap=True, markup=False)
    except WorklifeError as exc:
        fail(str(exc), 1)
