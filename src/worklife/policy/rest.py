"""Working-time checks: daily rest, weekly rest, continuous disconnection, weekly hours.

**Activity** of a person (docs/policy.md): the intervals of the qualifying meetings they
attend (``worklife.rules.meetings``, docs/metrics.md: not cancelled, not free, not all-day,
0 < length <= ``metrics.meeting_max_hours``, >= ``metrics.meeting_min_people`` people, their
response not declined; the same rows as the metric engine's attendance), and the instants of the non-auto messages they
send and the commits they author (``outcomes.kind = 'commit'``). Everything else is rest.

**Rest** (rules ``wt.daily_rest``, ``rtd.min_disconnect``, ``wt.weekly_rest``), with a
required rest of ``g`` hours per period of ``P`` hours (11 h / 24 h, 12 h / 24 h,
35 h / 168 h): activity separated by gaps shorter than ``g`` forms one *stretch*; a period
starts at the stretch's first activity. Daily rest and disconnection must lie **within**
the period, so a stretch may span at most ``P - g`` (13 h a day: the "amplitude" reading of
the 11 h daily rest). Weekly rest need only **start** within the period: a stretch may span
at most ``P`` (no more than 7 days without a 35 h rest; a stretch cut by the end of the data
is not judged beyond it). While the rest of a stretch spans more than that, the period's
rest was too short: one breach, and the next period starts when that rest ends. The
period's rest is the longest gap starting in it (or the rest after the stretch, cut at the
period's end) among those ending on a later local date than the period's start (the
overnight rest between two working days), else among all; the latest of equals. Each breach is attributed to the local ISO week where its rest starts.

**Working time** (``wt.avg_weekly_hours``, ``wt.max_weekly_hours``,
``wt.max_daily_hours``): activities closer than ``policy.session_gap_minutes`` form a
session lasting from its first start to its last end plus ``policy.session_tail_minutes``;
a session counts on the local date it starts. The average is over consecutive reference
periods of the preset's ``reference_weeks`` ISO weeks from the first week of data (the
last period may be shorter: it is averaged over its own weeks if it has at least 4, and
its evidence says so), weeks without activity counting 0.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from worklife.config import Config
from worklife.policy.findings import Event, Finding
from worklife.policy.model import Preset
from worklife.policy.sql import PolicyDb, as_db
from worklife.rules.meetings import meeting_rule
from worklife.store import Store

log = logging.getLogger(__name__)

MIN_PARTIAL_WEEKS = 4  # a last, partial reference period shorter than this is not averaged

def activity_sql(config: Config) -> str:
    """SQL: (person_id, s, e, kind, ref) for every activity (see the module doc)."""
    meetings = meeting_rule(config).qualifying_attendance_sql()
    return f"""
  SELECT q.person_id, q.start_utc AS s, q.end_utc AS e, 'meeting' AS kind, q.meeting_key AS ref
  FROM ({meetings}) q
  UNION ALL
  SELECT sender_id, sent_utc, sent_utc, 'message', message_key FROM messages
  WHERE NOT is_auto AND sender_id IS NOT NULL
  UNION ALL
  SELECT person_id, at_utc, at_utc, 'commit', outcome_key FROM outcomes
  WHERE kind = 'commit' AND person_id IS NOT NULL"""


@dataclass(frozen=True)
class _RestRule:
    rule: str
    column: str  # column of pol_check holding g (hours)
    period_h: float
    label: str
    within: bool  # the rest must lie within the period (span <= P - g), else only start in it (span <= P)


RULES = (
    _RestRule("wt.daily_rest", "daily_rest_h", 24.0, "daily rest", True),
    _RestRule("wt.weekly_rest", "weekly_rest_h", 168.0, "weekly rest", False),
    _RestRule("rtd.min_disconnect", "min_disconnect_h", 24.0, "continuous disconnection", True),
)



def hm(hours: float, rounding: str = "nearest") -> str:
    """Hours as '10 h 58 min' ('11 h' when whole), so a 10 h 58 min rest never reads as 11 h.

    ``floor`` for values checked against a minimum (rest), ``ceil`` against a maximum
    (working time): the shown value is never on the compliant side of the limit.
    """
    minutes = hours * 60
    total = int(math.floor(minutes + 1e-9) if rounding == "floor"
                else math.ceil(minutes - 1e-9) if rounding == "ceil" else round(minutes))
    h, m = divmod(total, 60)
    return f"{h} h" if m == 0 else f"{h} h {m:02d} min"

def _local(t: datetime, tz: str) -> datetime:
    return t.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz))


def _iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _fmt(t: datetime, tz: str) -> str:
    return _local(t, tz).strftime("%Y-%m-%d %H:%M")


def register_checks(store: Store | PolicyDb, people: dict[str, Preset], rtd_people: set[str],
                    config: Config) -> None:
    """Create ``pol_check``: each checked person's limits (hours; NULL = not checked)."""
    rows = []
    for pid, p in sorted(people.items()):
        wt, d = p.working_time, p.disconnect
        rows.append({"person_id": pid, "preset": p.code, "daily_rest_h": wt.daily_rest_hours,
                     "weekly_rest_h": wt.weekly_rest_hours,
                     "min_disconnect_h": d.min_disconnect_hours if pid in rtd_people else None,
                     "avg_h": wt.avg_weekly_hours, "ref_weeks": wt.reference_weeks,
                     "max_week_h": wt.max_weekly_hours, "max_day_h": wt.max_daily_hours})
    schema = pa.schema([("person_id", pa.string()), ("preset", pa.string()), ("daily_rest_h", pa.float64()),
                        ("weekly_rest_h", pa.float64()), ("min_disconnect_h", pa.float64()),
                        ("avg_h", pa.float64()), ("ref_weeks", pa.int32()), ("max_week_h", pa.float64()),
                        ("max_day_h", pa.float64())])
    checks = pa.Table.from_pylist(rows, schema=schema)
    db = as_db(store)
    db.load("pol_check", checks)
    db.temp("pol_activity", f"SELECT * FROM ({activity_sql(config)}) WHERE person_id IN (SELECT person_id FROM pol_check)")


def rest_findings(store: Store | PolicyDb, tz_of: dict[str, str], rule: _RestRule, source_of: dict[str, str]) -> list[Finding]:
    """Breaches of one rest rule for every person in pol_check with a limit for it."""
    db = as_db(store)
    db.temp("pol_blocks", reuse=False, sql=f"""
      WITH a AS (SELECT act.person_id, act.s, act.e, c.{rule.column} AS g FROM pol_activity act
                 JOIN pol_check c ON c.person_id = act.person_id WHERE c.{rule.column} IS NOT NULL),
      o AS (SELECT *, max(e) OVER (PARTITION BY person_id ORDER BY s, e
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e FROM a),
      f AS (SELECT *, CASE WHEN prev_e IS NULL OR epoch(s) - epoch(prev_e) >= g * 3600 THEN 1 ELSE 0 END AS brk
            FROM o)
      SELECT *, sum(brk) OVER (PARTITION BY person_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS block FROM f""")
    slack = "any_value(g)" if rule.within else "0"
    breached = db.rows(f"""
      SELECT person_id, block, min(s) AS b0, max(e) AS b1, any_value(g) AS g FROM pol_blocks
      GROUP BY person_id, block HAVING epoch(max(e)) - epoch(min(s)) > ({rule.period_h} - {slack}) * 3600
      ORDER BY person_id, block""")
    if not breached:
        return []
    gaps = db.rows(f"""
      SELECT b.person_id, b.block, b.prev_e, b.s FROM pol_blocks b
      JOIN (SELECT person_id, block FROM pol_blocks GROUP BY ALL
            HAVING epoch(max(e)) - epoch(min(s)) > ({rule.period_h} - {slack}) * 3600) k
        USING (person_id, block)
      WHERE b.brk = 0 AND b.s > b.prev_e ORDER BY b.person_id, b.block, b.prev_e, b.s""")
    by_block: dict[tuple[str, int], list[tuple[datetime, datetime]]] = {}
    for pid, block, g0, g1 in gaps:
        by_block.setdefault((pid, block), []).append((g0, g1))
    period = timedelta(hours=rule.period_h)
    per_week: dict[tuple[str, str], list[tuple[float, float, Event]]] = {}
    for pid, block, b0, b1, g in breached:
        tz = tz_of.get(pid, "UTC")
        block_gaps = by_block.get((pid, block), [])
        starts = [g0 for g0, _ in block_gaps]  # sorted: gap starts are a running maximum
        pos = b0
        need = timedelta(hours=g if rule.within else 0)
        while b1 - pos > period - need:
            lo, hi = bisect_left(starts, pos), bisect_left(starts, pos + period)
            cands = [(b - a, a, b) for a, b in block_gaps[lo:hi]]
            if b1 < pos + period:  # the rest after the stretch, as far as it lies in this period
                cands.append((pos + period - b1, b1, pos + period))
            # The rest between two working days: prefer gaps that end on a later local date than
            # the period's start (overnight), else any gap; the longest, the latest of equals.
            day0 = _local(pos, tz).date()
            overnight = [c for c in cands if _local(c[2], tz).date() > day0]
            if cands:
                length, g0, g1 = max(overnight or cands, key=lambda c: (c[0], c[1]))
            else:  # no rest at all in this period
                g0, g1, length = pos, pos, timedelta(0)
            week = _iso_week(_local(g0, tz).date())
            hours = length.total_seconds() / 3600
            per_week.setdefault((pid, week), []).append((hours, g, Event(
                "rest", f"{_fmt(g0, tz)} -> {_fmt(g1, tz)}", g0.isoformat() + "Z", _fmt(g0, tz),
                f"{hm(hours, 'floor')} rest in the {rule.period_h:g} h from {_fmt(pos, tz)}, {g:g} h required")))
            if g0 == b1:  # the stretch's own end: what follows is a full rest
                break
            pos = g1 if g1 > pos else pos + period
    out = []
    for (pid, week), items in sorted(per_week.items()):
        shortest = min(h for h, _, _ in items)
        out.append(Finding(
            rule=rule.rule, severity="high", jurisdiction="", person_id=pid, counterpart_id=None, week=week,
            count=len(items), message=f"{len(items)} {rule.label} period(s) shorter than {items[0][1]:g} h "
            f"(shortest {hm(shortest, 'floor')})", source=source_of.get(pid, ""),
            samples=tuple(e for _, _, e in items), value=round(shortest, 2), limit=items[0][1]))
    return out


def hours_findings(store: Store | PolicyDb, config: Config, source_of: dict[str, str]) -> list[Finding]:
    """Average, weekly and daily working-hour limits from work sessions (see module doc)."""
    db = as_db(store)
    gap_s = float(config["policy.session_gap_minutes"]) * 60
    tail_s = float(config["policy.session_tail_minutes"]) * 60
    # Durations are summed in seconds (whole numbers: exact in any order) and turned into hours last.
    db.temp("pol_sessions", f"""
      WITH o AS (SELECT *, max(e) OVER (PARTITION BY person_id ORDER BY s, e
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
                 FROM pol_activity),
      f AS (SELECT *, CASE WHEN prev_e IS NULL OR epoch(s) - epoch(prev_e) > {gap_s} THEN 1 ELSE 0 END AS brk FROM o),
      b AS (SELECT *, sum(brk) OVER (PARTITION BY person_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS sid FROM f),
      sess AS (SELECT person_id, sid, min(s) AS s0, max(e) AS s1,
                      epoch(max(e)) - epoch(min(s)) + {tail_s} AS secs FROM b GROUP BY ALL)
      SELECT sess.*, CAST(sess.s0 + to_seconds(o.utc_offset_s) AS DATE) AS local_date
      FROM sess JOIN pol_sched p ON p.person_id = sess.person_id
      ASOF JOIN pol_tz o ON o.tz = p.tz AND sess.s0 >= o.valid_from_utc""")
    out: list[Finding] = []
    daily = db.rows("""
      SELECT d.person_id, d.local_date, d.hours, c.max_day_h FROM
        (SELECT person_id, local_date, sum(secs) / 3600.0 AS hours FROM pol_sessions GROUP BY ALL) d
      JOIN pol_check c ON c.person_id = d.person_id
      WHERE c.max_day_h IS NOT NULL AND d.hours > c.max_day_h ORDER BY 1, 2""")
    by_week: dict[tuple[str, str], list[tuple[date, float, float]]] = {}
    for pid, day, hours, limit in daily:
        by_week.setdefault((pid, _iso_week(day)), []).append((day, hours, limit))
    for (pid, week), days in sorted(by_week.items()):
        worst = max(h for _, h, _ in days)
        out.append(Finding(
            "wt.max_daily_hours", "medium", "", pid, None, week, len(days),
            f"{len(days)} day(s) over {days[0][2]:g} h of estimated working time (longest {hm(worst, 'ceil')})",
            source_of.get(pid, ""), tuple(Event("day", d.isoformat(), "", d.isoformat(), hm(h, "ceil"))
                                          for d, h, _ in days), round(worst, 2), days[0][2]))
    weekly_sql = """
      WITH w AS (SELECT person_id, date_trunc('week', local_date)::DATE AS week_start,
                        sum(secs) / 3600.0 AS hours
                 FROM pol_sessions GROUP BY ALL),
      span AS (SELECT min(week_start) AS w0, max(week_start) AS w1 FROM w)
      SELECT w.person_id, w.week_start, w.hours, c.max_week_h, c.avg_h, c.ref_weeks,
             (date_diff('day', span.w0, w.week_start) // 7) // c.ref_weeks AS period,
             span.w0, span.w1
      FROM w JOIN pol_check c ON c.person_id = w.person_id, span"""
    weeks = db.rows(weekly_sql + " ORDER BY 1, 2")
    periods: dict[tuple[str, int], list] = {}
    for pid, ws, hours, max_week, avg_h, ref, period, w0, w1 in weeks:
        if max_week is not None and hours > max_week:
            out.append(Finding("wt.max_weekly_hours", "medium", "", pid, None, _iso_week(ws), 1,
                               f"{hm(hours, 'ceil')} of estimated working time in the week, limit {max_week:g} h",
                               source_of.get(pid, ""), (Event("week", _iso_week(ws), "", ws.isoformat(),
                                                              hm(hours, "ceil")),), round(hours, 2), max_week))
        if avg_h is not None:
            periods.setdefault((pid, period), []).append((ws, hours, avg_h, ref, w0, w1))
    for (pid, period), rows in sorted(periods.items()):
        _, _, avg_h, ref, w0, w1 = rows[0]
        p0 = w0 + timedelta(weeks=period * ref)
        n_weeks = min(ref, (w1 - p0).days // 7 + 1)
        mean = sum(r[1] for r in rows) / n_weeks
        if n_weeks < min(ref, MIN_PARTIAL_WEEKS):
            continue  # too short a period to average over
        if mean > avg_h:
            partial = "" if n_weeks == ref else f" (partial period: {n_weeks} of {ref} weeks in the data)"
            out.append(Finding(
                "wt.avg_weekly_hours", "high", "", pid, None, _iso_week(p0), n_weeks,
                f"average {hm(mean, 'ceil')}/week over {n_weeks} weeks from {_iso_week(p0)}, limit {avg_h:g} h{partial}",
                source_of.get(pid, ""),
                tuple(Event("week", _iso_week(ws), "", ws.isoformat(), hm(h, "ceil"))
                      for ws, h, *_ in sorted(rows, key=lambda r: -r[1])),
                round(mean, 2), avg_h))
    return out
