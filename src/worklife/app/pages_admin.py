"""The admin page: accounts, settings in force, sources and ingest runs, correction requests.

Admins manage accounts and see how data got in; they see no metric values.
"""

from __future__ import annotations

import json

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from worklife.app import access
from worklife.app.context import Ctx
from worklife.app.render import table
from worklife.app.users import ROLES
from worklife.app.web import check_csrf, page, signed_in
from worklife.errors import ConfigError

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "admin")
    users = pd.DataFrame([u.as_dict() for u in ctx.db.users()], columns=["email", "role", "person_id", "teams"])
    users["teams"] = users["teams"].map(lambda t: ", ".join(t) if isinstance(t, list) else "")
    settings = pd.DataFrame([{"name": s.name, "value": v if isinstance(v, str) else json.dumps(v), "unit": s.unit}
                             for s, v in ctx.data.config.items()])
    corrections = pd.DataFrame(ctx.db.corrections(), columns=["id", "email", "person_id", "field", "value", "note",
                                                              "created_ms"])
    corrections["created_utc"] = pd.to_datetime(corrections["created_ms"], unit="ms", utc=True).dt.strftime(
        "%Y-%m-%d %H:%M")
    runs = ctx.data.ingest_runs()
    for c in ("started_utc", "finished_utc"):
        runs[c] = pd.to_datetime(runs[c]).dt.strftime("%Y-%m-%d %H:%M:%S")
    tables = [
        table("users", "Accounts", users, {"email": "E-mail", "role": "Role", "person_id": "Person", "teams": "Teams"},
              empty="No accounts."),
        table("runs", "Ingest runs (latest first)", runs,
              {"source": "Source", "kind": "Kind", "read": "Read", "inserted": "Inserted", "duplicate": "Duplicates",
               "quarantined": "Quarantined", "finished_utc": "Finished (UTC)"}, empty="Nothing ingested yet."),
        table("quarantine", "Quarantined records by source and reason", ctx.data.quarantine_counts(),
              {"source": "Source", "reason": "Reason", "records": "Records"}, empty="Nothing quarantined."),
        table("corrections", "Correction requests from employees", corrections,
              {"created_utc": "When (UTC)", "email": "From", "person_id": "Person", "field": "Field",
               "value": "Requested value", "note": "Note"}, empty="No requests."),
        table("settings", f"Settings in force ({ctx.data.config.source})", settings,
              {"name": "Setting", "value": "Value", "unit": "Unit"}),
    ]
    return page(request, ctx, "admin.html", "Admin", tables=tables, roles=ROLES,
                message=request.query_params.get("msg"), emails=[u.email for u in ctx.db.users()])


def _back(message: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/admin?msg={quote(message)}", status_code=303)


@router.post("/admin/users/add")
def add_user(email: str = Form(..., max_length=254), role: str = Form(..., max_length=20),
             password: str = Form(..., max_length=1024), person: str = Form("", max_length=254),
             csrf: str = Form(""), ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "admin")
    check_csrf(ctx, csrf)
    person_id = ctx.data.resolve_person(person or email)
    if person and person_id is None:
        return _back(f"no person {person} in the store")
    if role == "employee" and person_id is None:
        return _back(f"{email} is not a person in the store; give their e-mail or alias as Person")
    try:
        ctx.db.add_user(email, role, password, person_id)
    except ConfigError as exc:
        return _back(str(exc))
    return _back(f"added {email.strip().lower()} as {role}")


@router.post("/admin/users/remove")
def remove_user(email: str = Form(..., max_length=254), csrf: str = Form(""), ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "admin")
    check_csrf(ctx, csrf)
    if email.strip().lower() == ctx.user.email:
        return _back("you cannot remove your own account here (use `worklife users remove`)")
    try:
        gone = ctx.db.remove_user(email)
    except ConfigError as exc:
        return _back(str(exc))
    return _back(f"removed {email}" if gone else f"no account {email}")


@router.post("/admin/users/role")
def set_role(email: str = Form(..., max_length=254), role: str = Form(..., max_length=20), csrf: str = Form(""),
             ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "admin")
    check_csrf(ctx, csrf)
    try:
        changed = ctx.db.set_role(email, role)
    except ConfigError as exc:
        return _back(str(exc))
    return _back(f"{email} is now {role}" if changed else f"no account {email}")
