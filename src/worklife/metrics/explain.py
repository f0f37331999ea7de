"""Explain one number: the events behind a person-week metric, with every exclusion.

``explain(store, person_id, week, metric=None, config=None) -> Explanation`` runs the
same expression graph as ``compute`` restricted to one person and returns:

- ``schedule``: zone, working hours, workdays, jurisdiction and the defaults used;
- ``values``: the metric row of that person-week (hours);
- ``meetings``: every meeting occurrence of the person near the week, with ``reason``
  (cancelled, free, all-day, too long, fewer than N people, declined) or ``counted``,
  and ``overlap`` when it overlaps another counted meeting (its time counts once);
- ``messages``: e-mail and chat of the person, with exclusions (auto message, bcc);
- ``pieces``: for interval metrics, the union pieces per local date with working and
  after-hours seconds, whose sum is the metric (``total_hours``);
- ``days``: per local date, the contribution of each metric (sums to the week value);
- ``evidence``: the metric row the events above give (the ``days`` rows summed, in hours);
- ``source``: where ``values`` came from (stored results, fresh or stale, or computed now);
- ``differences``: one line per metric whose stored value differs from its evidence
  (stored results stale on a read-only store); empty when they agree, as they must when fresh.

``values`` are the person-week's **stored** result (``worklife.metrics.results``: a
writable store is brought up to date first, as for every reader) — the number that
``metrics``, the report and the exports show; without stored results for that week, the
evidence's own row. The evidence is always recomputed from the events (that is what
explain shows), for this person only, and checked against the stored value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Any

import pandas as pd

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.metrics import METRIC_COLUMNS, finalize_frame, prepare
from worklife.metrics.engine import open_backend
from worklife.metrics.localtime import DAY_S, day_date
from worklife.metrics.pipeline import LONG_NAMES
from worklife.store import Store, as_store

#: metric -> (pieces kind, seconds column) for interval metrics
INTERVAL_METRICS = {
    "meeting_hours": ("meeting", "seconds"), "conflicting_meeting_hours": ("conflict", "seconds"),
    "email_hours": ("email", "seconds"), "chat_hours": ("chat", "seconds"),
    "collaboration_hours": ("collab", "seconds"),
    "after_hours_meeting_hours": ("meeting", "after_s"), "after_hours_email_hours": ("email", "after_s"),
    "after_hours_chat_hours": ("chat", "after_s"),
    "after_hours_collaboration_hours": ("collab", "after_s"),
    "large_meeting_hours": ("large", "seconds"), "long_meeting_hours": ("long", "seconds"),
    "large_and_long_meeting_hours": ("large_long", "seconds"),
    "status_meeting_hours": ("status", "seconds"),
}
#: metric -> long row name giving its per-day contribution
DAY_NAMES = {
    "workweek_span": "span_s", "active_connected_hours": "blocks", "focus_hours": "focus_s",
    "uninterrupted_hours": "uninterrupted_s", "weekend_days_active": "weekend_active",
    "quiet_days": "noisy_day", "over_40h": "span_s", "meetings": "meetings",
    "emails_sent": "emails_sent", "chats_sent": "chats_sent",
}


@dataclass
class Explanation:
    person_id: str
    week: str
    metric: str | None
    schedule: dict[str, Any]
    values: dict[str, Any]
    meetings: pd.DataFrame
    messages: pd.DataFrame
    pieces: pd.DataFrame
    days: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    differences: list[str] = field(default_factory=list)

    @property
    def total_hours(self) -> float | None:
        """Sum of the pieces of an interval metric, in hours (equals ``values[metric]``)."""
        if self.metric not in INTERVAL_METRICS:
            return None
        col = INTERVAL_METRICS[self.metric][1]
        return float(self.pieces[col].sum()) / 3600 if len(self.pieces) else 0.0


WEEK_FORMAT = "bad week format, use YYYY-Www"
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def check_week(week: str) -> str:
    """``week`` normalised (``2025-w3`` is not accepted: ``2025-W03``); ConfigError if malformed.

    Valid: ``YYYY-Www`` with ``ww`` a week that year has (W53 only in long ISO years).
    """
    m = _WEEK_RE.match(week.strip())
    if m is None:
        raise ConfigError(f"{week!r}: {WEEK_FORMAT}")
    year, num = int(m.group(1)), int(m.group(2))
    weeks_in_year = date(year, 12, 28).isocalendar()[1]
    if not 1 <= num <= weeks_in_year:
        raise ConfigError(f"{week!r}: {WEEK_FORMAT} ({year} has weeks W01-W{weeks_in_year})")
    return f"{year}-W{num:02d}"


def resolve_person(store: Store | Any, text: str) -> str | None:
    """The person_id of a person id, e-mail or alias, case-insensitive; None if unknown (``Store.find_person``)."""
    return as_store(store).find_person(text)


def table_columns(store: Store | Any, table: str) -> set[str]:
    """Column names of ``table`` in the store (empty when the table is absent)."""
    return as_store(store).columns(table)


def tz_source(store: Store | Any, person_id: str) -> str | None:
    """``people.tz_source`` of the person (where the zone came from), None when the store lacks it."""
    store = as_store(store)
    if "tz_source" not in store.columns("people"):
        return None
    return store.scalar("SELECT tz_source FROM people WHERE person_id = ?", [person_id]) or None


def _week_bounds_utc(d0: int, d1: int, tz: str) -> tuple[datetime, datetime]:
    """Naive UTC instants of local midnight starting day ``d0`` and ending day ``d1``."""
    zone = ZoneInfo(tz)

    def utc(d: date) -> datetime:
        local = datetime.combine(d, time(0), tzinfo=zone)
        return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    return utc(day_date(d0)), utc(day_date(d1) + timedelta(days=1))


def _local(ts: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(ts).dt.tz_localize("UTC").dt.tz_convert(tz).dt.strftime("%a %Y-%m-%d %H:%M:%S%z")


def merge_touching(pieces: pd.DataFrame) -> pd.DataFrame:
    """Merge pieces of one kind and local date that touch (end = next start, same offset).

    The pipeline keeps unions as disjoint parts that may touch; for reading, a meeting
    block 10:00-11:30 is one row, not 10:00-11:00 and 11:00-11:30. Seconds add up.
    """
    if pieces.empty:
        return pieces.reset_index(drop=True)
    p = pieces.sort_values(["kind", "day", "start_s"]).reset_index(drop=True)
    same = ((p.kind == p.kind.shift()) & (p.day == p.day.shift())
            & (p.start_s == p.end_s.shift()) & (p.local_start_s == p.local_end_s.shift()))
    run = (~same).cumsum()
    agg = {c: "sum" for c in ("seconds", "working_s", "after_s")}
    agg.update({"kind": "first", "day": "first", "start_s": "first", "local_start_s": "first",
                "end_s": "last", "local_end_s": "last", "is_workday": "first"})
    return p.groupby(run, sort=True).agg(agg)[list(pieces.columns)].reset_index(drop=True)


def explain(store: Store | str | Path, person_id: str, week: str, metric: str | None = None,
            config: Config | None = None) -> Explanation:
    """The events behind ``metric`` (or all metrics) of ``person_id`` in ISO ``week``."""
    config = config or Config()
    if metric is not None and metric not in METRIC_COLUMNS:
        raise ConfigError(f"unknown metric {metric!r}; one of: {', '.join(METRIC_COLUMNS)}")
    week = check_week(week)
    backend = open_backend(store)
    known = backend.people()
    person_id = resolve_person(backend.store, person_id) or person_id.strip().lower()
    if person_id not in set(known["person_id"]):
        raise ConfigError(f"no internal person {person_id!r} in this store "
                          "(give a person_id, e-mail or alias; `worklife export people` lists them)")
    run = prepare(store, config, person_ids=[person_id])
    if run is None:
        raise ConfigError("this store has no activity to explain")
    eng, cal = run.engine, run.cal
    days = eng.execute(cal.days.filter(cal.days.week == week))
    if days.empty:
        raise ConfigError(f"week {week!r} is outside the data of this store")
    d0, d1 = int(days.day.min()), int(days.day.max())
    ws = cal.schedules[person_id]
    schedule = {
        "tz": ws.tz, "work_start": f"{ws.work_start_s // 3600:02d}:{ws.work_start_s % 3600 // 60:02d}",
        "work_end": f"{ws.work_end_s // 3600:02d}:{ws.work_end_s % 3600 // 60:02d}",
        "workdays": ",".join(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i] for i in sorted(ws.workdays)),
        "jurisdiction": ws.jurisdiction or "(none)", "defaults_used": ", ".join(ws.defaults_used) or "none",
        "tz_source": tz_source(eng.store, person_id),
    }
    wk_lo, wk_hi = _week_bounds_utc(d0, d1, ws.tz)  # the local week, as UTC instants
    pk = int(cal.people_frame.set_index("person_id").loc[person_id, "pk"])

    lo_s, hi_s = (d0 - 2) * DAY_S, (d1 + 3) * DAY_S
    att = run.parts.attendance
    m = eng.execute(att.filter((att.person_id == pk) & (att.end_s > lo_s) & (att.start_s < hi_s)))
    wk_lo_s, wk_hi_s = (pd.Timestamp(t).value // 10**9 for t in (wk_lo, wk_hi))
    m = m[(m.end_s > wk_lo_s) & (m.start_s < wk_hi_s)]  # only meetings touching the local week
    m = m.sort_values(["start_s", "meeting_key"]).reset_index(drop=True)
    m["status"] = m["reason"].fillna("counted")
    counted = m[m.reason.isna()]
    m["overlap"] = [
        bool(r.reason is None or pd.isna(r.reason)) and bool(
            ((counted.start_s < r.end_s) & (counted.end_s > r.start_s)
             & (counted.meeting_key != r.meeting_key)).any())
        for r in m.itertuples()
    ]
    m["start_local"] = _local(pd.to_datetime(m.start_s, unit="s"), ws.tz)
    m["hours"] = (m.end_s - m.start_s) / 3600
    meetings = m[["meeting_key", "title", "start_local", "hours", "response", "invitees", "status", "overlap"]]

    msgs = eng.store.frame(
        """SELECT m.message_key, m.channel, m.sent_utc, m.subject_or_channel AS subject,
                  CASE WHEN m.sender_id = $p THEN 'sent' ELSE r.kind END AS role,
                  CASE WHEN m.is_auto THEN 'auto message'
                       WHEN m.sender_id = $p THEN 'counted'
                       WHEN r.kind = 'bcc' AND NOT EXISTS (SELECT 1 FROM message_recipients r2
                            WHERE r2.message_key = m.message_key AND r2.person_id = $p AND r2.kind IN ('to','cc'))
                            THEN 'bcc'
                       WHEN m.channel = 'chat' THEN 'chat received (not counted)'
                       WHEN r.kind IN ('to', 'cc') THEN 'counted'
                       ELSE 'not a recipient on To/Cc' END AS status
           FROM messages m LEFT JOIN message_recipients r
             ON r.message_key = m.message_key AND r.person_id = $p
           WHERE (m.sender_id = $p OR r.person_id IS NOT NULL) AND m.sent_utc >= $lo AND m.sent_utc < $hi
           ORDER BY m.sent_utc, m.message_key""",
        {"p": person_id, "lo": wk_lo, "hi": wk_hi})
    msgs = msgs.drop_duplicates(["message_key", "role"])
    if len(msgs):
        msgs.insert(3, "sent_local", _local(msgs.sent_utc, ws.tz))

    pieces = pd.DataFrame()
    if metric is None or metric in INTERVAL_METRICS:
        pc = run.parts.pieces
        kind = INTERVAL_METRICS[metric][0] if metric else None
        expr = pc.filter((pc.person_id == pk) & (pc.day >= d0) & (pc.day <= d1))
        if kind:
            expr = expr.filter(expr.kind == kind)
        pieces = eng.execute(expr.select("kind", "day", "start_s", "end_s", "local_start_s",
                                         "local_end_s", "seconds", "working_s", "after_s", "is_workday"))
        pieces = merge_touching(pieces)
        pieces.insert(1, "date", [day_date(d) for d in pieces.day])
        pieces["local_start"] = pd.to_datetime(pieces.local_start_s, unit="s").dt.strftime("%H:%M:%S")
        pieces["local_end"] = [
            "24:00:00" if e % DAY_S == 0 else pd.to_datetime(e, unit="s").strftime("%H:%M:%S")
            for e in pieces.local_end_s]
        pieces = pieces[["kind", "date", "local_start", "local_end", "seconds", "working_s",
                         "after_s", "is_workday"]]
    lg = run.parts.long
    dl = eng.execute(lg.filter((lg.person_id == pk) & (lg.day >= d0) & (lg.day <= d1)))
    evidence = week_row(dl, person_id, d0, week, config)
    values, source, differences = stored_values(store, eng.duck, config, person_id, week, evidence)
    daytab = dl.pivot_table(index="day", columns="name", values="value", aggfunc="sum").fillna(0)
    daytab.index = [day_date(d) for d in daytab.index]
    if metric in DAY_NAMES:
        daytab = daytab[[c for c in [DAY_NAMES[metric]] if c in daytab.columns]]
    elif metric in INTERVAL_METRICS:
        k = INTERVAL_METRICS[metric][0]
        daytab = daytab[[c for c in (f"{k}_s", f"{k}_after_s") if c in daytab.columns]]
    notes = [
        "after hours = outside working hours on workdays, and all of weekends and public holidays",
        "overlapping meetings count once (union); conflicting hours count only the overlap",
    ]
    return Explanation(person_id, week, metric, schedule, values, meetings, msgs, pieces,
                       daytab.astype("int64"), notes, evidence, source, differences)


def week_row(long: pd.DataFrame, person_id: str, d0: int, week: str, config: Config) -> dict[str, Any]:
    """The week's metric row (hours) from the person's long rows of its local dates
    (day, name, value), summed and converted exactly as stored results are read."""
    sums = long.groupby("name")["value"].sum() if len(long) else pd.Series(dtype="int64")
    raw = pd.DataFrame([{"person_id": person_id, "day": d0, **{n: int(sums.get(n, 0)) for n in LONG_NAMES}}])
    periods = pd.DataFrame({"day": [d0], "week": [week], "week_start": [day_date(d0)]})
    return finalize_frame(raw, [person_id], periods, config, "week").iloc[0][METRIC_COLUMNS].to_dict()


def _same(a: Any, b: Any) -> bool:
    """Exactly equal (both are int sums of seconds or counts, converted the same way)."""
    return float(a) == float(b)


def stored_values(store: Any, con: Any, config: Config, person_id: str, week: str,
                  evidence: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    """(values shown, where they came from, differences from the evidence).

    ``store``: what ``explain`` was given (a writable Store or connection is brought up to
    date first, like every reader); ``con``: the connection the evidence was read from.
    """
    from worklife.metrics.results import person_weeks, read_only
    from worklife.metrics.stored import FRESH, results_state, stored_row

    writable = not isinstance(store, (str, Path)) and not read_only(con)
    if writable:
        person_weeks(store, config, persons=[person_id], weeks=[week])  # refresh, like any reader
    state = results_state(con, config)
    stored = stored_row(con, config, person_id, week)
    if stored is None:
        why = state.describe() if state.state != FRESH else "no stored row for this week (outside the stored range)"
        return dict(evidence), f"computed now from the events below: {why}", []
    differences = [
        f"stored {m} = {_fmt(stored[m])}, but the events below give {_fmt(evidence[m])}"
        for m in METRIC_COLUMNS if not _same(stored[m], evidence[m])]
    source = state.describe()
    if differences:
        path = getattr(store, "path", store if isinstance(store, (str, Path)) else "FILE")
        fix = (f"`worklife metrics --db {path}` updates them" if state.state != FRESH else
               "they should agree: please report this output as a bug")
        differences.insert(0, f"{len(differences)} stored value(s) differ from the events below: {source}; {fix}")
    return stored, source, differences


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)
