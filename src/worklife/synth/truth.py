"""Exact per-person-week metrics of docs/metrics.md, computed independently (the oracle).

Plain Python over the org's canonical rows: integer UTC seconds, local time from
``datetime.fromtimestamp(t, ZoneInfo(tz))``, public holidays from ``worklife.workcal``
(the ``holidays`` package). No metric-engine code is used, so that the engine can be
tested against it to the second. Slow by design (per-person loops); fine for 200 x 12.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd

from worklife.config import Config
from worklife.synth.model import Org
from worklife.synth.people import records
from worklife.workcal import WorkSchedule, resolve_person

COLUMNS = [
    "meeting_hours", "conflicting_meeting_hours", "email_hours", "chat_hours", "collaboration_hours",
    "after_hours_meeting_hours", "after_hours_email_hours", "after_hours_chat_hours",
    "after_hours_collaboration_hours", "workweek_span", "active_connected_hours", "focus_hours",
    "uninterrupted_hours", "large_meeting_hours", "long_meeting_hours", "large_and_long_meeting_hours",
    "status_meeting_hours", "weekend_days_active", "quiet_days", "over_40h", "meetings",
    "emails_sent", "chats_sent",
]
HOURS = {c for c in COLUMNS if c.endswith("hours") or c == "workweek_span"}

Interval = tuple[int, int]


def union(intervals: list[Interval]) -> list[Interval]:
    """Sorted, disjoint union of half-open [s, e) intervals (empty ones dropped)."""
    out: list[list[int]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def covered_twice(intervals: list[Interval]) -> list[Interval]:
    """Where at least two of the intervals overlap (sweep line)."""
    events = sorted([(s, 1) for s, e in intervals if e > s] + [(e, -1) for s, e in intervals if e > s],
                    key=lambda x: (x[0], x[1]))
    out, depth, since = [], 0, 0
    for t, d in events:
        if depth < 2 <= depth + d:
            since = t
        elif depth >= 2 > depth + d and t > since:
            out.append((since, t))
        depth += d
    return union(out)


def subtract(window: Interval, busy: list[Interval], ends: list[int] | None = None) -> list[Interval]:
    """Gaps of ``window`` not covered by the (disjoint, sorted) ``busy`` intervals.

    ``ends`` (optional) is ``[e for _, e in busy]``, to skip intervals ending before the window.
    """
    s, e = window
    gaps, t = [], s
    first = bisect_right(ends, s) if ends is not None else 0
    for bs, be in busy[first:]:
        if bs >= e:
            break
        if be <= t:
            continue
        if bs > t:
            gaps.append((t, bs))
        t = max(t, be)
    if t < e:
        gaps.append((t, e))
    return gaps


class Person:
    """One person's calendar: local time and workdays."""

    def __init__(self, sched: WorkSchedule):
        self.s = sched
        self.zone = ZoneInfo(sched.tz)
        self._workday: dict[date, bool] = {}

    def offset(self, t: int) -> int:
        return int(datetime.fromtimestamp(t, self.zone).utcoffset().total_seconds())

    def local_date(self, t: int) -> date:
        return datetime.fromtimestamp(t, self.zone).date()

    def workday(self, d: date) -> bool:
        if d not in self._workday:
            self._workday[d] = self.s.is_workday(d)
        return self._workday[d]

    def pieces(self, s: int, e: int) -> list[tuple[int, int, date, int]]:
        """Split [s, e) at local midnights and offset changes: (s, e, local date, local second of s)."""
        out = []
        t = s
        while t < e:
            off = self.offset(t)
            local = t + off
            cut = min(e, (local // 86400 + 1) * 86400 - off)
            if self.offset(cut - 1) != off:  # an offset change inside: find its first second
                lo, hi = t, cut - 1
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self.offset(mid) == off:
                        lo = mid
                    else:
                        hi = mid
                cut = hi
            day = (datetime(1970, 1, 1) + timedelta(seconds=local)).date()
            out.append((t, cut, day, local % 86400))
            t = cut
        return out

    def after_parts(self, day: date, ls: int, le: int) -> list[Interval]:
        """Local-second sub-ranges of [ls, le) on ``day`` that are after hours."""
        if not self.workday(day):
            return [(ls, le)]
        ws, we = self.s.work_start_s, self.s.work_end_s
        parts = [(ls, min(le, ws)), (max(ls, we), le)]
        return [(a, b) for a, b in parts if b > a]

    def window(self, day: date) -> Interval:
        """The working window of ``day`` in UTC seconds (wall clock; fold=0)."""
        base = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        # aware + timedelta is wall-clock arithmetic; timestamp() applies that wall time's offset
        s = base + timedelta(seconds=self.s.work_start_s)
        e = base + timedelta(seconds=self.s.work_end_s)
        return int(s.timestamp()), int(e.timestamp())


@lru_cache(maxsize=None)
def iso_week(d: date) -> tuple[str, date]:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}", d - timedelta(days=d.weekday())


def person_week_metrics(org: Org, config: Config | None = None,
                        weeks: tuple[date, date] | None = None) -> pd.DataFrame:
    """Exact docs/metrics.md values per (person, ISO week), hours as float.

    ``weeks``: (first Monday, last Monday) to report; default: every week from the
    earliest to the latest local week holding any person's activity (docs/metrics.md).
    """
    cfg = config or Config()
    k = cfg.section("metrics")
    c_sent, c_recv = round(k["email_sent_minutes"] * 60), round(k["email_received_minutes"] * 60)
    chat_s, gap_s = int(k["chat_message_seconds"]), round(k["chat_session_gap_minutes"] * 60)
    max_s, min_people = round(k["meeting_max_hours"] * 3600), int(k["meeting_min_people"])
    large_n, long_s = int(k["large_meeting_invitees"]), round(k["long_meeting_hours"] * 3600)
    focus_s, unint_s = round(k["focus_block_hours"] * 3600), round(k["uninterrupted_block_hours"] * 3600)
    span_lo, span_hi = round(k["span_min_hours"] * 3600), round(k["span_max_hours"] * 3600)
    block = int(k["active_block_minutes"]) * 60
    quiet_max, over = int(k["quiet_day_max_after_hours_blocks"]), float(k["over_hours_threshold"])
    status_re = [re.compile(p, re.IGNORECASE) for p in k["status_title_patterns"]]

    people = {r["person_id"]: Person(resolve_person(r, cfg)) for r in records(org.people)
              if r.get("is_internal", True) is not False}
    # meetings: qualifying occurrences with their flags, per attending person
    mt = org.meetings
    att = org.meeting_attendees
    invitees = att.groupby("meeting_key")["person_id"].nunique().to_dict()
    meet = {}
    cols = ["meeting_key", "start_utc", "end_utc", "all_day", "status", "transp", "title", "is_recurring"]
    for r in _rows(mt, cols):
        dur = int(r.end_utc) - int(r.start_utc)
        n = invitees.get(r.meeting_key, 0)
        if r.status == "cancelled" or r.transp == "transparent" or bool(r.all_day) or not 0 < dur <= max_s \
                or n < min_people:
            continue
        status = bool(r.is_recurring) and any(p.search(r.title or "") for p in status_re)
        meet[r.meeting_key] = (int(r.start_utc), int(r.end_utc), n >= large_n, dur > long_s, status, r.meeting_key)
    p_meet: dict[str, list] = defaultdict(list)
    for key, pid, resp in zip(*_cols(att, ["meeting_key", "person_id", "response"])):
        if key in meet and resp != "declined" and pid in people:
            p_meet[pid].append(meet[key])
    # messages: e-mail actions and chat sends
    msgs = org.messages.loc[~org.messages["is_auto"].astype(bool)]
    p_email: dict[str, list] = defaultdict(list)
    p_chat: dict[str, list[int]] = defaultdict(list)
    p_inst: dict[str, list[int]] = defaultdict(list)
    count_e: dict[str, list[int]] = defaultdict(list)
    count_c: dict[str, list[int]] = defaultdict(list)
    email_keys = {}
    for key, ch, snd, t in zip(*_cols(msgs, ["message_key", "channel", "sender_id", "sent_utc"])):
        t = int(t)
        if ch == "email":
            email_keys[key] = (snd, t)
            if snd in people:
                p_email[snd].append((t, 0, key))
                p_inst[snd].append(t)
                count_e[snd].append(t)
        elif snd in people:
            p_chat[snd].append(t)
            p_inst[snd].append(t)
            count_c[snd].append(t)
    rec = org.message_recipients
    seen = set()
    for key, pid, kind in zip(*_cols(rec, ["message_key", "person_id", "kind"])):
        if kind in ("to", "cc") and key in email_keys and pid in people and email_keys[key][0] != pid:
            if (key, pid) not in seen:
                seen.add((key, pid))
                p_email[pid].append((email_keys[key][1], 1, key))
    for pid, t in zip(*_cols(org.commits, ["person_id", "at_utc"])):
        if pid in people:
            p_inst[pid].append(int(t))

    rows: dict[tuple[str, str], dict] = {}
    unions: dict[str, tuple[list, list]] = {}
    for pid, per in people.items():
        rows_p, m_u, col = _person(per, p_meet[pid], p_email[pid], p_chat[pid], p_inst[pid],
                                   count_e[pid], count_c[pid], c_sent, c_recv, chat_s, gap_s, block)
        unions[pid] = (m_u, col)
        for wk, values in rows_p.items():
            rows[(pid, wk)] = values
    all_weeks = [iso_week(d) for d in _active_dates(rows)]
    if weeks is not None:
        first, last = weeks
    elif all_weeks:
        first, last = min(ws for _, ws in all_weeks), max(ws for _, ws in all_weeks)
    else:
        return pd.DataFrame(columns=["person_id", "week", "week_start", *COLUMNS])
    out = []
    monday = first
    while monday <= last:
        wk, _ = iso_week(monday)
        for pid, per in people.items():
            acc = rows.get((pid, wk), {})
            out.append(_finish(pid, wk, monday, acc, per, *unions[pid], focus_s, unint_s,
                               span_lo, span_hi, quiet_max, over))
        monday += timedelta(days=7)
    return pd.DataFrame(out, columns=["person_id", "week", "week_start", *COLUMNS])


def _cols(df: pd.DataFrame, names: list[str]) -> list[list]:
    return [df[c].tolist() for c in names]


def _rows(df: pd.DataFrame, names: list[str]):
    from collections import namedtuple
    Row = namedtuple("Row", names)
    return (Row(*v) for v in zip(*_cols(df, names)))


def _active_dates(rows: dict) -> list[date]:
    return [d for acc in rows.values() for d in acc.get("_dates", ())]


def _email_intervals(actions: list, c_sent: int, c_recv: int) -> list[Interval]:
    acts = sorted(actions)
    out = []
    for i, (t, kind, _key) in enumerate(acts):
        credit = c_sent if kind == 0 else c_recv
        nxt = acts[i + 1][0] if i + 1 < len(acts) else None
        length = credit if nxt is None else min(credit, nxt - t)
        out.append((t, t + length))
    return out


def _chat_sessions(times: list[int], chat_s: int, gap_s: int) -> list[Interval]:
    out: list[Interval] = []
    ts = sorted(times)
    first = last = None
    for t in ts:
        if first is not None and t - last > gap_s:
            out.append((first, last + chat_s))
            first = None
        if first is None:
            first = t
        last = t
    if first is not None:
        out.append((first, last + chat_s))
    return out


def _person(per: Person, meets, email, chat, inst, sent_e, sent_c, c_sent, c_recv, chat_s, gap_s, block):
    """Accumulate everything except focus/uninterrupted/span (which need whole days)."""
    weeks: dict[str, dict] = defaultdict(lambda: defaultdict(int))

    def add(name: str, intervals: list[Interval], after: bool = False) -> None:
        for s, e in intervals:
            for ps, pe, day, ls in per.pieces(s, e):
                wk = weeks[iso_week(day)[0]]
                wk[name] += pe - ps
                wk.setdefault("_dates", set()).add(day)
                if after:
                    wk["after_hours_" + name] += sum(b - a for a, b in per.after_parts(day, ls, ls + pe - ps))

    m_all = [(s, e) for s, e, *_ in meets]
    m_union = union(m_all)
    e_int = _email_intervals(email, c_sent, c_recv)
    c_int = _chat_sessions(chat, chat_s, gap_s)
    collab = union(m_union + e_int + c_int)
    add("meeting_hours", m_union, True)
    add("conflicting_meeting_hours", covered_twice(m_all))
    add("email_hours", e_int, True)
    add("chat_hours", union(c_int), True)  # sessions overlap only if a chat is credited past the gap
    add("collaboration_hours", collab, True)
    add("large_meeting_hours", union([(s, e) for s, e, lg, _, _, _ in meets if lg]))
    add("long_meeting_hours", union([(s, e) for s, e, _, ln, _, _ in meets if ln]))
    add("large_and_long_meeting_hours", union([(s, e) for s, e, lg, ln, _, _ in meets if lg and ln]))
    add("status_meeting_hours", union([(s, e) for s, e, _, _, st, _ in meets if st]))
    # activity instants per local date (meeting pieces: their own start and end)
    day_inst: dict[date, list[int]] = defaultdict(list)
    blocks: set[tuple[date, int]] = set()
    meets = list({m[5]: m for m in meets}.values())  # one row per occurrence
    for s, e, *_ in meets:
        for ps, pe, day, ls in per.pieces(s, e):
            day_inst[day] += [ps, pe]
            le = ls + pe - ps
            blocks.update((day, b) for b in range(ls // block, (le - 1) // block + 1))
    for t in inst:
        day = per.local_date(t)
        day_inst[day].append(t)
        blocks.add((day, (t + per.offset(t)) % 86400 // block))
    for t, *_ in meets:
        weeks[iso_week(per.local_date(t))[0]]["meetings"] += 1
    for t in sent_e:
        weeks[iso_week(per.local_date(t))[0]]["emails_sent"] += 1
    for t in sent_c:
        weeks[iso_week(per.local_date(t))[0]]["chats_sent"] += 1
    for day, _b in blocks:
        weeks[iso_week(day)[0]]["active_connected_hours"] += block
    for day, ts in day_inst.items():
        wk = weeks[iso_week(day)[0]]
        wk.setdefault("_dates", set()).add(day)
        wk.setdefault("_days", {})[day] = (min(ts), max(ts))
    # after-hours collaboration: local clock hours touched per date (quiet days)
    for s, e in collab:
        for ps, pe, day, ls in per.pieces(s, e):
            for a, b in per.after_parts(day, ls, ls + pe - ps):
                hours = weeks[iso_week(day)[0]].setdefault("_hours", defaultdict(set))
                hours[day].update(range(a // 3600, (b - 1) // 3600 + 1))
    return weeks, m_union, collab


def _finish(pid, wk, monday, acc, per, m_union, collab, focus_s, unint_s, span_lo, span_hi,
            quiet_max, over):
    span = weekend = focus = unint = quiet = 0
    m_ends, c_ends = [e for _, e in m_union], [e for _, e in collab]
    days = acc.get("_days", {})
    hours = acc.get("_hours", {})
    for i in range(7):
        day = monday + timedelta(days=i)
        work = per.workday(day)
        if day in days:
            first, last = days[day]
            if work:
                span += min(max(last - first, span_lo), span_hi)
            else:
                weekend += 1
        if len(hours.get(day, ())) <= quiet_max:
            quiet += 1
        if work:
            win = per.window(day)
            focus += sum(e - s for s, e in subtract(win, m_union, m_ends) if e - s >= focus_s)
            unint += sum(e - s for s, e in subtract(win, collab, c_ends) if e - s >= unint_s)
    row = {"person_id": pid, "week": wk, "week_start": monday}
    for c in COLUMNS:
        row[c] = acc.get(c, 0)
    row.update(workweek_span=span, weekend_days_active=weekend, focus_hours=focus,
               uninterrupted_hours=unint, quiet_days=quiet)
    for c in HOURS:
        row[c] = row[c] / 3600
    row["over_40h"] = row["workweek_span"] > over
    for c in ("weekend_days_active", "quiet_days", "meetings", "emails_sent", "chats_sent"):
        row[c] = int(row[c])
    return row


__all__ = ["COLUMNS", "person_week_metrics", "union", "covered_twice", "subtract"]
