"""Whose export is this: the owner of a mailbox or calendar, inferred from its content.

    guess = infer_owner(Path("mail/"), "maildir", ctx)   # Owner("alice@example.com", "…") or None

Rules (docs/ingest.md, "Bring your own data"):

- mailbox (Maildir, mbox): the address most inbox messages are delivered to
  (``Delivered-To``/``X-Original-To``, else To/Cc/Bcc; mailing-list addresses from
  ``List-Post`` are not owners), when it is on at least ``INBOX_MIN_SHARE`` of them;
  else the sender of at least half of the sent-folder messages;
- calendar (one .ics file): the file name when it is a known address, an address in
  ``X-WR-CALNAME``, else the attendee/organizer on at least half of the events that
  list people;
- ``--owner`` always wins. Nothing is guessed when no rule is met: the caller says so.

Only headers are read, and at most ``SAMPLE`` messages per folder kind.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from worklife.ingest.base import IngestContext
from worklife.ingest.mail import SENT_FOLDER, header_addresses, read_header_file, split_header_fields
from worklife.store import Store

log = logging.getLogger(__name__)

SAMPLE = 2000  # messages read per folder kind (inbox, sent) to infer an owner
INBOX_MIN_SHARE = 0.3  # the owner is a recipient of at least this share of inbox messages
_INBOX = re.compile(r"(^|[/\\.])inbox$", re.IGNORECASE)
_MAILTO = re.compile(r"mailto:([^>\s,]+)", re.IGNORECASE)
_HEADERS = ("from", "to", "cc", "bcc", "delivered-to", "x-original-to", "list-post", "x-gmail-labels")


@dataclass(frozen=True)
class Owner:
    """An inferred owner: the address and, in words, how it was found."""

    address: str
    how: str


def infer_owner(path: Path, kind: str, ctx: IngestContext) -> Owner | None:
    """The owner of a mailbox or calendar at ``path`` (``--owner`` first); None when unclear."""
    if ctx.owner:
        return Owner(ctx.owner.strip().lower(), "--owner")
    try:
        if kind == "maildir":
            return _mailbox_owner(*_maildir_samples(path))
        if kind == "mbox":
            return _mailbox_owner(*_mbox_samples(path))
        if kind == "ics" and path.is_file():
            return calendar_scan(path).owner(ctx)
    except OSError as exc:  # the adapter reports unreadable files; no guess then
        log.debug("owner of %s not inferred: %s", path, exc)
    return None


# -- mailboxes ---------------------------------------------------------------------------

Headers = dict[str, list[str]]


def _fields(data: bytes) -> Headers:
    """The few headers owner inference reads, lower-cased names."""
    from worklife.ingest.mail import HEADER_PARSER

    fields = split_header_fields(data)
    if fields is None:
        try:
            fields = list(HEADER_PARSER.parsebytes(data).raw_items())
        except Exception:  # noqa: BLE001 - a header the stdlib cannot read is no evidence
            return {}
    out: Headers = {}
    for name, value in fields:
        n = name.lower()
        if n in _HEADERS:
            out.setdefault(n, []).append(value)
    return out


def _maildir_samples(path: Path) -> tuple[list[Headers], list[Headers]]:
    """Headers of up to SAMPLE inbox messages and SAMPLE sent-folder messages of a Maildir.

    The inbox is a folder named inbox, or the Maildir's own cur/new (Maildir++).
    """
    from worklife.ingest.maildir import message_files

    inbox: list[Headers] = []
    sent: list[Headers] = []
    for file, folder in message_files(str(path)):
        name = folder.rstrip("/")
        target = sent if SENT_FOLDER.search(name) else inbox if (not name or _INBOX.search(name)) else None
        if target is None or len(target) >= SAMPLE:
            if len(inbox) >= SAMPLE and len(sent) >= SAMPLE:
                break
            continue
        try:
            target.append(_fields(read_header_file(file)))
        except OSError:
            continue
    return inbox, sent


def _mbox_samples(path: Path) -> tuple[list[Headers], list[Headers]]:
    """Headers of the first messages of an mbox: Gmail labels say inbox or sent; a file
    named like a sent folder is all sent; otherwise every message counts as inbox."""
    inbox: list[Headers] = []
    sent: list[Headers] = []
    all_sent = bool(SENT_FOLDER.search(path.stem))
    for data in _mbox_header_blocks(path, 2 * SAMPLE):
        h = _fields(data)
        labels = ",".join(h.get("x-gmail-labels", [])).lower()
        is_sent = all_sent or "sent" in [x.strip() for x in labels.split(",")]
        (sent if is_sent else inbox).append(h)
    return inbox, sent


def _mbox_header_blocks(path: Path, limit: int) -> Iterator[bytes]:
    """Header blocks of the first ``limit`` messages of an mbox file (streamed by line)."""
    with path.open("rb") as fh:
        block: list[bytes] | None = None
        previous_blank = True
        n = 0
        for line in fh:
            if line.startswith(b"From ") and previous_blank:
                block = []
                previous_blank = False
                continue
            blank = not line.strip()
            if block is not None:
                if blank:
                    yield b"".join(block)
                    n += 1
                    block = None
                    if n >= limit:
                        return
                else:
                    block.append(line)
            previous_blank = blank


def _list_addresses(samples: list[Headers]) -> set[str]:
    """Mailing-list addresses named by ``List-Post`` anywhere in the sample."""
    out = set()
    for h in samples:
        for v in h.get("list-post", []):
            out.update(a.lower() for a in _MAILTO.findall(v))
    return out


def _mailbox_owner(inbox: list[Headers], sent: list[Headers]) -> Owner | None:
    """The inbox delivery rule, else the sent-folder rule (see the module docstring)."""
    lists = _list_addresses(inbox + sent)
    counts: Counter[str] = Counter()
    for h in inbox:
        delivered = h.get("delivered-to", []) + h.get("x-original-to", [])
        values = delivered or (h.get("to", []) + h.get("cc", []) + h.get("bcc", []))
        counts.update({a for a, _ in header_addresses(values)} - lists)
    top = counts.most_common(2)
    if top and top[0][1] >= INBOX_MIN_SHARE * len(inbox) and (len(top) == 1 or top[0][1] > top[1][1]):
        return Owner(top[0][0], f"the address most inbox messages are delivered to "
                                f"({top[0][1]:,} of {len(inbox):,} read)")
    senders: Counter[str] = Counter()
    for h in sent:
        frm = header_addresses(h.get("from"))
        if frm:
            senders[frm[0][0]] += 1
    if senders:
        best, n = senders.most_common(1)[0]
        if 2 * n >= sum(senders.values()):
            return Owner(best, f"the sender of most sent-folder messages ({n:,} of {sum(senders.values()):,} read)")
    return None


# -- calendars ---------------------------------------------------------------------------


@dataclass
class CalendarScan:
    """What a line scan of one .ics file tells about people: no parsing of events."""

    path: Path
    calname: str | None = None
    wr_timezone: str | None = None
    events_with_people: int = 0
    people: Counter[str] = field(default_factory=Counter)  # address -> events listing it
    organised_tzids: dict[str, Counter[str]] = field(default_factory=dict)  # organizer -> TZID -> events

    def owner(self, ctx: IngestContext) -> Owner | None:
        """File name, X-WR-CALNAME, else the person on at least half of the events with people."""
        stem = self.path.stem.strip().lower()
        if stem in ctx.aliases:
            return Owner(stem, "the file name")
        if self.calname and "@" in self.calname and " " not in self.calname.strip():
            return Owner(self.calname.strip().lower().removeprefix("mailto:"), "X-WR-CALNAME")
        top = self.people.most_common(2)
        n = self.events_with_people
        if top and n >= 2 and 2 * top[0][1] >= n and (len(top) == 1 or top[0][1] > top[1][1]):
            return Owner(top[0][0], f"the most frequent attendee/organizer ({top[0][1]:,} of "
                                    f"{self.events_with_people:,} events with people)")
        return None


_TZID = re.compile(r';TZID=("?)([^;:"]+)\1', re.IGNORECASE)
_LINE = re.compile(r"^(BEGIN:VEVENT|END:VEVENT|ATTENDEE|ORGANIZER|DTSTART)([^\r\n]*)",
                   re.MULTILINE | re.IGNORECASE)
_X_WR = re.compile(r"^X-WR-(CALNAME|TIMEZONE)[^:\r\n]*:([^\r\n]*)", re.MULTILINE | re.IGNORECASE)


def _unfold(text: str) -> str:
    """Content lines with folded continuation lines joined (RFC 5545 3.1)."""
    return text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "")


def calendar_scan(path: Path) -> CalendarScan:
    """Scan one .ics file for X-WR-CALNAME, X-WR-TIMEZONE, participants and organisers' TZIDs.

    One regex pass over the unfolded text (no event is parsed): about 20 µs per event.
    """
    scan = CalendarScan(path)
    text = _unfold(path.read_bytes().decode("utf-8", "replace"))
    for m in _X_WR.finditer(text):
        value = m.group(2).strip() or None
        if m.group(1).upper() == "CALNAME":
            scan.calname = scan.calname or value
        else:
            scan.wr_timezone = scan.wr_timezone or value
    people: set[str] = set()
    organizer: str | None = None
    tzid: str | None = None
    inside = False  # within a VEVENT (its VALARMs do not end it)
    for m in _LINE.finditer(text):
        name = m.group(1).upper()
        if name == "BEGIN:VEVENT":
            inside, people, organizer, tzid = True, set(), None, None
        elif name == "END:VEVENT" and inside:
            inside = False
            if people:
                scan.events_with_people += 1
                scan.people.update(people)
            if organizer and tzid:
                scan.organised_tzids.setdefault(organizer, Counter())[tzid] += 1
        elif inside and name == "DTSTART":
            t = _TZID.search(m.group(2).split(":", 1)[0] + ":")
            tzid = t.group(2).strip() if t else None
        elif inside:
            mailto = _MAILTO.search(m.group(2))  # the value's mailto: (parameters hold none)
            if mailto:
                address = mailto.group(1).strip().lower()
                people.add(address)
                if name == "ORGANIZER":
                    organizer = address
    return scan


def calendar_files(path: Path) -> list[Path]:
    """The .ics files of a file or folder, sorted (as the ics adapter reads them)."""
    from worklife.ingest.ics import calendar_files as ics_files

    return list(ics_files(path))


# -- before a source is read ---------------------------------------------------------------

OWNED_KINDS = ("maildir", "mbox", "eml", "ics", "graph")  # exports that belong to one person


def prepare(store: Store, path: Path, kind: str, ctx: IngestContext) -> Owner | None:
    """Before reading ``path``: settle its owner (``ctx.owner``/``ctx.owner_how``), give the
    owner a people row, and for calendars store the zones they show (owner's X-WR-TIMEZONE,
    organisers' TZIDs) so floating times are read in the owner's zone."""
    from worklife.ingest import people_infer

    if kind not in OWNED_KINDS:
        return None
    guess = infer_owner(path, kind, ctx) if kind != "graph" else (
        Owner(ctx.owner.strip().lower(), "--owner") if ctx.owner else None)
    if guess is not None:
        ctx.owner, ctx.owner_how = guess.address, guess.how
        people_infer.record_owner(store, ctx.person_id(guess.address) or guess.address, guess.address, str(path))
    if kind == "ics":
        _calendar_evidence(store, path, ctx, guess)
    return guess


def _calendar_evidence(store: Store, path: Path, ctx: IngestContext, guess: Owner | None) -> None:
    from worklife.ingest import people_infer

    domains = [d.lower().lstrip("@") for d in (ctx.config.get("ingest.internal_domains") or [])]
    owner_zones: dict[str, str] = {}
    organiser_zones: dict[str, str] = {}
    for file in calendar_files(path):
        try:
            scan = calendar_scan(file)
        except OSError:
            continue  # the adapter quarantines an unreadable file
        owner = guess if path.is_file() else scan.owner(ctx)
        if owner is not None and owner.how.startswith("the most frequent") and not path.is_file():
            owner = None  # in a folder the adapter names owners by file name or X-WR-CALNAME only
        if owner is not None:
            pid = ctx.person_id(owner.address) or owner.address
            people_infer.record_owner(store, pid, owner.address, str(file))
            if scan.wr_timezone:
                owner_zones[pid] = scan.wr_timezone
            if "@" in owner.address and not domains:
                domains = [owner.address.rsplit("@", 1)[1]]
        for organiser, tzids in scan.organised_tzids.items():
            pid = ctx.person_id(organiser) or organiser
            internal = bool(domains) and organiser.endswith(tuple("@" + d for d in domains))
            people_infer.ensure_person(store, pid, organiser, str(file), internal)
            organiser_zones[pid] = tzids.most_common(1)[0][0]
    people_infer.apply_calendar_zones(store, owner_zones, organiser_zones)
