"""The FastAPI application: middleware, error shapes, static assets, and the routers.

``create_app(store_path, config)`` builds it; ``serve(...)`` runs it with uvicorn.
Pages are server-rendered (Jinja2); charts are Plotly figures drawn by the local
``plotly.min.js`` from the installed ``plotly`` package (no CDN, works offline).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import plotly
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from worklife.app import access, api, pages_admin, pages_group, pages_me, pages_session
from worklife.app.auth import Auth
from worklife.app.context import Ctx, NeedLogin
from worklife.app.data import AppData
from worklife.app.users import AppDb, users_db_path
from worklife.config import Config
from worklife.errors import StoreError, WorklifeError

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_app(store_path: str | Path, config: Config | None = None, app_db: AppDb | None = None) -> FastAPI:
    """The app for the store at ``store_path`` (opened read-only, per request)."""
    config = config or Config()
    data = AppData(store_path, config)
    db = app_db or AppDb(users_db_path(store_path, config))
    auth = Auth(db, config)
    app = FastAPI(title="worklife", version="0.1.0", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Work-pattern numbers per role. Every route answers 404 outside the caller's role.")
    app.state.data, app.state.db, app.state.auth, app.state.config = data, db, auth, config
    app.state.templates = templates()
    _middleware(app, auth, db)
    _errors(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/static-vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    for module in (pages_session, pages_me, pages_group, pages_admin, api):
        app.include_router(module.router)
    return app


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.globals["quote"] = quote
    from worklife.app.render import fmt_hours

    t.env.filters["hours"] = fmt_hours
    return t


def _middleware(app: FastAPI, auth: Auth, db: AppDb) -> None:
    @app.middleware("http")
    async def sign_in_state(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.ctx = None
        found = auth.current(request)
        fresh = auth.header_user(request)  # the SSO proxy's word wins over an older cookie
        if fresh is not None and (found is None or found[0].email != fresh.email):
            token, session = auth.open_session(fresh)
            found = (fresh, session, token)
        else:
            fresh = None
        if found is not None:
            user, session, _ = found
            request.state.ctx = Ctx(user, session, app.state.data, auth, db)
        response = await call_next(request)
        if fresh is not None and found is not None:
            auth.set_session_cookie(response, found[2])
        return secure_headers(request, response)


def secure_headers(request: Request, response: Response) -> Response:
    """The headers every answer carries: CSP, no sniffing or framing, no referrer, and
    ``Cache-Control: no-store`` on everything but the static assets. Also called by the
    crash handler, whose answer is made outside the middleware."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.url.path.startswith(("/static/", "/static-vendor/")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        if request.url.path.startswith("/api/"):
            return _json_error(401, "sign in first (POST /api/login)")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 else "not found"
        if request.url.path.startswith("/api/"):
            return _json_error(exc.status_code, message, exc.headers)
        return error_page(request, exc.status_code, message)

    @app.exception_handler(StoreError)
    async def store_busy(request: Request, exc: StoreError) -> Response:
        log.warning("store unavailable for %s: %s", request.url.path, exc)
        message = "the store is being updated or cannot be opened; try again in a moment"
        if request.url.path.startswith("/api/"):
            return _json_error(503, message)
        return error_page(request, 503, message)

    @app.exception_handler(WorklifeError)
    async def worklife_error(request: Request, exc: WorklifeError) -> Response:
        log.warning("request %s failed: %s", request.url.path, exc)
        if request.url.path.startswith("/api/"):
            return _json_error(400, str(exc))
        return error_page(request, 400, str(exc))

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        if request.url.path.startswith("/api/"):
            return _json_error(422, message)
        return error_page(request, 422, message)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("request %s crashed", request.url.path)
        if request.url.path.startswith("/api/"):
            return secure_headers(request, _json_error(500, "internal error (see the server log)"))
        return secure_headers(request, error_page(request, 500, "internal error (see the server log)"))

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await http_error(request, HTTPException(exc.status_code, exc.detail))


def _json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status,
                        headers=dict(headers) if headers else None)


def error_page(request: Request, status: int, message: str) -> Response:
    ctx = getattr(request.state, "ctx", None)
    try:
        nav = access.navigation(ctx.user, ctx.data) if ctx else []
    except WorklifeError:  # the store itself is what failed
        nav = []
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message, "nav": nav, "ctx": ctx,
                                "title": "Not found" if status == 404 else "Error"},
        status_code=status)


def serve(store_path: str | Path, config: Config, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the app with uvicorn until interrupted; shared results are computed in the background."""
    import uvicorn

    app = create_app(store_path, config)
    threading.Thread(target=_warm, args=(app.state.data,), daemon=True, name="worklife-warm").start()
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


def _warm(data: AppData) -> None:
    try:
        data.warm()
    except WorklifeError as exc:  # the pages report it when asked
        log.warning("could not precompute: %s", exc)
