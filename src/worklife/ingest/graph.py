"""Microsoft Graph JSON adapter: saved ``calendarView`` and ``messages`` responses.

    GET /me/calendarView?startDateTime=...&endDateTime=...  ->  meetings + attendees
    GET /me/messages?$select=...                             ->  messages + recipients

A file holds one response page (``{"@odata.context": ..., "value": [...]}``) or a bare
``value`` list; a folder holds many pages. The kind is told by content (the
``@odata.context`` URL, else the keys of the first item), never by the extension alone.
calendarView items are occurrences already expanded by Exchange, so nothing is expanded
here. Rules (see docs/ingest-calendar.md):

- meeting_key = ``uid`` (the series-wide iCalendar UID; ``iCalUId`` for single events)
  ``|`` original start in UTC (``originalStart``) for occurrences and exceptions, so a
  meeting matches the same meeting read from an .ics export;
- ``start``/``end`` carry a wall time and a zone (Windows or IANA name, e.g. ``W. Europe
  Standard Time``); all-day events start and end at local midnights in the owner's zone;
- the owner (``--owner``, else ``users('...')`` in ``@odata.context``, else the file
  name) answers with ``responseStatus``: that attendee row is authoritative.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from worklife.ingest._ics_zones import zone
from worklife.ingest.base import Batch, IngestContext, to_utc
from worklife.ingest.limits import Limits, Walk, load_json, walk
from worklife.ingest.mail import normalise_msgid
from worklife.timezones import resolve_zone

log = logging.getLogger(__name__)

KIND = "graph"
SUFFIXES = (".json",)
READS = "Microsoft Graph events/messages .json"  # in words, for error messages
RESPONSE = {"accepted": "accepted", "tentativelyaccepted": "tentative", "declined": "declined",
            "none": "needs-action", "notresponded": "needs-action", "organizer": "organizer"}
ROLE = {"required": "req-participant", "optional": "opt-participant"}
EVENT_KEYS = {"iCalUId", "start", "end", "showAs", "isAllDay", "seriesMasterId"}
MESSAGE_KEYS = {"internetMessageId", "sentDateTime", "toRecipients", "conversationId"}
_USER = re.compile(r"users\('([^']+)'\)")


def _shape(head: dict[str, Any] | list[Any]) -> str | None:
    """'events', 'messages' or None for a parsed response page."""
    context = str(head.get("@odata.context", "")) if isinstance(head, dict) else ""
    if "calendarView" in context or "/events" in context:
        return "events"
    if "/messages" in context or "mailFolders" in context:
        return "messages"
    items = head.get("value") if isinstance(head, dict) else head
    first = next((i for i in items if isinstance(i, dict)), None) if isinstance(items, list) else None
    if first is not None:  # the first object: an array may start with null
        keys = set(first)
        if len(keys & EVENT_KEYS) >= 3:
            return "events"
        if len(keys & MESSAGE_KEYS) >= 2:
            return "messages"
    return None


def _sniff(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    text = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if not text.startswith((b"{", b"[")):
        return False
    if b"@odata.context" in text and (b"calendarView" in text or b"/events" in text or b"messages" in text):
        return True
    return any(k.encode() in text for k in ("iCalUId", "internetMessageId"))


def _files(path: Path, skipped: Walk | None = None) -> list[Path]:
    if path.is_file():
        return [path]
    return [p for p in walk(path, skipped) if p.suffix.lower() == ".json"]


def detect(path: Path) -> bool:
    """A Graph response file, or a folder whose JSON files are Graph responses."""
    if path.is_file():
        return _sniff(path)
    if path.is_dir():
        files = _files(path)[:20]
        return bool(files) and all(_sniff(f) for f in files)
    return False


def _when(value: dict[str, Any] | None, fallback_tz: str) -> datetime:
    """A Graph dateTimeTimeZone as an aware datetime (zone names Windows or IANA)."""
    if not value or "dateTime" not in value:
        raise ValueError("missing dateTime")
    raw = str(value["dateTime"])
    if "." in raw:  # Graph writes 7 fractional digits; Python reads 6
        head, frac = raw.split(".", 1)
        raw = f"{head}.{frac[:6]}"
    dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if dt.tzinfo is not None:
        return dt
    name = str(value.get("timeZone") or fallback_tz)
    iana = resolve_zone(name) or ("UTC" if name.upper() in ("UTC", "GMT") else None)
    if iana is None:
        raise ValueError(f"unknown time zone {name!r}")
    return dt.replace(tzinfo=zone(iana))


def _instant(text: str) -> datetime:
    """A Graph DateTimeOffset string ('2025-03-24T08:00:00Z') as naive UTC."""
    raw = text.strip().replace("Z", "+00:00")
    if "." in raw:
        head, rest = raw.split(".", 1)
        digits = re.match(r"\d*", rest).group(0)  # type: ignore[union-attr]
        raw = f"{head}.{digits[:6]}{rest[len(digits):]}"
    dt = datetime.fromisoformat(raw)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return to_utc(dt)
    except OverflowError:
        raise ValueError(f"instant {text.strip()[:40]!r} is out of range") from None


def _address(obj: Any) -> str | None:
    try:
        value = obj["emailAddress"]["address"]
    except (KeyError, TypeError):
        return None
    return str(value) if value and "@" in str(value) else None


def owner_of(path: Path, page: Any, ctx: IngestContext) -> str | None:
    if ctx.owner:
        return ctx.person_id(ctx.owner)
    match = _USER.search(str(page.get("@odata.context", ""))) if isinstance(page, dict) else None
    if match and "@" in unquote(match.group(1)):
        return ctx.person_id(unquote(match.group(1)))
    stem = path.stem.lower()
    return ctx.aliases.get(stem)


def _event(ev: dict[str, Any], where: str, owner: str | None, owner_tz: str, ctx: IngestContext,
           batch: Batch) -> None:
    kind = str(ev.get("type", "singleInstance"))
    if kind == "seriesMaster":
        batch.notes.append(f"{where}: series master skipped (calendarView lists its occurrences)")
        return
    uid = ev.get("uid") or ev.get("iCalUId") or ev.get("id")
    if not uid:
        raise ValueError("event has no uid, iCalUId or id")
    recurring = kind in ("occurrence", "exception") or bool(ev.get("seriesMasterId"))
    all_day = bool(ev.get("isAllDay"))
    start, end = _when(ev.get("start"), "UTC"), _when(ev.get("end"), "UTC")
    if all_day:  # local midnights in the owner's zone, like all-day .ics events
        oz = zone(owner_tz)
        start = datetime(start.year, start.month, start.day, tzinfo=oz)
        end = datetime(end.year, end.month, end.day, tzinfo=oz)
    rid = ""
    if recurring:
        if not ev.get("uid") and ev.get("seriesMasterId"):
            uid = ev["seriesMasterId"]  # no series-wide UID in this response: Graph's series id
        original = ev.get("originalStart")
        if all_day:  # like an all-day .ics series: the original date, no instant
            rid = (_instant(str(original)).date() if original else start.date()).isoformat()
        else:
            rid = (_instant(str(original)) if original else to_utc(start)).strftime("%Y-%m-%dT%H:%M:%SZ")
    show_as = str(ev.get("showAs") or "busy").lower()
    organizer = ctx.person_id(_address(ev.get("organizer")))
    if ev.get("isOrganizer") and owner:
        organizer = owner
    key = f"{uid}|{rid}"
    batch.add("meetings", {
        "meeting_key": key, "uid": uid, "recurrence_id": rid, "start_utc": to_utc(start),
        "end_utc": to_utc(end), "all_day": all_day,
        "status": "cancelled" if ev.get("isCancelled") else "confirmed",
        "transp": "transparent" if show_as == "free" else "opaque", "show_as": show_as,
        "organizer_id": organizer, "title": ev.get("subject"), "is_recurring": recurring,
        "series_id": uid, "source": where.split("#")[0], "source_ref": f"{where}@{rid}" if rid else where,
        "_authoritative": owner is not None and organizer == owner,
    })
    people: dict[str, tuple[str, str, bool]] = {}
    attendees = ev.get("attendees") if isinstance(ev.get("attendees"), list) else []
    limit = int(ctx.config.get("ingest.max_recipients", 100_000))
    if len(attendees) > limit:
        batch.notes.append(f"{where}: {len(attendees):,} attendees, only the first {limit:,} kept (ingest.max_recipients)")
        attendees = attendees[:limit]
    for att in attendees:
        if not isinstance(att, dict):
            batch.notes.append(f"{where}: an attendee without an e-mail address was skipped")
            continue
        pid = ctx.person_id(_address(att))
        if pid is None:
            batch.notes.append(f"{where}: an attendee without an e-mail address was skipped")
            continue
        if str(att.get("type", "")).lower() == "resource":  # rooms and equipment are not people
            continue
        response = RESPONSE.get(str((att.get("status") or {}).get("response", "none")).lower(), "needs-action")
        people[pid] = (response, ROLE.get(str(att.get("type", "")).lower(), "req-participant"), False)
    if organizer:
        people[organizer] = ("organizer", "chair", True)
    if owner and owner != organizer:
        own = RESPONSE.get(str((ev.get("responseStatus") or {}).get("response", "none")).lower(), "needs-action")
        people[owner] = (own, people.get(owner, ("", "req-participant", False))[1], False)
    for pid, (response, role, is_org) in people.items():
        batch.add("meeting_attendees", {
            "meeting_key": key, "person_id": pid, "response": response, "role": role,
            "is_organizer": is_org, "source": where.split("#")[0], "_authoritative": pid == owner,
        })


def _header(msg: dict[str, Any], name: str) -> str | None:
    for h in msg.get("internetMessageHeaders") or []:
        if isinstance(h, dict) and str(h.get("name", "")).lower() == name.lower():
            return str(h.get("value", ""))
    return None


# Message-IDs in the mail adapters' form (no angle brackets), so the same message read
# from Graph and from an mbox is one row.
message_id = normalise_msgid


def _message(msg: dict[str, Any], where: str, ctx: IngestContext, batch: Batch) -> None:
    if msg.get("isDraft"):
        batch.notes.append(f"{where}: draft skipped")
        return
    sent = msg.get("sentDateTime") or msg.get("receivedDateTime")
    if not sent:
        raise ValueError("message has no sentDateTime")
    sender = ctx.person_id(_address(msg.get("from")) or _address(msg.get("sender")))
    msgid = message_id(msg.get("internetMessageId"))
    key = msgid or f"graph:{msg.get('id')}"
    references = message_id(_header(msg, "References"))  # the thread's first message, when selected
    auto = (_header(msg, "Auto-Submitted") or "no").lower() != "no" or \
        (_header(msg, "Precedence") or "").lower() in ("bulk", "junk", "list", "auto_reply")
    batch.add("messages", {
        "message_key": key, "message_id": msgid, "channel": "email", "sender_id": sender,
        "sent_utc": _instant(str(sent)), "thread_id": references or msg.get("conversationId") or msgid,
        "in_reply_to": message_id(_header(msg, "In-Reply-To")), "subject_or_channel": msg.get("subject"),
        "is_auto": auto, "source": where.split("#")[0], "source_ref": where,
    })
    left = int(ctx.config.get("ingest.max_recipients", 100_000))
    for field, kind in (("toRecipients", "to"), ("ccRecipients", "cc"), ("bccRecipients", "bcc")):
        recipients = msg.get(field) if isinstance(msg.get(field), list) else []
        if len(recipients) > left:
            batch.notes.append(f"{where}: recipients beyond the first {int(ctx.config.get('ingest.max_recipients', 100_000)):,} "
                               "cut (ingest.max_recipients)")
            recipients = recipients[:max(left, 0)]
        left -= len(recipients)
        for r in recipients:
            pid = ctx.person_id(_address(r))
            if pid:
                batch.add("message_recipients", {"message_key": key, "person_id": pid, "kind": kind})


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """One Batch per response page: meetings or messages, bad items quarantined."""
    limits = Limits.from_config(ctx.config)
    skipped = Walk()
    for file in _files(path, skipped):
        batch = Batch()
        try:
            size = file.stat().st_size
            if size > limits.max_member_bytes:
                raise ValueError(f"{size:,} bytes, over ingest.max_member_bytes ({limits.max_member_bytes:,})")
            page = load_json(file.read_bytes(), limits)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            line = getattr(exc, "lineno", 1)
            batch.read = 1
            batch.reject(f"{file}:{line}", f"not a readable Graph JSON response: {exc}")
            yield batch
            continue
        shape = _shape(page)
        items = page.get("value") if isinstance(page, dict) else page
        if shape is None or not isinstance(items, list):
            batch.read = 1
            batch.reject(f"{file}:1", "JSON without a Graph calendarView or messages 'value' list")
            yield batch
            continue
        owner = owner_of(file, page, ctx)
        owner_tz = resolve_zone((ctx.people_tz.get(owner) if owner else None) or ctx.config["defaults.tz"]) or "UTC"
        for i, item in enumerate(items):
            batch.read += 1
            ident = f"value[{i}]"
            if isinstance(item, dict):
                ident = item.get("iCalUId") or item.get("internetMessageId") or item.get("id") or ident
            where = f"{file}#{ident}"
            try:
                if not isinstance(item, dict):
                    raise ValueError("item is not an object")  # noqa: TRY004 - quarantined like any bad item
                if shape == "events":
                    _event(item, where, owner, owner_tz, ctx, batch)
                else:
                    _message(item, where, ctx, batch)
            except (ValueError, OverflowError) as exc:
                batch.reject(where, str(exc) or type(exc).__name__, json.dumps(item)[:500])
            except (TypeError, KeyError, AttributeError):
                batch.reject(where, "a field is null or of the wrong type where Graph writes an object or "
                             "a string (start, end, from, attendees...); item skipped", json.dumps(item)[:500])
            if len(batch.rows["meetings"]) + len(batch.rows["messages"]) >= ctx.batch_size:
                yield batch
                batch = Batch()
        if shape == "events" and items:
            batch.notes.append(f"{file}: calendarView of {owner or 'an unknown owner'}; "
                               f"all-day events in {owner_tz}")
        yield batch
    if skipped.skipped:
        yield Batch(notes=skipped.notes(path))
