"""Accepting a message: check the MIME, plan each recipient copy, store durably.

``enqueue`` is the library call other parts use (the digest helper hands digests to
the guard with it); the SMTP and HTTP fronts call ``prepare`` + ``Queue.add`` the same
way. Planning per recipient:

- inside the recipient's window: due now (passes straight through);
- outside, mode ``hold`` (default): due at the start of the next window;
- outside, mode ``deliver_now`` (per jurisdiction, e.g. AR): due now, delivered with an
  ``X-Worklife-Reply-Not-Expected-Before`` header and a footer naming the local time.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.header import Header
from email.message import Message
from email.parser import BytesParser
from typing import Any

from worklife.config import Config
from worklife.errors import GuardError
from worklife.guard.clock import require_aware, to_ms
from worklife.guard.directory import Directory
from worklife.guard.queue import NewDelivery, Queue
from worklife.guard.schedule import next_window
from worklife.workcal import split_jurisdiction

log = logging.getLogger(__name__)

MODES = ("hold", "deliver_now")
# Parser defects that mean the message cannot be relayed faithfully.
FATAL_DEFECTS = {
    "MissingHeaderBodySeparatorDefect",
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "NoBoundaryInMultipartDefect",
    "MultipartInvariantViolationDefect",
    "FirstHeaderLineIsContinuationDefect",
    "MisplacedEnvelopeHeaderDefect",
}


@dataclass(frozen=True)
class GuardPolicy:
    """The guard settings in force (see ``worklife config show``, section ``guard``)."""

    default_mode: str = "hold"
    jurisdiction_modes: dict[str, str] = field(default_factory=dict)
    reply_footer: str = "No reply is expected before {local} ({tz})."
    max_message_bytes: int = 10_000_000
    urgent_per_sender_per_day: int = 3
    retry_max_attempts: int = 8
    retry_base_seconds: float = 30.0
    claim_lease_seconds: float = 60.0
    claim_batch: int = 100
    poll_seconds: float = 1.0

    @classmethod
    def from_config(cls, config: Config) -> GuardPolicy:
        g = config.section("guard")
        modes = {str(k).upper(): str(v) for k, v in (g["jurisdiction_modes"] or {}).items()}
        for mode in [g["default_mode"], *modes.values()]:
            if mode not in MODES:
                raise GuardError(f"guard mode must be one of {', '.join(MODES)}, not {mode!r}", 500)
        return cls(
            default_mode=g["default_mode"], jurisdiction_modes=modes, reply_footer=g["reply_footer"],
            max_message_bytes=int(g["max_message_bytes"]),
            urgent_per_sender_per_day=int(g["urgent_per_sender_per_day"]),
            retry_max_attempts=int(g["retry_max_attempts"]), retry_base_seconds=float(g["retry_base_seconds"]),
            claim_lease_seconds=float(g["claim_lease_seconds"]), claim_batch=int(g["claim_batch"]),
            poll_seconds=float(g["poll_seconds"]),
        )

    def mode_for(self, jurisdiction: str) -> str:
        """Mode for a jurisdiction: exact code ('CA-ON'), then its country ('CA'), then the default."""
        code = (jurisdiction or "").strip().upper()
        if code in self.jurisdiction_modes:
            return self.jurisdiction_modes[code]
        country, _ = split_jurisdiction(code)
        return self.jurisdiction_modes.get(country, self.default_mode)


@dataclass(frozen=True)
class Prepared:
    """A message ready to store: its raw bytes (with Message-ID) and one plan per recipient."""

    sender: str
    raw: bytes
    message_id: str
    rows: list[NewDelivery]
    batch: str


def parse_mime(raw: bytes, max_bytes: int) -> Message:
    """Parse raw MIME; GuardError for oversized (413) or malformed (422) input."""
    if len(raw) > max_bytes:
        raise GuardError(f"message is {len(raw)} bytes, larger than guard.max_message_bytes={max_bytes}", 413)
    # compat32 parsing finds the same structural defects as policy.default, several times faster.
    msg = BytesParser(policy=email_policy.compat32).parsebytes(raw)
    defects = {type(d).__name__ for part in msg.walk() for d in part.defects} & FATAL_DEFECTS
    if not msg.keys():
        defects.add("no header fields")
    if defects:
        raise GuardError(f"malformed MIME: {', '.join(sorted(defects))}", 422)
    return msg


def _header(value: str) -> str:
    """A header value as ASCII: RFC 2047 encoded-words when it is not ASCII already."""
    value = " ".join(value.splitlines())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address_list(addresses: list[str]) -> str:
    return ", ".join(_header(a) for a in addresses)


def build_message(sender: str, recipients: list[str], subject: str, body: str, now: datetime) -> bytes:
    """A plain-text message with From, To, Subject, Date (MIME 1.0, UTF-8).

    Built directly as bytes: ``EmailMessage`` with ``policy.default`` costs ~1 ms per
    message in header objects alone, the largest cost of an HTTP submission.
    """
    text = body.replace("\r\n", "\n").replace("\n", "\r\n")
    if not text.endswith("\r\n"):
        text += "\r\n"
    if text.isascii() and all(len(line) <= 998 for line in text.split("\r\n")):
        cte, payload = "7bit", text.encode("ascii")
    else:
        cte, payload = "base64", base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")
    head = (f"From: {_header(sender)}\r\nTo: {_address_list(recipients)}\r\nSubject: {_header(subject)}\r\n"
            f"Date: {email.utils.format_datetime(require_aware(now))}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n")
    return head.encode("ascii") + payload


def _add_headers(raw: bytes, headers: list[tuple[str, str]]) -> bytes:
    if not headers:
        return raw
    eol = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    return b"".join(f"{k}: {v}".encode() + eol for k, v in headers) + raw


def plan(directory: Directory, policy: GuardPolicy, recipients: list[str], now: datetime) -> list[NewDelivery]:
    """One NewDelivery per distinct recipient; GuardError(404) for an unknown recipient."""
    now = require_aware(now)
    now_ms = to_ms(now)
    rows: list[NewDelivery] = []
    seen: set[str] = set()
    for rcpt in recipients:
        key = rcpt.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        sched = directory.lookup(rcpt)
        window_ms = to_ms(next_window(sched, now))
        mode = policy.mode_for(sched.jurisdiction)
        due_ms = window_ms if mode == "hold" else now_ms
        rows.append(NewDelivery(recipient=rcpt.strip(), tz=sched.tz, mode=mode, due_ms=due_ms, window_ms=window_ms))
    if not rows:
        raise GuardError("no recipients", 422)
    return rows


def prepare(directory: Directory, policy: GuardPolicy, sender: str, recipients: list[str], now: datetime, *,
            raw: bytes | None = None, subject: str | None = None, body: str | None = None) -> Prepared:
    """Validate and plan a message given as raw MIME or as subject + body."""
    if not sender or "@" not in sender:
        raise GuardError(f"invalid sender {sender!r}", 422)
    rows = plan(directory, policy, recipients, now)
    batch = uuid.uuid4().hex
    added: list[tuple[str, str]] = []
    if raw is None:
        if body is None:
            raise GuardError("give either body or raw", 422)
        raw = build_message(sender, recipients, subject or "", body, now)
        if len(raw) > policy.max_message_bytes:
            parse_mime(raw, policy.max_message_bytes)  # raises the 413
        message_id, has_date = "", True
    else:
        msg = parse_mime(raw, policy.max_message_bytes)
        message_id, has_date = str(msg.get("Message-ID") or "").strip(), msg.get("Date") is not None
    if not message_id:
        message_id = f"<{batch}@worklife-guard>"
        added.append(("Message-ID", message_id))
    if not has_date:
        added.append(("Date", email.utils.format_datetime(require_aware(now))))
    return Prepared(sender=sender, raw=_add_headers(raw, added), message_id=message_id, rows=rows, batch=batch)


def store(queue: Queue, p: Prepared, now: datetime, idempotency_key: str | None = None, via: str = "library") -> Any:
    """Queue.add for a Prepared message; a future -> (ids, replayed) resolving after COMMIT."""
    return queue.add(p.sender, p.raw, p.rows, to_ms(now), idempotency_key=idempotency_key, via=via, batch=p.batch)


def enqueue(queue: Queue, sender: str, recipients: list[str], subject: str | None = None,
            body: str | None = None, *, directory: Directory, now: datetime,
            raw: bytes | None = None, policy: GuardPolicy | None = None,
            idempotency_key: str | None = None) -> list[int]:
    """Hold (or pass) a message for each recipient; return the delivery ids once committed.

    ``now`` is the acceptance instant (UTC aware). Raises GuardError for an unknown
    recipient, malformed or oversized MIME. With an ``idempotency_key`` the sender has
    used before, nothing new is stored and the first call's ids are returned.
    """
    pol = policy or GuardPolicy.from_config(directory.config)
    prepared = prepare(directory, pol, sender, recipients, now, raw=raw, subject=subject, body=body)
    ids, _ = store(queue, prepared, now, idempotency_key).result()
    return ids
