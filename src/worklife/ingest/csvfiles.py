"""CSV / JSON files with a documented column mapping: people (HR) files and generic activity.

Headers are matched case-insensitively with spaces, dashes and dots read as ``_``, through
``PEOPLE_COLUMNS`` and ``ACTIVITY_COLUMNS`` (docs/ingest.md lists them). A file with
a ``kind`` or ``start``/``sent`` column is an activity file; one with an e-mail or person
id column is a people file.

- people rows are authoritative (they overwrite what mail or Slack inferred), with an
  alias per e-mail and per ``aliases`` entry; managers given by e-mail resolve to their
  person_id after the file is read (``worklife.ingest.resolve_managers``).
- activity rows: ``kind`` meeting (start, end, organizer/sender, attendees) or email/chat
  (sent, sender, recipients, cc); instants need an offset (ISO 8601) or a ``tz`` column.

Each bad row is quarantined with ``file:line`` and the reason; other rows go on.
Files are streamed (CSV, JSON Lines); a ``.json`` array is loaded whole (people files).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from worklife.errors import ConfigError, IngestError
from worklife.ingest.base import Batch, IngestContext, stable_hash, to_utc
from worklife.ingest.limits import DEFAULT as LIMITS
from worklife.ingest.limits import Limits, load_json
from worklife.ingest.mail import repair_text
from worklife.timezones import resolve_zone
from worklife.workcal import parse_hhmm, parse_workdays, split_jurisdiction

log = logging.getLogger(__name__)

KIND = "csv"
SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson")
READS = "people or activity .csv/.tsv/.json/.jsonl"  # in words, for error messages

PEOPLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "person_id": ("person_id", "id", "employee_id", "employee_number", "user_id", "pseudonym"),
    "email": ("email", "e_mail", "mail", "email_address", "primary_email", "work_email", "upn"),
    "display_name": ("display_name", "name", "full_name", "displayname", "employee_name"),
    "manager": ("manager", "manager_email", "manager_id", "manager_email_address", "reports_to",
                "supervisor", "supervisor_email"),
    "team": ("team", "department", "group", "organization", "org", "function", "team_name"),
    "tz": ("tz", "time_zone", "timezone", "zone", "iana_time_zone"),
    "work_start": ("work_start", "working_hours_start", "workday_start", "start_time", "hours_start"),
    "work_end": ("work_end", "working_hours_end", "workday_end", "end_time", "hours_end"),
    "workdays": ("workdays", "work_days", "working_days", "weekdays"),
    "level": ("level", "job_level", "grade", "levelname", "band"),
    "jurisdiction": ("jurisdiction", "country", "country_code", "work_country"),
    "is_internal": ("is_internal", "internal"),
    "aliases": ("aliases", "alias", "other_emails", "alternate_emails", "slack_id", "slack_user_id",
                "git_emails", "github_login"),
}
ACTIVITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("kind", "type", "activity", "activity_type"),
    "id": ("id", "message_id", "event_id", "uid", "key"),
    "start": ("start", "start_time", "start_utc", "starts_at", "begin"),
    "end": ("end", "end_time", "end_utc", "ends_at", "finish"),
    "sent": ("sent", "sent_at", "sent_utc", "date", "time", "timestamp"),
    "sender": ("sender", "from", "organizer", "organiser", "author", "user"),
    "recipients": ("recipients", "to", "attendees", "participants", "members"),
    "cc": ("cc",),
    "subject": ("subject", "title", "summary", "channel", "channel_name"),
    "thread": ("thread", "thread_id", "conversation_id"),
    "tz": ("tz", "time_zone", "timezone"),
    "status": ("status",),
    "is_auto": ("is_auto", "auto", "automated", "bot"),
}
_SPLIT = re.compile(r"[;,\s]+")
_TRUE = {"1", "true", "yes", "y", "t"}


def _norm(header: str) -> str:
    return re.sub(r"[\s\-.]+", "_", header.strip().lower().lstrip("\ufeff"))


def _mapping(headers: list[str], table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """canonical field -> header of the file, for the fields the file has."""
    normed = {_norm(h): h for h in headers}
    out: dict[str, str] = {}
    for field, names in table.items():
        for n in names:
            if n in normed and normed[n] not in out.values():
                out[field] = normed[n]
                break
    return out


def _records(path: Path, limits: Limits = LIMITS) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of a CSV/TSV (streamed), JSON Lines (streamed) or JSON array file."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
        if suffix == ".json" and head.startswith(b"["):
            # streamed item by item: an item nested too deeply is quarantined alone
            from worklife.ingest.outcomes_csv import TooDeepItem, iter_json_items

            i = 0
            try:
                for i, rec in enumerate(iter_json_items(path), 1):
                    yield i, ({"__error__": rec.reason, "__raw__": ""} if isinstance(rec, TooDeepItem) else rec)
            except (IngestError, UnicodeDecodeError) as exc:  # the items before it are kept
                reason = str(exc).removeprefix(f"{path}: ")
                yield i + 1, {"__error__": f"{reason}; the rest of the file is not read", "__raw__": ""}
            return
        with open(path, "rb") as fh:
            for i, raw in enumerate(fh, 1):
                if raw.strip():
                    try:
                        yield i, load_json(raw, limits)
                    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                        yield i, {"__error__": f"not valid JSON: {exc}", "__raw__": raw[:300].decode("utf-8", "replace")}
                    except ValueError as exc:  # over a size or depth limit: this line only
                        yield i, {"__error__": str(exc), "__raw__": raw[:300].decode("utf-8", "replace")}
        return
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        sample = fh.read(8192)
        fh.seek(0)
        delim = delimiter(sample, suffix)
        # fields up to a whole member are read, then a row with a field over
        # ingest.max_field_bytes is quarantined alone (its neighbours are kept)
        csv.field_size_limit(max(csv.field_size_limit(), limits.max_member_bytes))
        reader = csv.DictReader(fh, delimiter=delim)
        try:
            for rec in reader:
                big = max((len(v) for v in rec.values() if isinstance(v, str)), default=0)
                if big > limits.max_field_bytes:
                    yield reader.line_num, {"__error__": f"a field of {big} characters, over ingest.max_field_bytes "
                                            f"({limits.max_field_bytes}); row skipped", "__raw__": ""}
                    continue
                yield reader.line_num, {k: repair_text(v) if isinstance(v, str) else v
                                        for k, v in rec.items() if k is not None}
        except csv.Error as exc:  # the rows before it are kept
            yield reader.line_num, {"__error__": f"malformed CSV: {exc}; the rest of the file is not read",
                                    "__raw__": ""}


def delimiter(sample: str, suffix: str = ".csv") -> str:
    """Tab, semicolon or comma: whichever the first line of ``sample`` holds most of."""
    if suffix == ".tsv":
        return "\t"
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _headers(path: Path) -> list[str]:
    """Keys of the first record that is an object (a JSON array may start with null)."""
    for n, (_, rec) in enumerate(_records(path)):
        if isinstance(rec, dict) and "__error__" not in rec:
            return list(rec.keys())
        if n >= 100:
            break
    return []


def file_kind(path: Path) -> str | None:
    """'activity', 'people' or None, from the headers of the file."""
    try:
        headers = _headers(path)
    except (IngestError, OSError, UnicodeDecodeError):
        return None
    act = _mapping(headers, ACTIVITY_COLUMNS)
    if "kind" in act and ("start" in act or "sent" in act):
        return "activity"
    ppl = _mapping(headers, PEOPLE_COLUMNS)
    if "email" in ppl or ("person_id" in ppl and len(ppl) >= 2):
        return "people"
    return None


def detect(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES and file_kind(path) is not None


def _get(rec: dict[str, Any], mapping: dict[str, str], field: str) -> str | None:
    h = mapping.get(field)
    v = rec.get(h) if h else None
    if v is None:
        return None
    v = str(v).strip() if not isinstance(v, list) else ";".join(str(x) for x in v)
    return v or None


def _people_row(rec: dict[str, Any], m: dict[str, str], ctx: IngestContext, source: str,
                batch: Batch) -> None:
    email = (_get(rec, m, "email") or "").lower() or None
    pid = _get(rec, m, "person_id") or email
    if not pid:
        raise ValueError("no person_id and no email")
    if email and "@" not in email:
        raise ValueError(f"invalid email {email!r}")
    row: dict[str, Any] = {"person_id": pid, "email": email, "source": source, "_authoritative": True}
    for field in ("display_name", "team", "level"):
        if field in m:
            row[field] = _get(rec, m, field)
    if "tz" in m:
        tz = _get(rec, m, "tz")
        row["tz"] = resolve_zone(tz) if tz else None
        if tz and row["tz"] is None:
            raise ValueError(f"unknown time zone {tz!r}")
    for field in ("work_start", "work_end"):
        if field in m:
            v = _get(rec, m, field)
            if v:
                parse_hhmm(v)
            row[field] = v
    if "workdays" in m:
        v = _get(rec, m, "workdays")
        if v:
            parse_workdays(v)
        row["workdays"] = v
    if "jurisdiction" in m:
        v = _get(rec, m, "jurisdiction")
        if v and (not re.fullmatch(r"[A-Za-z]{2}(-[A-Za-z0-9]{1,4})?", v) or not _known_country(v)):
            raise ValueError(f"invalid jurisdiction {v!r}; expected an ISO 3166 code such as FR or CA-ON")
        row["jurisdiction"] = "-".join(x for x in split_jurisdiction(v) if x) if v else None
    if "manager" in m:
        mgr = _get(rec, m, "manager")
        row["manager_id"] = ctx.person_id(mgr) if mgr else None
    row["is_internal"] = (_get(rec, m, "is_internal") or "true").lower() in _TRUE
    batch.add("people", row)
    for alias, kind in [(email, "email"), *((a, "alias") for a in _SPLIT.split(_get(rec, m, "aliases") or ""))]:
        if alias and alias.lower() != pid:  # an address that is the person_id needs no alias
            batch.add("person_aliases", {"alias": alias.lower(), "person_id": pid, "kind": kind,
                                         "source": source, "_authoritative": True})
    if email:
        ctx.aliases[email] = pid


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    import holidays

    return frozenset(k for k in holidays.list_supported_countries() if len(k) == 2) | {"EU"}


def _known_country(code: str) -> bool:
    """Whether the country part of a jurisdiction is an ISO 3166 country (or EU) worklife knows."""
    return code.split("-", 1)[0].upper() in _countries()


def _instant(text: str | None, tz: str | None, what: str) -> datetime:
    if not text:
        raise ValueError(f"no {what} time")
    t = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"invalid {what} time {text!r}; expected ISO 8601") from None
    if dt.tzinfo is None:
        zone = resolve_zone(tz) if tz else None
        if zone is None:
            raise ValueError(f"{what} time {text!r} has no UTC offset and the row no valid tz")
        dt = dt.replace(tzinfo=ZoneInfo(zone))
    return dt


def _activity_row(rec: dict[str, Any], m: dict[str, str], ctx: IngestContext, source: str,
                  where: str, batch: Batch) -> None:
    kind = (_get(rec, m, "kind") or "").lower()
    tz = _get(rec, m, "tz")
    sender = ctx.person_id(_get(rec, m, "sender"))
    to = [ctx.person_id(a) for a in _SPLIT.split(_get(rec, m, "recipients") or "") if a]
    cc = [ctx.person_id(a) for a in _SPLIT.split(_get(rec, m, "cc") or "") if a]
    subject = _get(rec, m, "subject")
    rid = _get(rec, m, "id")
    if kind == "meeting":
        start = to_utc(_instant(_get(rec, m, "start"), tz, "start"))
        end = to_utc(_instant(_get(rec, m, "end"), tz, "end"))
        if end < start:
            raise ValueError("end before start")
        key = f"csv:{rid}" if rid else "csv:" + stable_hash(start, end, sender, subject)
        batch.add("meetings", {
            "meeting_key": key, "uid": rid or key, "recurrence_id": "", "start_utc": start, "end_utc": end,
            "all_day": False, "status": (_get(rec, m, "status") or "confirmed").lower(), "transp": "opaque",
            "organizer_id": sender, "title": subject, "is_recurring": False, "series_id": None,
            "source": source, "source_ref": where})
        if sender:
            batch.add("meeting_attendees", {"meeting_key": key, "person_id": sender, "response": "organizer",
                                            "is_organizer": True, "source": source})
        for p in to + cc:
            if p and p != sender:
                batch.add("meeting_attendees", {"meeting_key": key, "person_id": p,
                                                "response": "needs-action", "is_organizer": False,
                                                "source": source})
    elif kind in ("email", "chat"):
        sent = to_utc(_instant(_get(rec, m, "sent") or _get(rec, m, "start"), tz, "sent"))
        key = rid or "h:" + stable_hash(sent.isoformat(), sender, ",".join(sorted(p or "" for p in to + cc)), subject)
        batch.add("messages", {
            "message_key": key, "message_id": rid, "channel": kind, "sender_id": sender, "sent_utc": sent,
            "thread_id": _get(rec, m, "thread") or key, "in_reply_to": None, "subject_or_channel": subject,
            "is_auto": (_get(rec, m, "is_auto") or "").lower() in _TRUE, "source": source,
            "source_ref": where})
        for p, k in [(p, "to") for p in to] + [(p, "cc") for p in cc]:
            if p:
                batch.add("message_recipients", {"message_key": key, "person_id": p, "kind": k})
    else:
        raise ValueError(f"unknown kind {kind!r}; expected meeting, email or chat")


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Yield batches of people (authoritative) or activity rows; bad rows are quarantined."""
    if not path.is_file():
        raise IngestError("not a file", source=str(path))
    if path.stat().st_size == 0:
        raise IngestError("empty file", source=str(path))
    fk = file_kind(path)
    if fk is None:
        raise IngestError("neither a people file (email or person_id column) nor an activity file "
                          f"(kind and start/sent columns){_delimiter_hint(path)}; see docs/ingest.md",
                          source=str(path))
    headers = _headers(path)
    mapping = _mapping(headers, PEOPLE_COLUMNS if fk == "people" else ACTIVITY_COLUMNS)
    batch = Batch()
    if path.suffix.lower() in (".csv", ".tsv"):
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            delim = delimiter(fh.read(8192), path.suffix.lower())
        if delim != ",":
            batch.notes.append(f"{path}: read as {'tab' if delim == chr(9) else repr(delim)}-delimited")
    for line, rec in _records(path, Limits.from_config(ctx.config)):
        where = f"{path}:{line}"
        batch.read += 1
        if not isinstance(rec, dict) or "__error__" in rec:
            batch.reject(where, rec.get("__error__", "not an object") if isinstance(rec, dict) else "not an object",
                         str(rec.get("__raw__", rec) if isinstance(rec, dict) else rec))
            continue
        try:
            if fk == "people":
                _people_row(rec, mapping, ctx, str(path), batch)
            else:
                _activity_row(rec, mapping, ctx, str(path), where, batch)
        except (ValueError, ConfigError, OverflowError, TypeError) as exc:
            batch.reject(where, str(exc), json.dumps(rec, default=str, ensure_ascii=False)[:1000])
        if batch.read >= ctx.batch_size:
            yield batch
            batch = Batch()
    yield batch


def _delimiter_hint(path: Path) -> str:
    """' (the header looks ;-delimited ...)' when another separator than the one used may fit."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline(65536)
    except OSError:
        return ""
    for d, name in (("|", "'|'"), (";", "';'"), ("\t", "tab")):
        if first.count(d) > first.count(","):
            return f" (the header looks {name}-delimited; save the file comma-separated)"
    return ""
