"""The last check before a batch is committed, whatever adapter made it.

``guard_batch(batch, limits)`` (called by ``write_batch``):

- quarantines every meeting, message and outcome whose instant lies outside
  ``[ingest.earliest_year, ingest.latest_year]``, with the rows that depend on it
  (attendees, recipients), so no adapter can commit an instant the time-zone tables or
  the metrics cannot handle;
- drops NUL bytes and control characters (C0 and C1) from every stored string;
- cuts titles and subjects longer than ``ingest.max_field_bytes`` characters (noted);
- shortens and redacts every quarantine excerpt (``limits.excerpt``).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

from worklife.ingest.base import Batch
from worklife.ingest.limits import Limits, clean_text, cut_text, excerpt, has_control

# table -> (instant columns, key column, dependant table)
INSTANTS = {
    "meetings": (("start_utc", "end_utc"), "meeting_key", "meeting_attendees"),
    "messages": (("sent_utc",), "message_key", "message_recipients"),
    "outcomes": (("at_utc",), "outcome_key", None),
}
LONG_TEXT = ("title", "subject_or_channel")


def guard_batch(batch: Batch, limits: Limits, source: str = "") -> None:
    """Quarantine out-of-range instants, clean strings, cut long texts, shorten excerpts (in place).

    A record that made several rows (a GitHub issue: opened, updated) is quarantined once.
    """
    seen: set[str] = set()
    for table, (cols, key, dependant) in INSTANTS.items():
        rows = batch.rows.get(table) or []
        bad = [r for r in rows if not all(_ok(r.get(c), limits) for c in cols)]
        if not bad:
            continue
        dropped = {r.get(key) for r in bad}
        batch.rows[table] = [r for r in rows if r.get(key) not in dropped]
        if dependant and batch.rows.get(dependant):
            batch.rows[dependant] = [r for r in batch.rows[dependant] if r.get(key) not in dropped]
        for r in bad:
            value = next(r.get(c) for c in cols if not _ok(r.get(c), limits))
            where = _located(str(r.get("source_ref") or r.get("source") or r.get(key)), source)
            if where not in seen:
                seen.add(where)
                batch.reject(where, limits.instant_reason(value), str(r.get(LONG_TEXT[0]) or r.get(LONG_TEXT[1]) or ""))
    cut: Counter[str] = Counter()
    for table, rows in batch.rows.items():
        for r in rows:
            _clean_row(r, limits.max_field_bytes, cut)
    for column, n in sorted(cut.items()):
        batch.notes.append(f"{n} {column} value(s) longer than {limits.max_field_bytes} characters cut "
                           "(ingest.max_field_bytes)")
    for q in batch.quarantine:
        q.excerpt = excerpt(q.excerpt)
        q.reason = clean_text(q.reason)[:1000]
        q.location = clean_text(q.location)


def _located(where: str, source: str) -> str:
    """A row's reference as a location inside the source (``name#ref`` -> ``/path/name#ref``)."""
    if not source or where.startswith(source):
        return where
    src = Path(source)
    if src.is_file() and where.startswith(src.name):
        return str(src.parent / where)
    return f"{source}#{where}"


def _ok(value: Any, limits: Limits) -> bool:
    if isinstance(value, (datetime, date)):
        return limits.instant_ok(value)
    return True


def _clean_row(row: dict[str, Any], max_chars: int, cut: Counter[str]) -> None:
    values = row.values()
    if all(isinstance(v, str) or v is None or isinstance(v, (bool, int, float, datetime, date)) for v in values):
        text = "\n".join(v for v in values if isinstance(v, str))  # one scan for the common, clean row
        if not has_control(text) and all(len(row.get(k) or "") <= max_chars for k in LONG_TEXT):
            return
    for k, v in row.items():
        if isinstance(v, (dict, list, tuple, set)):  # a JSON object where text belongs: kept as text
            v = row[k] = json.dumps(v, default=str, ensure_ascii=False)
        if isinstance(v, str):
            v2 = clean_text(v)
            if k in LONG_TEXT and len(v2) > max_chars:
                v2, _ = cut_text(v2, max_chars)
                cut[k] += 1
            if v2 is not v:
                row[k] = v2
