"""Meetings: which occurrences count for whom, and why the others do not.

A **qualifying meeting occurrence** for person P (docs/metrics.md): status not
cancelled, not show-as free (``transp = 'transparent'``), not all-day, duration in
``(0, meeting_max_hours]``, at least ``meeting_min_people`` distinct attendees
(organizer included, any response), and P attends without declining. Comparisons of
status, transp and response are case-insensitive.

``attendance`` gives one row per (meeting, attendee) with ``reason`` = null when it
qualifies, else the first failing rule in this order: cancelled, free, all-day,
too long (or empty), fewer than N people, declined. ``explain`` shows the reasons;
the metrics keep the null ones. The rule itself is ``worklife.rules.meetings`` (shared
with policy, digest and the report heat-map). Kinds derived from qualifying meetings
(unions): meeting, large (invitees >= large_meeting_invitees), long (duration >
long_meeting_hours), large_long, status (recurring, title matches a status pattern).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from worklife.config import Config
from worklife.metrics.intervals import union_all
from worklife.metrics.localtime import epoch_seconds
from worklife.rules.meetings import REASONS, meeting_rule  # noqa: F401 (REASONS re-exported)


def combined_pattern(patterns: list[str]) -> str:
    """One case-insensitive regex (RE2 and Java compatible) matching any of ``patterns``."""
    return "(?i)(" + "|".join(f"(?:{p})" for p in patterns) + ")"


def meeting_facts(meetings: ir.Table, attendees: ir.Table) -> ir.Table:
    """One row per meeting: its columns plus start_s, end_s, dur_s (UTC epoch seconds)
    and invitees (distinct attendees). The same for every person, so a batched run
    computes it once."""
    n = attendees.group_by("meeting_key").agg(invitees=attendees.person_id.nunique())
    m = meetings.left_join(n, "meeting_key").drop("meeting_key_right")
    m = m.mutate(start_s=epoch_seconds(m.start_utc), end_s=epoch_seconds(m.end_utc),
                 invitees=m.invitees.fill_null(0).cast("int64"))
    return m.mutate(dur_s=m.end_s - m.start_s)


def attendance(facts: ir.Table, attendees: ir.Table, config: Config) -> ir.Table:
    """(meeting_key, person_id, response, start_s, end_s, invitees, title, is_recurring, reason).

    ``facts`` is ``meeting_facts``; ``attendees`` may be any subset of the attendee rows
    (one batch of people): the invitee count comes from ``facts``.
    """
    a = attendees.select("meeting_key", "person_id", response=attendees.response.lower())
    j = a.join(facts, "meeting_key")
    reason = meeting_rule(config).reason_ibis(j)
    return j.select(
        "meeting_key", "person_id", "response", "start_s", "end_s", "invitees", "title",
        "is_recurring", "organizer_id", reason=reason,
    )


def qualifying(att: ir.Table, config: Config) -> ir.Table:
    """Qualifying rows of ``attendance`` with the kind flags is_large, is_long, is_status."""
    t = att.filter(att.reason.isnull())
    long_s = int(round(float(config["metrics.long_meeting_hours"]) * 3600))
    large = t.invitees >= int(config["metrics.large_meeting_invitees"])
    long_ = (t.end_s - t.start_s) > long_s
    pattern = combined_pattern(list(config["metrics.status_title_patterns"]))
    status = t.is_recurring & t.title.fill_null("").re_search(pattern)
    return t.mutate(is_large=large, is_long=long_, is_status=status)


def meeting_kind_intervals(q: ir.Table) -> ir.Table:
    """(person_id, kind, start_s, end_s) for the meeting kinds, before union."""
    base = q.select("person_id", "start_s", "end_s", "is_large", "is_long", "is_status")
    parts = [
        base.select("person_id", "start_s", "end_s", kind=ibis.literal("meeting")),
        base.filter(base.is_large).select("person_id", "start_s", "end_s", kind=ibis.literal("large")),
        base.filter(base.is_long).select("person_id", "start_s", "end_s", kind=ibis.literal("long")),
        base.filter(base.is_large & base.is_long).select(
            "person_id", "start_s", "end_s", kind=ibis.literal("large_long")),
        base.filter(base.is_status).select("person_id", "start_s", "end_s", kind=ibis.literal("status")),
    ]
    return union_all(*parts)
