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

Failed attempts on either front are throttled by ``worklife.guard.limits.AuthThrottle``
(re-exported here): a growing delay per failure, then a lock.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from worklife.errors import ConfigError
from worklife.guard.limits import AuthThrottle, client_key

__all__ = ["AuthThrottle", "Tokens", "client_key", "parse_networks", "peer_allowed", "sha256_hex"]


_NO_DIGEST = "0" * 64  # compared against when a user name has no token


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
        # An unknown user costs the same hash and comparison as a known one: no timing oracle
        # for which sender addresses hold a token.
        want = self.senders.get(user.lower())
        same = hmac.compare_digest(want or _NO_DIGEST, sha256_hex(password))
        return want is not None and same

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
