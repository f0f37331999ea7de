"""Addresses are data: RFC 5321 addr-spec validation and relay-domain checks.

``valid_address(text)`` returns the address (surrounding spaces and one pair of angle
brackets removed) or raises GuardError(422) saying what is wrong. Accepted:

- local part: a dot-atom (``first.last+tag``) or a quoted string of printable ASCII,
  at most 64 octets (RFC 5321 4.5.3.1.1);
- domain: LDH labels of at most 63 octets each (IDNs in their ``xn--`` form), at most
  255 octets, or an address literal ``[192.0.2.1]`` / ``[IPv6:2001:db8::1]``;
- the whole address at most 254 octets (a 256-octet path minus its angle brackets).

Anything else is refused, in particular control characters (CR, LF, NUL, TAB, DEL),
spaces outside quotes, several addresses in one (``a@x, b@y``), route syntax and
non-ASCII text. This is what Postfix asks of the envelope with ``strict_rfc821_envelopes
= yes`` (angle brackets, nothing extraneous), made the default here: the guard relays mail
that authenticated users write, not mail from arbitrary hosts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from worklife.errors import GuardError

MAX_LOCAL, MAX_DOMAIN, MAX_ADDRESS = 64, 255, 254
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_QUOTED = re.compile(r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"')
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character (CR, LF, NUL, TAB, DEL, ...)."""
    return _CONTROL.search(text) is not None


def _check_domain(domain: str) -> str | None:
    """None when ``domain`` is a valid RFC 5321 domain or address literal, else the reason."""
    if not domain:
        return "no domain after @"
    if len(domain) > MAX_DOMAIN:
        return f"domain longer than {MAX_DOMAIN} octets"
    if domain.startswith("[") and domain.endswith("]"):
        inner = domain[1:-1]
        try:
            if inner[:5].lower() == "ipv6:":
                ipaddress.IPv6Address(inner[5:])
            else:
                ipaddress.IPv4Address(inner)
        except ValueError:
            return "invalid address literal"
        return None
    labels = domain.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return "domain is not a host name (letters, digits, hyphens; IDNs as xn--)"
    return None


def valid_address(text: str, what: str = "address") -> str:
    """The addr-spec in ``text`` (``<...>`` and outer spaces removed); GuardError(422) if invalid."""
    if not isinstance(text, str):
        raise GuardError(f"{what} must be a string", 422)
    if has_control(text):
        raise GuardError(f"{what} {text!r} contains a control character (CR, LF, NUL, ...)", 422)
    addr = text.strip(" ")
    if addr.startswith("<") and addr.endswith(">"):
        addr = addr[1:-1]
    if not addr.isascii():
        raise GuardError(f"{what} {text!r} is not ASCII; write the domain in its xn-- form", 422)
    if len(addr) > MAX_ADDRESS:
        raise GuardError(f"{what} is {len(addr)} octets, longer than {MAX_ADDRESS}", 422)
    local, at, domain = addr.rpartition("@")
    if not at or not local:
        raise GuardError(f"{what} {text!r} is not local@domain", 422)
    if len(local) > MAX_LOCAL:
        raise GuardError(f"{what} {text!r}: local part longer than {MAX_LOCAL} octets", 422)
    if not (_DOT_ATOM.fullmatch(local) or _QUOTED.fullmatch(local)):
        raise GuardError(f"{what} {text!r}: local part is neither a dot-atom nor a quoted string", 422)
    reason = _check_domain(domain)
    if reason:
        raise GuardError(f"{what} {text!r}: {reason}", 422)
    return addr


def domain_of(address: str) -> str:
    """The lower-cased domain of a valid address."""
    return address.rpartition("@")[2].lower()


def domain_allowed(domain: str, allowed: Iterable[str]) -> bool:
    """``example.com`` matches itself; ``.example.com`` matches its subdomains (Postfix style)."""
    d = domain.lower().rstrip(".")
    for entry in allowed:
        e = entry.lower().strip()
        if (e.startswith(".") and d.endswith(e)) or d == e:
            return True
    return False
