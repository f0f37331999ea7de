"""The HTTP API (FastAPI). Schema at /openapi.json (no /docs page: Swagger UI would load a CDN script into this origin).

Every request but /healthz carries ``Authorization: Bearer <token>``: a sender's token
(acts on that sender's messages) or the operator token (acts on all, and GET /queue).
A wrong token counts against the client address and against that token (``bearer_user``,
``worklife.guard.limits.AuthThrottle``): after ``guard.auth_max_failures`` failures the
client is answered 429 with ``Retry-After`` and its tokens are not checked until then.
Every error answers ``{"ok": false, "error": "<message>", "status": <code>}``.
Bodies over ``GuardPolicy.max_request_bytes`` are refused while they are read
(``worklife.guard.limits.BodyLimit``); ``/healthz`` says only ``ok`` unless the
operator token is given.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
from typing import Any, Literal

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from worklife.errors import GuardError
from worklife.guard.addresses import valid_address
from worklife.guard.audit import audit
from worklife.guard.auth import sha256_hex
from worklife.guard.limits import BodyLimit, client_key, send_error
from worklife.guard.service import GuardService

log = logging.getLogger(__name__)


class MessageIn(BaseModel):
    """A message to hold: ``body`` (plain text, with ``subject``) or ``raw`` MIME (text or base64)."""

    sender: str
    recipients: list[str] = Field(min_length=1)
    subject: str | None = None
    body: str | None = None
    raw: str | None = None
    raw_base64: bool = False
    idempotency_key: str | None = Field(default=None, max_length=200)


class UrgentIn(BaseModel):
    """Why a held message must go now: one of the policy exceptions, and a text."""

    reason: Literal["emergency", "force_majeure", "on_call"]
    text: str = Field(min_length=1, max_length=2000)


#: A delivery id in a URL: a positive SQLite integer (anything else is 422, never a 500).
MessageId = Path(ge=1, le=2**63 - 1)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "status": status}


class Throttled(GuardError):
    """429: the client (or the token it sends) is locked after too many wrong tokens."""

    def __init__(self, seconds: float, max_failures: int):
        self.retry_after = max(1, math.ceil(seconds))
        super().__init__(f"too many wrong tokens (guard.auth_max_failures={max_failures}); "
                         f"retry after {self.retry_after} s", 429)


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_user(service: GuardService, request: Request, token: str) -> tuple[bool, str | None]:
    """(valid, sender) for a presented token: sender None with valid True is the operator.

    Throttled first: a locked client or token gets Throttled(429) before the token is looked
    at. A wrong token is a failure of the client address and of the token's digest (so one
    leaked-and-revoked token replayed from many addresses is locked too), audited without
    the token itself.
    """
    throttle = service.throttle
    keys = (client_key(request.client.host if request.client else "unknown"), "token:" + sha256_hex(token)[:32])
    wait = max(throttle.retry_after(k) for k in keys)
    if wait > 0:
        log.debug("bearer token from %s refused unchecked: locked for %.0f s", keys[0], wait)
        raise Throttled(wait, throttle.max_failures)
    if service.tokens.is_operator(token):
        return True, None
    sender = service.tokens.sender_for(token)
    if sender is not None:
        return True, sender
    for key in keys:
        throttle.fail(key)
    n = throttle.failures(keys[0])
    locked = max(throttle.retry_after(k) for k in keys)
    audit("auth_failed", channel="http", client=keys[0], failures=n, locked_s=math.ceil(locked),
          path=request.url.path[:200])
    return False, None


def needs_token(path: str) -> bool:
    """The routes that need a bearer token (everything else is public or unknown: 404)."""
    return path in ("/messages", "/queue") or path.startswith("/messages/")


class AuthFirst:
    """ASGI middleware: the bearer token is checked (and throttled) before anything reads the
    body, so a client without a valid token cannot make the guard read and parse up to
    ``max_request_bytes`` of JSON. The outcome is kept in ``scope["state"]["guard_caller"]``
    for the ``caller`` dependency (one check, one failure counted per request)."""

    def __init__(self, app: Any, service: GuardService):
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not needs_token(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = bearer_token(request)
        if token is None:
            await send_error(send, 401, "missing bearer token (Authorization: Bearer <token>)")
            return
        try:
            valid, sender = bearer_user(self.service, request, token)
        except Throttled as exc:
            await send_error(send, 429, str(exc), {"Retry-After": str(exc.retry_after)})
            return
        if not valid:
            await send_error(send, 401, "invalid token")
            return
        scope.setdefault("state", {})["guard_caller"] = (sender,)
        await self.app(scope, receive, send)


def create_app(service: GuardService) -> FastAPI:
    """The FastAPI application over one GuardService."""
    app = FastAPI(title="worklife guard", version="1", docs_url=None, redoc_url=None,
                  description="Holds messages until the recipient's working window.")
    app.add_middleware(BodyLimit, limit=service.policy.max_request_bytes)
    app.add_middleware(AuthFirst, service=service)  # outermost: no body is read before a valid token

    @app.exception_handler(GuardError)
    async def _guard_error(request: Request, exc: GuardError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        return JSONResponse(error_body(exc.status, str(exc)), status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return JSONResponse(error_body(422, "invalid request: " + "; ".join(parts)), status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(500, "internal error; see the guard log"), status_code=500)

    async def caller(request: Request) -> str | None:
        """The sender the bearer token belongs to; None for the operator (checked by AuthFirst)."""
        checked = getattr(request.state, "guard_caller", None)
        if checked is not None:
            return checked[0]
        token = bearer_token(request)
        if token is None:
            raise GuardError("missing bearer token (Authorization: Bearer <token>)", 401)
        valid, sender = bearer_user(service, request, token)
        if not valid:
            raise GuardError("invalid token", 401)
        return sender

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness: ``{"ok": true}``; with the operator token also the counts per state."""
        token = bearer_token(request)
        if token is not None and bearer_user(service, request, token) == (True, None):
            return {"ok": True, "counts": service.queue.counts()}
        return {"ok": True}

    @app.post("/messages", status_code=202)
    async def post_message(msg: MessageIn, who: str | None = Depends(caller)) -> JSONResponse:
        """Accept a message; 202 with one delivery per recipient, only after it is committed."""
        sender = valid_address(msg.sender, "sender")
        if who is not None and not service.may_send_as(who, sender):
            raise GuardError(f"this token may only send as {who} or its aliases", 403)
        if (msg.body is None) == (msg.raw is None):
            raise GuardError("give exactly one of body and raw", 422)
        raw = None
        if msg.raw is not None:
            try:
                raw = base64.b64decode(msg.raw, validate=True) if msg.raw_base64 else msg.raw.encode("utf-8")
            except (binascii.Error, ValueError):
                raise GuardError("raw_base64 is true but raw is not valid base64", 422) from None
        deliveries, replayed = await service.submit(
            sender, msg.recipients, raw=raw, subject=msg.subject, body=msg.body,
            idempotency_key=msg.idempotency_key, via="http", who=who)
        body = {"ok": True, "ids": [d["id"] for d in deliveries], "replayed": replayed, "deliveries": deliveries}
        return JSONResponse(body, status_code=200 if replayed else 202)

    @app.get("/messages/{message_id}")
    async def get_message(message_id: int = MessageId, who: str | None = Depends(caller)) -> dict[str, Any]:
        """State and planned delivery (UTC and recipient-local) of one delivery."""
        return {"ok": True, **service.owned(message_id, who)}

    @app.delete("/messages/{message_id}")
    async def recall_message(message_id: int = MessageId, who: str | None = Depends(caller)) -> dict[str, Any]:
        """Recall a held message (409 once it is being sent or sent)."""
        return {"ok": True, **service.recall(message_id, who)}

    @app.post("/messages/{message_id}/urgent")
    async def urgent(req: UrgentIn, message_id: int = MessageId, who: str | None = Depends(caller)) -> dict[str, Any]:
        """Release a held message now, with a logged reason; 429 past the daily allowance."""
        return {"ok": True, **service.urgent(message_id, who, req.reason, req.text)}

    @app.get("/queue")
    async def queue(state: str | None = None, limit: int = 100,
                    who: str | None = Depends(caller)) -> dict[str, Any]:
        """The operator's view of the queue (operator token only)."""
        if who is not None:
            raise GuardError("GET /queue needs the operator token", 403)
        if state is not None and state not in service.queue.counts():
            raise GuardError(f"unknown state {state!r}", 422)
        return {"ok": True, **service.overview(state, max(1, min(limit, 1000)))}

    return app
