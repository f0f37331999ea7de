"""`worklife guard serve` and `worklife guard next-window`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from worklife.cli._app import console, guard_app
from worklife.cli.toolkit import parse_instant
from worklife.config import load_config

_CONFIG = typer.Option("--config", help="worklife.toml to read (settings guard.*).")


@guard_app.command("serve")
def serve(
    db: Annotated[Path, typer.Option("--db", help="Queue file (SQLite, created if missing).")],
    smtp_port: Annotated[int, typer.Option("--smtp-port", help="SMTP listen port.")] = 2525,
    http_port: Annotated[int, typer.Option("--http-port", help="HTTP API listen port.")] = 8025,
    upstream: Annotated[str | None, typer.Option("--upstream", help="HOST:PORT to deliver to (default guard.upstream).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    store: Annotated[Path | None, typer.Option("--store", help="worklife store whose people are the recipients.")] = None,
    people: Annotated[Path | None, typer.Option("--people", help="people.csv of recipients.")] = None,
    default_tz: Annotated[str | None, typer.Option("--default-tz", help="Accept unlisted recipients, with default hours in this zone.")] = None,
    tokens: Annotated[Path | None, typer.Option("--tokens", help="Tokens file (default guard.tokens_file).")] = None,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate: require STARTTLS before AUTH.")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key for --tls-cert.")] = None,
    config: Annotated[Path | None, _CONFIG] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO level.")] = False,
) -> None:
    """Run the SMTP relay and HTTP API; hold messages until each recipient's working window."""
    from worklife.guard.server import ServeOptions
    from worklife.guard.server import serve as run

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # aiosmtpd warns on every connection about AUTH without TLS (loopback only)
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    opts = ServeOptions(db=db, config=load_config(config), host=host, smtp_port=smtp_port,
                        http_port=http_port, upstream=upstream, store=store, people=people,
                        default_tz=default_tz, tokens=tokens, tls_cert=tls_cert, tls_key=tls_key)
    run(opts)


@guard_app.command("next-window")
def next_window(
    recipient: Annotated[str, typer.Argument(help="An IANA zone, or a person id / e-mail known to --db/--people.")],
    at: Annotated[str, typer.Option("--at", help="ISO 8601 instant with offset, e.g. 2026-03-06T18:00:00+01:00.")],
    db: Annotated[Path | None, typer.Option("--db", help="worklife store with a people table.")] = None,
    people: Annotated[Path | None, typer.Option("--people", help="people.csv.")] = None,
    config: Annotated[Path | None, _CONFIG] = None,
) -> None:
    """Print the UTC instant a message sent at --at would be delivered (and the recipient-local time)."""
    from worklife.guard.directory import resolve_recipient
    from worklife.guard.intake import GuardPolicy
    from worklife.guard.schedule import local_iso
    from worklife.guard.schedule import next_window as compute

    when = parse_instant(at, "--at")
    cfg = load_config(config)
    sched = resolve_recipient(recipient, cfg, store=db, people=people)
    due = compute(sched, when)
    mode = GuardPolicy.from_config(cfg).mode_for(sched.jurisdiction)
    note = "" if mode == "hold" else f"  [mode {mode}: delivered at once, no reply expected before this]"
    console.print(f"{due.isoformat().replace('+00:00', 'Z')}  ({local_iso(due, sched.tz)} {sched.tz}){note}",
                  highlight=False, soft_wrap=True, markup=False)
