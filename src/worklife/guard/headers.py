"""Header fields the guard writes or removes, never by pasting strings.

- ``header_line(name, value)``: one folded field built with the ``email`` package's header
  objects (``HeaderRegistry`` + ``policy.SMTP.fold``: RFC 2047 for non-ASCII, folding at
  78 columns); a value holding a control character is refused, so no CR/LF can start
  a field of its own (Python 3.11's folder would keep it);
- ``prepend_headers(raw, fields)``: those lines put before a message, in its line endings;
- ``drop_fields(raw, names)``: the message without the named fields (``Bcc``,
  ``Resent-Bcc``), the rest of the bytes untouched;
- ``author_addresses(msg)``: the addr-specs of every ``From:`` and ``Sender:`` field,
  parsed with the ``policy.default`` address parser; GuardError(422) when one cannot be
  parsed (a field the guard cannot read is a field it cannot vouch for);
- ``display_name_addresses(msg)``: addresses written anywhere in those fields (display
  names, comments, RFC 2047 encoded words, after NFKC): ``"ceo@example.com"
  <bob@example.com>`` shows as the CEO in most mail clients, so the guard treats such a
  name as an author too;
- ``crlf(raw)``: every line ending made CRLF. A bare CR or LF is what SMTP smuggling needs
  (an upstream that ends lines on a bare CR reads ``<CR>.<CRLF>`` as the end of DATA and
  what follows as new commands, whose From: nobody checked), so none is stored or relayed;
- ``mime_depth(msg)``: how deep multiparts nest, computed without recursion.
"""

from __future__ import annotations

import re
import unicodedata
from email import policy as email_policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import Message

from worklife.errors import GuardError
from worklife.guard.addresses import has_control

_UNSTRUCTURED = HeaderRegistry(use_default_map=False)
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII but ':' (RFC 5322 ftext)
_SPLIT = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_NAME_ADDRESS = re.compile(r"[^\s<>\"'()\[\],;:@]+@[^\s<>\"'()\[\],;:@]+")


def header_line(name: str, value: str, linesep: str = "\r\n", width: int = 78) -> bytes:
    """``Name: value`` folded at ``width``, as ASCII bytes ending in ``linesep``; GuardError for
    unsafe input."""
    if not _FIELD_NAME.fullmatch(name):
        raise GuardError(f"invalid header name {name!r}", 422)
    if has_control(value):
        raise GuardError(f"header {name}: value contains a control character", 422)
    pol = email_policy.SMTP.clone(linesep=linesep, max_line_length=width)
    folded = _UNSTRUCTURED(name, value).fold(policy=pol)
    return folded.encode("ascii")


def _linesep(raw: bytes) -> str:
    return "\r\n" if b"\r\n" in raw[:4000] else "\n"


def prepend_headers(raw: bytes, fields: list[tuple[str, str]]) -> bytes:
    """``raw`` with ``fields`` added before its first header line (trace fields such as
    X-Worklife-Delivery are kept on one line: folded only past RFC 5322's 998 octets)."""
    if not fields:
        return raw
    eol = _linesep(raw)
    return b"".join(header_line(k, v, eol, width=998) for k, v in fields) + raw


def _header_block(raw: bytes) -> tuple[bytes, bytes]:
    """(header block including its final line end, the rest: blank line and body)."""
    m = _SPLIT.search(raw)
    if m is None:
        return raw, b""
    cut = m.start() + (2 if raw[m.start():m.start() + 2] == b"\r\n" else 1)
    return raw[:cut], raw[cut:]


def _fields(block: bytes) -> list[bytes]:
    """The header block split into fields, each with its continuation lines."""
    out: list[bytes] = []
    for line in block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += line
        else:
            out.append(line)
    return out


def drop_fields(raw: bytes, names: set[str]) -> tuple[bytes, int]:
    """``raw`` without the header fields named in ``names`` (lower-case); (bytes, fields dropped)."""
    block, rest = _header_block(raw)
    kept, dropped = [], 0
    for f in _fields(block):
        name = f.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        if b":" in f and name in names:
            dropped += 1
        else:
            kept.append(f)
    return (b"".join(kept) + rest, dropped) if dropped else (raw, 0)


def author_addresses(msg: Message) -> list[str]:
    """Lower-cased addr-specs of every From: and Sender: mailbox; GuardError(422) if unreadable."""
    out: list[str] = []
    for name in ("From", "Sender"):
        for value in msg.get_all(name) or []:
            text = " ".join(str(value).split())  # unfolded
            if has_control(text):
                raise GuardError(f"{name}: header contains a control character", 422)
            try:
                field = email_policy.default.header_factory(name, text)
                ok = not field.defects and bool(field.addresses)
            except Exception:  # noqa: BLE001 (any parser failure means unreadable)
                ok = False
            if not ok:
                raise GuardError(f"{name}: header cannot be parsed as a mailbox list: {text[:200]!r}", 422)
            out.extend(a.addr_spec.lower() for a in field.addresses)  # type: ignore[attr-defined]
    return out


def display_name_addresses(msg: Message) -> list[str]:
    """Lower-cased address-like words anywhere in From:/Sender: — display names, comments,
    RFC 2047 encoded words — after NFKC (a full-width ``＠`` is an ``@``). The mailboxes'
    own addresses are among them; call after ``author_addresses`` (which refuses a field
    that cannot be parsed)."""
    out: list[str] = []
    for name in ("From", "Sender"):
        for value in msg.get_all(name) or []:
            text = " ".join(str(value).split())
            try:
                text = str(make_header(decode_header(text)))
            except (HeaderParseError, LookupError, UnicodeError, ValueError):
                pass  # undecodable words stay as written (and are searched as such)
            text = unicodedata.normalize("NFKC", text)
            out.extend(w.lower().rstrip(".") for w in _NAME_ADDRESS.findall(text))
    return out


def crlf(raw: bytes) -> bytes:
    """``raw`` with every line ending (CRLF, bare CR, bare LF) written as CRLF."""
    crlfs = raw.count(b"\r\n")
    if raw.count(b"\r") == crlfs == raw.count(b"\n"):  # already so (the usual case): no copy
        return raw
    return _LINE_END.sub(b"\r\n", raw)


def mime_depth(msg: Message) -> int:
    """Nesting depth of ``msg`` (1 for a single part), iteratively: safe on any input."""
    deepest, stack = 0, [(msg, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in payload if isinstance(p, Message))
    return deepest
