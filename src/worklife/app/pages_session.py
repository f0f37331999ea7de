"""Sign-in and sign-out pages, and the start page."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from worklife.app import access
from worklife.app.auth import same_token
from worklife.app.context import Ctx
from worklife.app.web import check_csrf, page, signed_in

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a local path may follow sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


@router.get("/")
def home(ctx: Ctx = Depends(signed_in)) -> Response:
    nav = access.navigation(ctx.user, ctx.data)
    return RedirectResponse(nav[0].path if nav else "/nothing", status_code=303)


@router.get("/nothing")
def nothing(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    return page(request, ctx, "nothing.html", "Nothing to show")


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    auth = request.app.state.auth
    if request.state.ctx is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = auth.login_token(request)
    response = page(request, None, "login.html", "Sign in", login_csrf=token, next=_safe_next(next), error=None)
    auth.set_login_cookie(response, token)
    return response


@router.post("/login")
def login(request: Request, email: str = Form(..., max_length=254), password: str = Form(..., max_length=1024),
          csrf: str = Form(""), next: str = Form("/")) -> Response:
    auth = request.app.state.auth
    token = auth.login_token(request)
    if not same_token(csrf, request.cookies.get(auth.login_cookie)):
        return _login_again(request, token, next, "The form expired; please sign in again.", 403)
    client = request.client.host if request.client else "?"
    if auth.throttled(email, client):
        return _login_again(request, token, next, "Too many failed attempts; wait a few minutes and try again.", 429)
    user = auth.sign_in(email, password, client)
    if user is None:
        return _login_again(request, token, next, "Wrong e-mail or password.", 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    auth.start_session(request, response, user)
    response.delete_cookie(auth.login_cookie, path="/", secure=auth.secure, httponly=True, samesite="strict")
    return response


def _login_again(request: Request, token: str, next: str, error: str, status: int) -> Response:
    response = page(request, None, "login.html", "Sign in", status=status, login_csrf=token,
                    next=_safe_next(next), error=error)
    request.app.state.auth.set_login_cookie(response, token)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), ctx: Ctx = Depends(signed_in)) -> Response:
    check_csrf(ctx, csrf)
    response = RedirectResponse("/login", status_code=303)
    ctx.auth.end_session(request, response)
    return response
