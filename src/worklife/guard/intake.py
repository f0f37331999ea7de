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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from worklife.config import Config
from worklife.errors import GuardError
from worklife.guard.addresses import valid_address
from worklife.guard.clock import require_aware, to_ms
from worklife.guard.directory import Directory
from worklife.guard.headers import (
    author_addresses,
    crlf,
    display_name_addresses,
    drop_fields,
    header_line,
    mime_depth,
    prepend_headers,
)
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
HIDDEN_FIELDS = {"bcc", "resent-bcc"}  # never relayed: they would tell every recipient who else got it


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
    max_recipients: int = 100
    max_mime_depth: int = 100
    auth_max_failures: int = 3
    auth_failure_delay_seconds: float = 1.0
    keep_delivered_days: float = 0.0
    keep_dead_days: float = 14.0
    keep_records_days: float = 30.0
    keep_audit_days: float = 365.0

    @property
    def max_request_bytes(self) -> int:
        """Largest HTTP body read: a message as JSON-escaped or base64 text, plus the envelope."""
        return 2 * self.max_message_bytes + 64 * 1024 + 512 * self.max_recipients

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
            poll_seconds=float(g["poll_seconds"]), max_recipients=int(g["max_recipients"]),
            max_mime_depth=int(g["max_mime_depth"]), auth_max_failures=int(g["auth_max_failures"]),
            auth_failure_delay_seconds=float(g["auth_failure_delay_seconds"]),
            keep_delivered_days=float(g["keep_delivered_days"]), keep_dead_days=float(g["keep_dead_days"]),
            keep_records_days=float(g["keep_records_days"]), keep_audit_days=float(g["keep_audit_days"]),
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


def parse_mime(raw: bytes, max_bytes: int, max_depth: int = 100) -> Message:
    """Parse raw MIME; GuardError for oversized (413), malformed or over-deep (422) input."""
    if len(raw) > max_bytes:
        raise GuardError(f"message is {len(raw)} bytes, larger than guard.max_message_bytes={max_bytes}", 413)
    # compat32 parsing finds the same structural defects as policy.default, several times faster.
    try:
        msg = BytesParser(policy=email_policy.compat32).parsebytes(raw)
    except RecursionError:
        raise GuardError(f"malformed MIME: parts nested deeper than guard.max_mime_depth={max_depth}", 422) from None
    except Exception as exc:  # noqa: BLE001 (any parser failure is malformed input, never a 5xx)
        raise GuardError(f"malformed MIME: {type(exc).__name__}", 422) from None
    depth = mime_depth(msg)
    if depth > max_depth:
        raise GuardError(f"malformed MIME: parts nested {depth} deep, deeper than guard.max_mime_depth={max_depth}",
                         422)
    defects = {type(d).__name__ for part in _parts(msg) for d in part.defects} & FATAL_DEFECTS
    if not msg.keys():
        defects.add("no header fields")
    if defects:
        raise GuardError(f"malformed MIME: {', '.join(sorted(defects))}", 422)
    return msg


def _parts(msg: Message) -> list[Message]:
    """Every part of ``msg``, without recursion."""
    out, stack = [], [msg]
    while stack:
        part = stack.pop()
        out.append(part)
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
    return out


def build_message(sender: str, recipients: list[str], subject: str, body: str, now: datetime) -> bytes:
    """A plain-text message with From, To, Subject, Date (MIME 1.0, UTF-8).

    Header fields come from ``header_line`` (email header objects); addresses are the
    validated addr-specs, the subject has its line breaks turned into spaces.
    Built as bytes: a full ``EmailMessage`` costs ~1 ms per message in header objects.
    """
    text = crlf(body.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")  # no bare CR or LF
    if not text.endswith("\r\n"):
        text += "\r\n"
    if text.isascii() and all(len(line) <= 998 for line in text.split("\r\n")):
        cte, payload = "7bit", text.encode("ascii")
    else:
        cte, payload = "base64", base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")
    subject_text = " ".join(subject.split()) if subject else ""
    fields = [("From", sender), ("To", ", ".join(recipients)), ("Subject", subject_text),
              ("Date", email.utils.format_datetime(require_aware(now))), ("MIME-Version", "1.0"),
              ("Content-Type", 'text/plain; charset="utf-8"'), ("Content-Transfer-Encoding", cte)]
    return b"".join(header_line(k, v) for k, v in fields) + b"\r\n" + payload


def plan(directory: Directory, policy: GuardPolicy, recipients: list[str], now: datetime) -> list[NewDelivery]:
    """One NewDelivery per distinct valid recipient; GuardError 422 (invalid address, too many),
    403 (domain not relayed) or 404 (unknown recipient)."""
    now = require_aware(now)
    now_ms = to_ms(now)
    rows: list[NewDelivery] = []
    seen: set[str] = set()
    listed = list(dict.fromkeys(recipients))  # exact repeats cost nothing
    if len(listed) > 10 * policy.max_recipients:  # spellings of one address are each validated
        raise GuardError(f"more than {10 * policy.max_recipients} different addresses listed "
                         f"(10 x guard.max_recipients={policy.max_recipients})", 422)
    for text in listed:
        rcpt = valid_address(text, "recipient")
        key = rcpt.lower()
        if key in seen:
            continue
        seen.add(key)
        if len(seen) > policy.max_recipients:
            raise GuardError(f"more than guard.max_recipients={policy.max_recipients} recipients in one message", 422)
        sched = directory.lookup(rcpt)
        window_ms = to_ms(next_window(sched, now))
        mode = policy.mode_for(sched.jurisdiction)
        due_ms = window_ms if mode == "hold" else now_ms
        rows.append(NewDelivery(recipient=rcpt, tz=sched.tz, mode=mode, due_ms=due_ms, window_ms=window_ms))
    if not rows:
        raise GuardError("no recipients", 422)
    return rows


def check_authors(msg: Message, may_author: Callable[[str], bool]) -> None:
    """GuardError(403) unless every From:/Sender: mailbox, and every address written in
    their display names or comments, passes ``may_author``."""
    for addr in author_addresses(msg):
        if not may_author(addr):
            raise GuardError(f"From: <{addr}> is not the authenticated sender or one of its aliases", 403)
    for addr in display_name_addresses(msg):
        if not may_author(addr):
            raise GuardError(f"From:/Sender: a display name or comment names {addr}, not the authenticated "
                             "sender or one of its aliases", 403)


def prepare(directory: Directory, policy: GuardPolicy, sender: str, recipients: list[str], now: datetime, *,
            raw: bytes | None = None, subject: str | None = None, body: str | None = None,
            may_author: Callable[[str], bool] | None = None) -> Prepared:
    """Validate and plan a message given as raw MIME or as subject + body.

    ``may_author`` (the SMTP and HTTP fronts pass one) says whether an address may appear
    in From:/Sender:; a raw message without From: gets the envelope sender's. Bcc and
    Resent-Bcc fields are removed before the message is stored.
    """
    sender = valid_address(sender, "sender")
    rows = plan(directory, policy, recipients, now)
    batch = uuid.uuid4().hex
    added: list[tuple[str, str]] = []
    if raw is None:
        if body is None:
            raise GuardError("give either body or raw", 422)
        raw = build_message(sender, [r.recipient for r in rows], subject or "", body, now)
        if len(raw) > policy.max_message_bytes:
            parse_mime(raw, policy.max_message_bytes)  # raises the 413
        message_id, has_date = "", True
    else:
        raw = crlf(raw)  # no bare CR or LF reaches the upstream (SMTP smuggling)
        msg = parse_mime(raw, policy.max_message_bytes, policy.max_mime_depth)
        if may_author is not None:
            check_authors(msg, may_author)
        if msg.get("From") is None:
            added.append(("From", sender))
        raw, dropped = drop_fields(raw, HIDDEN_FIELDS)
        if dropped:
            log.info("batch %s: %d Bcc field(s) removed before relay", batch, dropped)
        message_id, has_date = " ".join(str(msg.get("Message-ID") or "").split()), msg.get("Date") is not None
    if not message_id:
        message_id = f"<{batch}@worklife-guard>"
        added.append(("Message-ID", message_id))
    if not has_date:
        added.append(("Date", email.utils.format_datetime(require_aware(now))))
    return Prepared(sender=sender, raw=prepend_headers(raw, added), message_id=message_id, rows=rows, batch=batch)


def store(queue: Queue, p: Prepared, now: datetime, idempotency_key: str | None = None, via: str = "library",
          identity: str | None = None) -> Any:
    """Queue.add for a Prepared message; a future -> (ids, replayed) resolving after COMMIT."""
    return queue.add(p.sender, p.raw, p.rows, to_ms(now), idempotency_key=idempotency_key, via=via, batch=p.batch,
                     identity=identity)


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
