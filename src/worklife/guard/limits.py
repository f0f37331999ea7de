"""Limits on what a client may cost the guard: the HTTP body limit and the failed-authentication throttle.

``AuthThrottle`` is the one rule for failed authentication on both fronts (SMTP AUTH and
HTTP bearer tokens): a growing cost per failure, then a lock during which attempts are
refused without being checked (see its docstring and docs/guard.md).

``BodyLimit`` is plain ASGI middleware: a request whose ``Content-Length`` is over the
limit (or not a number) is answered 413 without reading a byte of its body; a chunked
body is counted as it streams in and refused once it passes the limit, so a 200 MB body
never sits in memory (uvicorn reads from the socket only as fast as the app asks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
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
        await send_error(send, 413, _too_large(self.limit), {"connection": "close"})


async def send_error(send: Any, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    """Answer an ASGI request with the guard's error shape, from middleware (nothing read)."""
    body = json.dumps({"ok": False, "error": message, "status": status}).encode()
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


# -- failed authentication: one rule for SMTP AUTH and HTTP bearer tokens ---------------------

def client_key(host: object) -> str:
    """The key a client address is counted under: an IPv4 address (IPv4-mapped IPv6 too) as
    itself, an IPv6 address by its /64 (one host usually holds a whole /64, so rotating
    addresses inside it must not give fresh budgets); anything else as its text."""
    text = str(host[0] if isinstance(host, tuple) and host else host).split("%")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return f"host:{text[:100]}"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return f"net:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


class AuthThrottle:
    """Failed authentications per key (a client, a user name, a wrong token's digest) over the
    last hour, in bounded memory. The rule, the same on SMTP and HTTP:

    - the n-th failure of a key costs ``delay * 2**(n-1)`` seconds, capped at 60 s
      (``fail`` returns it: SMTP waits that long before its 535);
    - from the ``max_failures``-th failure on, the key is locked until that cost has passed
      since its last failure (``retry_after``): attempts are refused unchecked (HTTP 429 with
      ``Retry-After``, SMTP 421), so parallel attempts gain nothing and a locked client
      learns nothing about the credentials it sends.

    At most ``max_keys`` keys (least recently failed dropped first) and 16 instants per key
    are kept, so an attacker rotating addresses cannot grow it without bound.
    """

    WINDOW_S, MAX_DELAY_S, KEEP = 3600.0, 60.0, 16

    def __init__(self, delay_s: float = 1.0, max_failures: int = 3, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.delay_s = delay_s
        self.max_failures = max(1, max_failures)
        self.max_keys = max_keys
        self.clock = clock
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep  # SMTP's wait (tests record it)
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, key: str, now: float) -> deque[float]:
        kept = self._failures.get(key)
        if kept is None:
            return deque(maxlen=self.KEEP)
        while kept and now - kept[0] >= self.WINDOW_S:
            kept.popleft()
        if not kept:
            del self._failures[key]
        return kept

    def delay(self, n: int) -> float:
        """Seconds the n-th failure costs."""
        return min(self.delay_s * 2 ** min(max(n - 1, 0), 16), self.MAX_DELAY_S)

    def failures(self, key: str) -> int:
        """Failures of ``key`` in the last hour (at most 16 are remembered)."""
        return len(self._recent(key, self.clock()))

    def fail(self, key: object) -> float:
        """Record a failure of ``key`` (a socket peer is reduced by ``client_key``); its cost in seconds."""
        key = key if isinstance(key, str) else client_key(key)
        now = self.clock()
        kept = self._recent(key, now)
        kept.append(now)
        self._failures[key] = kept
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)
        return self.delay(len(kept))

    def retry_after(self, key: str, max_failures: int | None = None) -> float:
        """Seconds ``key`` stays locked (0: it may try); ``max_failures`` overrides the threshold."""
        now = self.clock()
        kept = self._recent(key, now)
        if len(kept) < (max_failures or self.max_failures):
            return 0.0
        return max(0.0, kept[-1] + self.delay(len(kept)) - now)
