"""Demo accounts, one per role, for the demo store (``worklife demo`` creates them)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from worklife.app.data import AppData
from worklife.app.users import AppDb, users_db_path
from worklife.config import Config


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    password: str
    person_id: str | None
    what: str  # what the account sees


def pick_people(data: AppData) -> tuple[str, str]:
    """(manager, employee): the manager with most direct reports in shown teams, and a report of theirs."""
    p = data.people()
    sizes = data.team_sizes()
    reports = p[p.manager_id.notna() & p.team.map(lambda t: sizes.get(t, 0) >= data.min_group)]
    managers = set(p.manager_id.dropna())
    one_team = reports.groupby("manager_id")["team"].nunique() == 1  # a team lead, not a director
    counts = reports[reports.manager_id.map(one_team)].groupby("manager_id").size()
    counts = counts.sort_values(ascending=False, kind="stable")
    if counts.empty:
        raise ValueError("the store has no manager with reports")
    manager = str(counts.index[0])
    staff = reports[(reports.manager_id == manager) & ~reports.person_id.isin(managers)]
    employee = str((staff if len(staff) else reports[reports.manager_id == manager]).person_id.iloc[0])
    return manager, employee


def create_demo_accounts(store_path: str | Path, config: Config) -> tuple[Path, list[DemoAccount]]:
    """Replace the app database beside the demo store with one account per role."""
    path = users_db_path(store_path, config)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    data = AppData(store_path, config)
    manager, employee = pick_people(data)
    team = (data.person(manager) or {}).get("team", "")
    plan = [
        (employee, "employee", employee, "their own weeks, trends, boundaries"),
        (manager, "manager", manager, f"team {', '.join(data.managed_teams(manager)) or team}: aggregates, digest"),
        ("analyst@example.com", "analyst", None, "organisation, teams, policy findings, exports"),
        ("admin@example.com", "admin", None, "accounts, settings, ingest runs"),
    ]
    accounts = []
    db = AppDb(path)
    try:
        for email, role, person, what in plan:
            password = secrets.token_urlsafe(12)
            db.add_user(email, role, password, person)
            accounts.append(DemoAccount(email, role, password, person, what))
    finally:
        db.close()
    return path, accounts
