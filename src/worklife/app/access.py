"""Who may see what: every rule of the app's roles, in one module (docs/app.md).

- Anyone tied to a person sees that person's own weeks, trends, explanations,
  boundaries and guard messages — nobody else's (employee pages).
- manager: aggregates of the teams of their direct reports (or ``users.teams``), the
  team digest and the status-meeting cost; a team under ``privacy.min_group_size`` is
  shown as suppressed, and single weeks with too few people are left out.
- analyst: organisation and every team of at least the minimum size, policy findings
  (pseudonymised unless ``app.identify_findings``), validation and exports.
- admin: accounts, settings, sources and ingest runs.

Pages and API call ``deny()`` (a 404) for anything outside these rules, so a changed
id in a URL cannot tell "exists" from "not yours".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from fastapi import HTTPException

from worklife.app.data import AppData
from worklife.app.users import User


def deny() -> NoReturn:
    """Answer 404: the same for "does not exist" and "not yours"."""
    raise HTTPException(status_code=404, detail="not found")


@dataclass(frozen=True)
class Nav:
    path: str
    label: str


def visible_teams(user: User, data: AppData) -> list[str]:
    """Teams whose aggregates ``user`` may open (managers: even when suppressed)."""
    if user.role == "manager":
        if user.teams:
            return sorted(user.teams)
        return data.managed_teams(user.person_id) if user.person_id else []
    if user.role == "analyst":
        return sorted(t for t in data.team_sizes() if data.team_shown(t))
    return []


def own_person(user: User, data: AppData) -> str:
    """The person_id of the account, or 404 when it is tied to nobody in the store."""
    if not user.person_id or data.person(user.person_id) is None:
        deny()
    return user.person_id


def require_team(user: User, data: AppData, team: str) -> str:
    if team not in visible_teams(user, data):
        deny()
    return team


def require_person(user: User, data: AppData, person_id: str) -> str:
    """Only one's own person (by person_id, e-mail or alias) may be asked for."""
    own = own_person(user, data)
    if person_id.strip().lower() not in data.addresses(own):
        deny()
    return own


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        deny()


def team_is_shown(data: AppData, team: str) -> bool:
    return data.team_shown(team)


def navigation(user: User, data: AppData) -> list[Nav]:
    """The pages ``user`` may open, in menu order."""
    nav: list[Nav] = []
    if user.person_id and data.person(user.person_id) is not None:
        nav += [Nav("/me/week", "My week"), Nav("/me/trends", "My trends"), Nav("/me/boundaries", "Boundaries")]
        if str(data.config["app.guard_queue"]).strip():
            nav.append(Nav("/me/guard", "Guard"))
    if user.role in ("manager", "analyst") and visible_teams(user, data):
        nav.append(Nav("/team", "Team"))
    if user.role == "analyst":
        nav += [Nav("/org", "Organisation"), Nav("/findings", "Policy findings")]
    if user.role == "manager" and visible_teams(user, data):
        nav.append(Nav("/digest", "Digest"))
    if user.role == "admin":
        nav.append(Nav("/admin", "Admin"))
    return nav


def quote_path(segment: str) -> str:
    """A team name as one URL path segment."""
    from urllib.parse import quote

    return quote(segment, safe="")
