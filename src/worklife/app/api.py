"""The JSON API beside the pages, under the same rules (``worklife.app.access``).

Errors have one shape: ``{"ok": false, "error": "...", "status": N}``; data outside the
caller's role answers 404, a missing session 401, a throttled sign-in 429.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from worklife.app import access
from worklife.app.context import Ctx
from worklife.app.findings import findings_frame
from worklife.app.web import check_csrf, signed_in

router = APIRouter(prefix="/api", tags=["api"])


class LoginBody(BaseModel):
    email: str = Field(..., max_length=254, examples=["alice@example.com"])
    password: str = Field(..., max_length=1024)


class LoginAnswer(BaseModel):
    ok: bool
    email: str
    role: str
    person_id: str | None
    csrf: str = Field(..., description="Send as X-CSRF-Token with POST /api/logout.")


class WeeksAnswer(BaseModel):
    ok: bool = True
    weeks: list[dict[str, Any]]


class TeamWeeksAnswer(BaseModel):
    ok: bool = True
    team: str
    people: int
    suppressed: bool = Field(..., description="True when the team has fewer than privacy.min_group_size people.")
    min_group_size: int
    weeks: list[dict[str, Any]] = Field(..., description="Means per person; weeks with too few people left out.")


class FindingsAnswer(BaseModel):
    ok: bool = True
    pseudonymised: bool
    findings: list[dict[str, Any]]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict("records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            elif hasattr(v, "item"):
                v = v.item()
            clean[k] = v
        out.append(clean)
    return out


@router.post("/login", response_model=LoginAnswer, responses={401: {}, 415: {}, 429: {}})
def api_login(body: LoginBody, request: Request) -> Response:
    """Sign in; the answer sets the session cookie (HTTP-only, SameSite=Strict)."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "send a JSON body (Content-Type: application/json)")
    auth = request.app.state.auth
    client = request.client.host if request.client else "?"
    if auth.throttled(body.email, client):
        raise HTTPException(429, "too many failed attempts; wait a few minutes")
    user = auth.sign_in(body.email, body.password, client)
    if user is None:
        raise HTTPException(401, "wrong e-mail or password")
    token, session = auth.rotate_session(request, user)
    response = JSONResponse({"ok": True, "email": user.email, "role": user.role,
                             "person_id": user.person_id, "csrf": session.csrf})
    auth.set_session_cookie(response, token)
    return response


@router.post("/logout")
def api_logout(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    """End the session (needs the X-CSRF-Token header from the login answer)."""
    check_csrf(ctx, request.headers.get("x-csrf-token"))
    response = JSONResponse({"ok": True})
    ctx.auth.end_session(request, response)
    return response


@router.get("/me/weeks", response_model=WeeksAnswer, responses={404: {}})
def my_weeks(ctx: Ctx = Depends(signed_in)) -> dict[str, Any]:
    """Your own person-weeks (hours; docs/metrics.md)."""
    pid = access.own_person(ctx.user, ctx.data)
    return {"ok": True, "weeks": _records(ctx.data.person_rows(pid))}


@router.get("/people/{person_id}/weeks", response_model=WeeksAnswer, responses={404: {}})
def person_weeks(person_id: str, ctx: Ctx = Depends(signed_in)) -> dict[str, Any]:
    """A person's weeks: only your own person (id, e-mail or alias); anyone else is 404."""
    pid = access.require_person(ctx.user, ctx.data, person_id)
    return {"ok": True, "weeks": _records(ctx.data.person_rows(pid))}


@router.get("/teams/{team}/weeks", response_model=TeamWeeksAnswer, responses={404: {}})
def team_weeks(team: str, ctx: Ctx = Depends(signed_in)) -> dict[str, Any]:
    """Weekly means per person of a team you may see (managers: your teams; analysts: any shown team)."""
    access.require_role(ctx.user, "manager", "analyst")
    access.require_team(ctx.user, ctx.data, team)
    shown = access.team_is_shown(ctx.data, team)
    weeks = _records(ctx.data.group_weeks(team)) if shown else []
    return {"ok": True, "team": team, "people": ctx.data.team_sizes().get(team, 0), "suppressed": not shown,
            "min_group_size": ctx.data.min_group, "weeks": weeks}


@router.get("/findings", response_model=FindingsAnswer, responses={404: {}})
def findings(ctx: Ctx = Depends(signed_in)) -> dict[str, Any]:
    """Policy findings (analysts), people pseudonymised unless app.identify_findings."""
    access.require_role(ctx.user, "analyst")
    return {"ok": True, "pseudonymised": not bool(ctx.data.config["app.identify_findings"]),
            "findings": _records(findings_frame(ctx))}
