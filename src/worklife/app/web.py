"""What every page handler shares: the signed-in context, CSRF checks and rendering."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from worklife.app import access
from worklife.app.auth import same_token
from worklife.app.context import Ctx, NeedLogin


def signed_in(request: Request) -> Ctx:
    """FastAPI dependency: the signed-in context, or a redirect to /login (401 for the API)."""
    ctx = getattr(request.state, "ctx", None)
    if ctx is None:
        raise NeedLogin()
    return ctx


def check_csrf(ctx: Ctx, token: str | None) -> None:
    """403 unless ``token`` is the session's CSRF token."""
    if not same_token(token, ctx.session.csrf):
        raise HTTPException(status_code=403, detail="the form expired or did not come from this site; reload and retry")


def page(request: Request, ctx: Ctx | None, template: str, title: str, status: int = 200,
         **values: Any) -> HTMLResponse:
    """Render ``template`` with the navigation of the signed-in user."""
    nav = access.navigation(ctx.user, ctx.data) if ctx else []
    return request.app.state.templates.TemplateResponse(
        request, template,
        {"ctx": ctx, "nav": nav, "title": title, "csrf": ctx.session.csrf if ctx else "",
         "page_rows": int(request.app.state.config["app.page_rows"]), **values},
        status_code=status)
