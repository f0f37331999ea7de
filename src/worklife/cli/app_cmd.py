"""`worklife serve` and `worklife users add|list|remove|set-role` (docs/app.md)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from worklife.cli._app import app, console, fail, is_interactive
from worklife.cli.toolkit import ConfigOpt
from worklife.config import Config, load_config
from worklife.errors import ConfigError

users_app = typer.Typer(help="Accounts of the web app (worklife serve).", no_args_is_help=True)
app.add_typer(users_app, name="users")

DB_HELP = "The store (worklife.duckdb); accounts live in the app database beside it (app.users_db)."


def _store(db: Path) -> Path:
    if not db.exists():
        fail(f"{db}: no such store; run `worklife ingest ... --db {db}` (or `worklife demo`) first", 1)
    return db


@contextmanager
def _accounts(db: Path, config: Config) -> Iterator:
    """The app database beside store ``db`` (``app.users_db``), closed after use."""
    from worklife.app.users import AppDb, users_db_path

    appdb = AppDb(users_db_path(db, config))
    try:
        yield appdb
    finally:
        appdb.close()


@app.command()
def serve(
    db: Path = typer.Option(..., "--db", help="The store to serve (opened read-only)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port to listen on."),
    config: ConfigOpt = None,
) -> None:
    """Serve the web app: pages and JSON API, each role seeing only what it may."""
    from worklife.app import serve as run
    from worklife.app.users import users_db_path

    cfg = load_config(config)
    _store(db)
    console.print(f"worklife app on http://{host}:{port}/  (accounts: {users_db_path(db, cfg)}; "
                  "add one with `worklife users add`)", highlight=False, markup=False)
    if host not in ("127.0.0.1", "localhost", "::1") and cfg["app.cookie_secure"]:
        console.print("note: browsers keep the Secure session cookie only over HTTPS (or on localhost): "
                      "put TLS in front, or set app.cookie_secure = false (docs/app.md)",
                      highlight=False, markup=False)
    run(db, cfg, host=host, port=port)


@users_app.command("add")
def users_add(
    email: str = typer.Argument(..., help="The account's e-mail (its sign-in name)."),
    role: str = typer.Option(..., "--role", help="employee | manager | analyst | admin"),
    db: Path = typer.Option(..., "--db", help=DB_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    generate: bool = typer.Option(False, "--generate-password", help="Generate a password and print it once."),
    person: str | None = typer.Option(None, "--person", help="Person in the store (id, e-mail or alias); default: EMAIL."),
    team: list[str] = typer.Option([], "--team", help="Managers: a team they may see (repeatable); default: their reports' teams."),
    config: ConfigOpt = None,
) -> None:
    """Add an account. Employees must be a person in the store (by e-mail or alias)."""
    from worklife.app.data import AppData
    from worklife.app.users import check_role

    cfg = load_config(config)
    try:
        check_role(role)
    except ConfigError as exc:
        fail(str(exc), 2)
    data = AppData(_store(db), cfg)
    person_id = data.resolve_person(person or email)
    if person and person_id is None:
        fail(f"no person {person!r} in {db}; give an e-mail, person_id or alias of an internal person", 2)
    if role == "employee" and person_id is None:
        fail(f"{email} is not a person in {db}; pass --person with their e-mail or alias", 2)
    unknown = [t for t in team if t not in data.team_sizes()]
    if unknown:
        fail(f"no team {unknown[0]!r} in {db}; teams: {', '.join(sorted(data.team_sizes()))}", 2)
    if role == "manager" and not team and person_id is None:
        fail("a manager needs --person (whose reports' teams they see) or --team", 2)
    password = _password(password_stdin, generate)
    with _accounts(db, cfg) as appdb:
        try:
            appdb.add_user(email, role, password, person_id, tuple(team))
        except ConfigError as exc:
            fail(str(exc), 1)
    console.print(f"added {email.strip().lower()} as {role}" + (f" (person {person_id})" if person_id else ""),
                  highlight=False, markup=False)
    if generate:
        console.print(f"password: {password}  (shown once)", highlight=False, markup=False)


def _password(from_stdin: bool, generate: bool) -> str:
    if from_stdin and generate:
        fail("use either --password-stdin or --generate-password", 2)
    if generate:
        return secrets.token_urlsafe(12)
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin: stdin held no password", 2)
        return line
    if not is_interactive():
        fail("no password: pass --password-stdin or --generate-password", 2)
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("list")
def users_list(
    db: Path = typer.Option(..., "--db", help=DB_HELP),
    config: ConfigOpt = None,
) -> None:
    """List accounts: e-mail, role, person, teams."""
    with _accounts(_store(db), load_config(config)) as appdb:
        users = appdb.users()
    table = Table(title=f"accounts ({len(users)})")
    for col in ("email", "role", "person", "teams"):
        table.add_column(col)
    for u in users:
        table.add_row(u.email, u.role, u.person_id or "", ", ".join(u.teams))  # consoles print text literally
    console.print(table)


@users_app.command("remove")
def users_remove(
    email: str = typer.Argument(...),
    db: Path = typer.Option(..., "--db", help=DB_HELP),
    config: ConfigOpt = None,
) -> None:
    """Remove an account and end its sessions."""
    with _accounts(_store(db), load_config(config)) as appdb:
        gone = appdb.remove_user(email)
    if not gone:
        fail(f"no account {email}", 1)
    console.print(f"removed {email.strip().lower()}", highlight=False, markup=False)


@users_app.command("set-role")
def users_set_role(
    email: str = typer.Argument(...),
    role: str = typer.Argument(..., help="employee | manager | analyst | admin"),
    db: Path = typer.Option(..., "--db", help=DB_HELP),
    config: ConfigOpt = None,
) -> None:
    """Change an account's role (its sessions end)."""
    with _accounts(_store(db), load_config(config)) as appdb:
        try:
            changed = appdb.set_role(email, role)
        except ConfigError as exc:
            fail(str(exc), 2)
    if not changed:
        fail(f"no account {email}", 1)
    console.print(f"{email.strip().lower()} is now {role}", highlight=False, markup=False)
