"""The HTTP body limit, enforced while the body is read, before anything parses it.

``BodyLimit`` is plain ASGI middleware: a request whose ``Content-Length`` is over the
limit (or not a number) is answered 413 without reading a byte of its body; a chunked
body is counted as it streams in and refused once it passes the limit, so a 200 MB body
never sits in memory (uvicorn reads from the socket only as fast as the app asks).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

Scope = dict[str, Any]


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes (2 x guard.max_message_bytes + envelope)"


class BodyLimit:
    """ASGI middleware refusing HTTP bodies over ``limit`` bytes with the guard's error shape."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, _too_large(self.limit), headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"ok": False, "error": _too_large(self.limit), "status": 413}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
