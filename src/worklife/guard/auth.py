"""Who may use the guard: sender tokens, the operator token, allowed SMTP networks.

The tokens file (``guard.tokens_file`` or ``--tokens``) is TOML::

    operator = "long-random-operator-token"         # or operator_sha256 = "<hex>"
    [senders]
    "user01@example.com" = "long-random-token"       # or { sha256 = "<hex>" }
    "user02@example.com" = { token = "another-token", aliases = ["u.two@example.com"] }

A sender's token is the HTTP bearer token (``Authorization: Bearer <token>``) and the
SMTP AUTH password (the user name is the sender address). Tokens are compared as
SHA-256 digests in constant time; storing only ``sha256`` keeps secrets off disk.
``aliases`` are other addresses the sender may write in ``From:`` and MAIL FROM.

``AuthThrottle`` slows down guessing: each failed SMTP AUTH from a client address waits
``delay * 2**(failures-1)`` seconds (capped at 60 s) before its 535, counted over the
last hour across connections; the connection is dropped after ``max_failures``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import time
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from worklife.errors import ConfigError


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Tokens:
    """Sender address (lower-cased) -> token digest, plus the operator's digest."""

    senders: dict[str, str] = field(default_factory=dict)
    operator: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # alias (lower-cased) -> sender

    @classmethod
    def from_plain(cls, senders: dict[str, str], operator: str | None = None) -> Tokens:
        return cls({k.lower(): sha256_hex(v) for k, v in senders.items()},
                   sha256_hex(operator) if operator else None)

    @classmethod
    def load(cls, path: str | Path) -> Tokens:
        """Read a tokens file; ConfigError naming the file for anything wrong."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: tokens file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML: {exc}") from exc
        senders: dict[str, str] = {}
        aliases: dict[str, str] = {}
        for addr, value in (data.get("senders") or {}).items():
            sender = addr.lower()
            if isinstance(value, str) and value:
                senders[sender] = sha256_hex(value)
                continue
            if isinstance(value, dict) and isinstance(value.get("token"), str) and value["token"]:
                senders[sender] = sha256_hex(value["token"])
            elif isinstance(value, dict) and isinstance(value.get("sha256"), str):
                senders[sender] = value["sha256"].lower()
            else:
                raise ConfigError(f"{p}: sender {addr!r} needs a token string, {{ token = \"...\" }} "
                                  "or {{ sha256 = \"...\" }}")
            extra = value.get("aliases", [])
            if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
                raise ConfigError(f"{p}: sender {addr!r}: aliases must be a list of addresses")
            aliases.update({a.lower(): sender for a in extra})
        operator = data.get("operator")
        op = sha256_hex(operator) if isinstance(operator, str) and operator else data.get("operator_sha256")
        return cls(senders, op.lower() if isinstance(op, str) else None, aliases)

    def sender_for(self, token: str) -> str | None:
        """The sender a bearer token belongs to, or None."""
        digest = sha256_hex(token)
        found = None
        for addr, d in self.senders.items():
            if hmac.compare_digest(d, digest):
                found = addr
        return found

    def check_login(self, user: str, password: str) -> bool:
        """SMTP AUTH: user name = sender address, password = that sender's token."""
        want = self.senders.get(user.lower())
        return want is not None and hmac.compare_digest(want, sha256_hex(password))

    def is_operator(self, token: str) -> bool:
        return self.operator is not None and hmac.compare_digest(self.operator, sha256_hex(token))


def parse_networks(cidrs: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(c, strict=False) for c in cidrs]
    except ValueError as exc:
        raise ConfigError(f"guard.smtp_networks: {exc}") from exc


def peer_allowed(peer: object, networks: list) -> bool:
    """True when a socket peer (host, port, ...) lies in one of ``networks``."""
    try:
        host = peer[0] if isinstance(peer, tuple) else str(peer)
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except (ValueError, IndexError, TypeError):
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in n for n in networks if n.version == ip.version)


class AuthThrottle:
    """Failed SMTP AUTH attempts per client address over the last hour (bounded memory)."""

    WINDOW_S, MAX_DELAY_S, MAX_PEERS = 3600.0, 60.0, 10_000

    def __init__(self, delay_s: float = 1.0, max_failures: int = 3):
        self.delay_s = delay_s
        self.max_failures = max_failures
        self.sleep = asyncio.sleep  # how the delay is waited (tests record it instead)
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, peer: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(peer, []) if now - t < self.WINDOW_S]
        if kept:
            self._failures[peer] = kept
            self._failures.move_to_end(peer)
        else:
            self._failures.pop(peer, None)
        return kept

    def fail(self, peer: object) -> float:
        """Record a failure of ``peer``; the delay (seconds) before answering it."""
        key = _peer_host(peer)
        now = time.monotonic()
        n = len(self._recent(key, now)) + 1
        self._failures[key] = [*self._failures.get(key, []), now]
        while len(self._failures) > self.MAX_PEERS:
            self._failures.popitem(last=False)
        return min(self.delay_s * 2 ** (n - 1), self.MAX_DELAY_S)


def _peer_host(peer: object) -> str:
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)
