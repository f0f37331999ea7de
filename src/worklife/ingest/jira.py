"""Jira issues, from the REST search API's JSON or from Jira's CSV export.

JSON: ``{"issues": [{"key", "self", "fields": {"summary", "status": {"name",
"statusCategory": {"key"}}, "assignee", "reporter", "created", "updated",
"resolutiondate", "labels", "project"}}]}`` as saved from ``/rest/api/2/search``,
``/rest/api/3/search`` or ``/rest/api/3/search/jql`` (several pages: one file each).
CSV: Jira's "Export > CSV (all fields / current fields)" with its usual headers
``Issue key, Summary, Status, Assignee, Reporter, Created, Updated, Resolved`` and, when
present, ``Assignee Id``, ``Reporter Id``, ``Status Category``, ``Project key``, ``Parent``
/ ``Parent summary`` (or ``Epic Link`` / ``Epic Name``) and the repeated ``Labels`` columns.

``project`` is the project key, or ``KEY › Epic summary (KEY-7)`` for an issue inside an
epic (JSON: ``fields.parent`` of issue type Epic), so the digest groups by epic. CSV dates are wall-clock times in the exporting user's
zone (``digest.jira_csv_tz``, default ``defaults.tz``), e.g. ``16/Nov/26 2:03 PM``.

Rows written to ``outcomes`` per issue (``ref`` = issue key, ``project`` = project key,
``url`` = ``<site>/browse/<key>`` when the JSON says which site, ``state`` = ``closed``
(status category done, or resolved), ``blocked`` (status or label matches
``digest.blocked_patterns``) or ``open``): ``task_opened`` (reporter, created),
``task_closed`` (assignee, else reporter, at the resolution date) and ``task_updated``
(assignee, else reporter, at updated: the last activity).

With the changelog (``expand=changelog``: ``changelog.histories[].items[]`` with ``field``
``status``), each status change is a row too, credited to its author at its time:
``task_closed`` (to Done, Closed or Resolved), ``task_reopened`` (from one of those to
another status) or ``task_moved`` (any other change); keyed by the history id, so several
closes and reopens of one issue each count.

People: ``emailAddress`` when Jira shows it, else the alias ``jira:<accountId>``, else
``jira:<display name>`` (aliases CSV, see ``outcomes_csv``).
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext
from worklife.ingest.outcomes_csv import (
    is_blocked,
    iter_json_items,
    outcome_row,
    parse_instant,
    resolve_actor,
    sniff,
)
from worklife.timezones import resolve_zone

log = logging.getLogger(__name__)

KIND = "jira"
SUFFIXES = (".json", ".csv")
READS = "Jira issues .json or .csv"  # in words, for error messages

CSV_REQUIRED = ("issue key", "summary", "status", "created")
DONE_STATUSES = {"done", "closed", "resolved"}
CSV_DATE_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
                    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M")


def detect(path: Path) -> bool:
    """A .json search result (issues with fields) or a .csv with Jira's export headers."""
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    if suffix == ".json":
        return bool(sniff(path, ('"issues"', '"fields"', '"key"')))
    if suffix == ".csv":
        return set(CSV_REQUIRED) <= set(_csv_header(path))
    return False


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Stream issues; unreadable ones are quarantined as ``file#KEY`` or ``file:line``."""
    rows = _read_csv(path, ctx) if path.suffix.lower() == ".csv" else _read_json(path, ctx)
    batch = Batch()
    for where, result, excerpt in rows:
        batch.read += 1
        if isinstance(result, Exception):
            batch.reject(where, f"unreadable Jira issue: {result}", excerpt)
        else:
            for row in result:
                batch.add("outcomes", row)
        if len(batch) >= ctx.batch_size:
            yield batch
            batch = Batch()
    if batch.read:
        yield batch


def _person(user: Any) -> list[tuple[str, str | None]]:
    if not isinstance(user, dict):
        return []
    return [("email", user.get("emailAddress")), ("jira", user.get("accountId")),
            ("jira", user.get("name")), ("jira", user.get("displayName"))]


def _actor(cands: list[tuple[str, str | None]]) -> str | None:
    """The source's own identity for the natural key: accountId, else e-mail, else name."""
    by_kind = [v for k, v in cands if k == "jira" and v] + [v for k, v in cands if k == "email" and v]
    return str(by_kind[0]) if by_kind else None


def _issue_rows(
    ctx: IngestContext, *, key: str, summary: str, status: str, category: str | None,
    labels: list[str], created: datetime, updated: datetime | None, resolved: datetime | None,
    assignee: list[tuple[str, str | None]], reporter: list[tuple[str, str | None]],
    project: str | None, url: str | None, source_ref: str,
) -> list[dict]:
    done = (category or "").lower() == "done" or status.lower() in DONE_STATUSES or resolved is not None
    if done:
        state = "closed"
    elif is_blocked([status, *labels], ctx.config["digest.blocked_patterns"]):
        state = "blocked"
    else:
        state = "open"
    common = {"ref": key, "title": summary, "state": state, "url": url, "project": project,
                  "source": "jira", "source_ref": source_ref}
    rows = []
    owner = assignee if _actor(assignee) else reporter
    if _actor(reporter):
        rows.append(outcome_row(kind="task_opened", actor=_actor(reporter), at=created,  # type: ignore[arg-type]
                                person_id=resolve_actor(ctx, *reporter), **common))  # type: ignore[arg-type]
    if _actor(owner):
        if done:
            rows.append(outcome_row(kind="task_closed", actor=_actor(owner), at=resolved or updated or created,  # type: ignore[arg-type]
                                    person_id=resolve_actor(ctx, *owner), **common))  # type: ignore[arg-type]
        rows.append(outcome_row(kind="task_updated", actor=_actor(owner), at=updated or created,  # type: ignore[arg-type]
                                person_id=resolve_actor(ctx, *owner), **common))  # type: ignore[arg-type]
    return rows


def with_epic(project: str, epic_key: str | None, epic_summary: str | None) -> str:
    """The group an issue is listed under: ``PLAT``, or ``PLAT › Epic summary (PLAT-7)`` inside an epic."""
    if not epic_key and not epic_summary:
        return project
    if epic_summary and epic_key:
        return f"{project} › {epic_summary} ({epic_key})"
    return f"{project} › {epic_summary or epic_key}"


def _epic(fields: dict[str, Any]) -> tuple[str | None, str | None]:
    """The parent epic's key and summary (``fields.parent`` of issue type Epic or hierarchy level 1)."""
    parent = fields.get("parent")
    if not isinstance(parent, dict):
        return None, None
    pf: dict[str, Any] = parent["fields"] if isinstance(parent.get("fields"), dict) else {}
    kind: dict[str, Any] = pf["issuetype"] if isinstance(pf.get("issuetype"), dict) else {}
    if str(kind.get("name") or "").lower() != "epic" and kind.get("hierarchyLevel") != 1:
        return None, None  # a sub-task's parent is a story, not a grouping
    return parent.get("key"), pf.get("summary")


# -- JSON ---------------------------------------------------------------------------------
def _read_json(path: Path, ctx: IngestContext) -> Iterator[tuple[str, Any, str]]:
    for i, issue in enumerate(iter_json_items(path, keys=("issues",))):
        key = issue.get("key") if isinstance(issue, dict) else None
        where = f"{path}#{key or i}"
        try:
            if not isinstance(issue, dict) or not key:
                raise ValueError(getattr(issue, "reason", "not an issue object with a key"))
            f = issue.get("fields")
            if not isinstance(f, dict):
                raise ValueError("no fields")
            status = f.get("status") or {}
            created = parse_instant(f.get("created"))
            if created is None:
                raise ValueError("missing fields.created")
            summary = f.get("summary")
            if not isinstance(summary, str):
                raise ValueError("missing fields.summary")
            m = re.match(r"(https?://[^/]+)/", str(issue.get("self") or ""))
            project = with_epic((f.get("project") or {}).get("key") or key.rsplit("-", 1)[0], *_epic(f))
            common = {"key": key, "summary": summary, "project": project,
                      "url": f"{m.group(1)}/browse/{key}" if m else None, "source_ref": f"{path.name}#{key}"}
            rows = _issue_rows(
                ctx, key=key, summary=summary, status=str(status.get("name") or ""),
                category=(status.get("statusCategory") or {}).get("key"),
                labels=[str(x) for x in f.get("labels") or []], created=created,
                updated=parse_instant(f.get("updated")), resolved=parse_instant(f.get("resolutiondate")),
                assignee=_person(f.get("assignee")),
                reporter=_person(f.get("reporter")) or _person(f.get("creator")),
                project=project,
                url=f"{m.group(1)}/browse/{key}" if m else None, source_ref=f"{path.name}#{key}",
            )
            state = rows[0]["state"] if rows else None
            yield where, rows + _transitions(ctx, issue.get("changelog"), state, **common), ""
        except (ValueError, TypeError, AttributeError) as exc:
            yield where, exc, str(issue)[:300]


def _transitions(ctx: IngestContext, changelog: Any, state: str | None, *, key: str, summary: str,
                 project: str | None, url: str | None, source_ref: str) -> list[dict]:
    """Status changes from an expanded changelog; ValueError when one cannot be read."""
    if not isinstance(changelog, dict):
        return []
    rows = []
    for h in changelog.get("histories") or []:
        if not isinstance(h, dict):
            raise TypeError("changelog history is not an object")
        for item in h.get("items") or []:
            if not isinstance(item, dict) or str(item.get("field") or "").lower() != "status":
                continue
            at = parse_instant(h.get("created"))
            if at is None:
                raise ValueError(f"changelog history {h.get('id')!r} has no created time")
            was = str(item.get("fromString") or "").lower()
            now = str(item.get("toString") or "").lower()
            kind = ("task_closed" if now in DONE_STATUSES else
                    "task_reopened" if was in DONE_STATUSES else "task_moved")
            author = _person(h.get("author"))
            actor = _actor(author) or "unknown"
            rows.append(outcome_row(
                kind=kind, ref=key, actor=f"{actor}@{h.get('id')}", at=at, title=summary, state=state, url=url,
                project=project, source="jira", source_ref=f"{source_ref}/changelog/{h.get('id')}",
                person_id=resolve_actor(ctx, *author)))
    return rows


# -- CSV ----------------------------------------------------------------------------------
def _csv_header(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            return [c.strip().lower() for c in next(csv.reader(f), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _csv_zone(ctx: IngestContext) -> ZoneInfo:
    name = ctx.config["digest.jira_csv_tz"] or ctx.config["defaults.tz"]
    zone = resolve_zone(name)
    if zone is None:
        raise IngestError(f"digest.jira_csv_tz: unknown time zone {name!r}")
    return ZoneInfo(zone)


def parse_csv_date(text: str, zone: ZoneInfo) -> datetime | None:
    """A Jira CSV date (wall clock in ``zone``, or ISO with an offset) -> aware UTC."""
    s = (text or "").strip()
    if not s:
        return None
    if "T" in s or re.search(r"[+-]\d\d:?\d\d$|Z$", s):
        try:
            return parse_instant(s)
        except ValueError:
            pass
    for fmt in CSV_DATE_FORMATS:
        try:
            local = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=zone).astimezone(UTC)
    raise ValueError(f"unreadable date {s!r} (expected e.g. 16/Nov/26 2:03 PM)")


def _read_csv(path: Path, ctx: IngestContext) -> Iterator[tuple[str, Any, str]]:
    zone = _csv_zone(ctx)
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [c.strip().lower() for c in next(reader, [])]
        if not set(CSV_REQUIRED) <= set(header):
            raise IngestError(f"not a Jira CSV export (needs {', '.join(CSV_REQUIRED)})", source=str(path))
        first: dict[str, int] = {}
        for i, name in enumerate(header):
            first.setdefault(name, i)
        label_cols = [i for i, name in enumerate(header) if name == "labels"]

        def cell(cells: list[str], name: str) -> str:
            i = first.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        for cells in reader:
            line = reader.line_num
            where = f"{path}:{line}"
            if not any(c.strip() for c in cells):
                continue
            try:
                key = cell(cells, "issue key")
                if not key:
                    raise ValueError("empty Issue key")
                created = parse_csv_date(cell(cells, "created"), zone)
                if created is None:
                    raise ValueError("empty Created")
                yield where, _issue_rows(
                    ctx, key=key, summary=cell(cells, "summary"), status=cell(cells, "status"),
                    category=cell(cells, "status category") or None,
                    labels=[cells[i] for i in label_cols if i < len(cells) and cells[i].strip()],
                    created=created, updated=parse_csv_date(cell(cells, "updated"), zone),
                    resolved=parse_csv_date(cell(cells, "resolved"), zone),
                    assignee=[("jira", cell(cells, "assignee id")), ("jira", cell(cells, "assignee"))],
                    reporter=[("jira", cell(cells, "reporter id")), ("jira", cell(cells, "reporter"))],
                    project=with_epic(cell(cells, "project key") or key.rsplit("-", 1)[0],
                                      cell(cells, "parent") or cell(cells, "epic link") or None,
                                      cell(cells, "parent summary") or cell(cells, "epic name") or None),
                    url=None,
                    source_ref=f"{path.name}:{line}",
                ), ""
            except ValueError as exc:
                yield where, exc, ",".join(cells)[:300]
