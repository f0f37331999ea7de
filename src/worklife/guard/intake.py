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

import email.utils
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
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


def parse_mime(raw: bytes, max_bytes: int) -> EmailMessage:
    """Parse raw MIME; GuardError for oversized (413) or malformed (422) input."""
    if len(raw) > max_bytes:
        raise GuardError(f"message is {len(raw)} bytes, larger than guard.max_message_bytes={max_bytes}", 413)
    msg = BytesParser(policy=email_policy.default).parsebytes(raw)
    defects = {type(d).__name__ for part in msg.walk() for d in part.defects} & FATAL_DEFECTS
    if not msg.keys():
        defects.add("no header fields")
    if defects:
        raise GuardError(f"malformed MIME: {', '.join(sorted(defects))}", 422)
    return msg


def build_message(sender: str, recipients: list[str], subject: str, body: str, now: datetime) -> bytes:
    """A plain-text message with From, To, Subject, Date (MIME, UTF-8)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(require_aware(now))
    msg.set_content(body)
    return msg.as_bytes(policy=email_policy.SMTP)


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
    if raw is None:
        if body is None:
            raise GuardError("give either body or raw", 422)
        raw = build_message(sender, recipients, subject or "", body, now)
    msg = parse_mime(raw, policy.max_message_bytes)
    rows = plan(directory, policy, recipients, now)
    batch = uuid.uuid4().hex
    added: list[tuple[str, str]] = []
    message_id = str(msg.get("Message-ID") or "").strip()
    if not message_id:
        message_id = f"<{batch}@worklife-guard>"
        added.append(("Message-ID", message_id))
    if msg.get("Date") is None:
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
