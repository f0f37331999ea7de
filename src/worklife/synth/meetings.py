"""Calendars: recurring standups and 1:1s (RRULE, EXDATE, overrides) and single events.

Background rule (what keeps planted behaviour separable): every background meeting lies
inside the working hours of each attendee on a workday of theirs; invitees for whom it
would not are not invited (ad-hoc) or decline that occurrence (series, team events).
Exceptions are planted and listed in ``Org.planted``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from worklife.synth._clock import Clock, exact_utc
from worklife.synth.people import Roster, team_name

ADHOC_TITLES = ["Design review", "Project sync", "Customer call prep", "Pairing session",
                "Roadmap discussion", "Interview debrief", "Budget review", "Architecture review",
                "Incident follow-up", "Weekly update", "Quick check-in", "Hiring panel",
                "Vendor demo", "Data model workshop", "Release planning"]
RESPONSES = ["accepted", "tentative", "declined", "needs-action"]


def utc_stamp(t: int) -> str:
    """UTC seconds -> '20250303T090000Z' (the recurrence_id convention)."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class Calendar:
    """Collects occurrences, attendees and series rows."""

    def __init__(self, roster: Roster, clock: Clock, rng: np.random.Generator, seed: int, d0: int, weeks: int):
        self.r, self.c, self.rng, self.seed = roster, clock, rng, seed
        self.d0, self.weeks = d0, weeks
        self.occ: list[dict] = []
        self.att: list[dict] = []
        self.series: list[dict] = []
        self.n = 0

    # -- helpers --------------------------------------------------------------------------
    def uid(self, kind: str) -> str:
        self.n += 1
        return f"{kind}-{self.n:07d}-s{self.seed}@synth.example.com"

    def fits(self, p: np.ndarray, start: int, end: int) -> np.ndarray:
        """Whether [start, end) lies inside each person's working hours on one of their workdays."""
        z = self.r.zone[p]
        ds, ts = self.c.local(z, np.full(len(p), start))
        de, te = self.c.local(z, np.full(len(p), end))
        ds_c = np.clip(ds, 0, self.c.ndays - 1)
        return (ds == de) & self.r.workday[p, ds_c] & (ts >= self.r.ws[p]) & (te <= self.r.we[p])

    def response(self) -> str:
        return RESPONSES[int(self.rng.choice(4, p=[0.74, 0.1, 0.09, 0.07]))]

    def add(self, uid: str, rid: str, start: int, end: int, organizer: int, title: str, kind: str,
            attendees: list[tuple[int, str]], *, all_day: bool = False, status: str = "confirmed",
            transp: str = "opaque", series: str | None = None, override: bool = False) -> None:
        key = f"{uid}|{rid}"
        self.occ.append({
            "meeting_key": key, "uid": uid, "recurrence_id": rid, "start_utc": int(start),
            "end_utc": int(end), "all_day": all_day, "status": status, "transp": transp,
            "organizer_id": self.r.ids[organizer], "title": title, "is_recurring": series is not None,
            "series_id": series, "tz": self.r.tz[organizer], "override": override, "kind": kind,
        })
        self.att.append({"meeting_key": key, "person_id": self.r.ids[organizer], "response": "organizer",
                         "role": "CHAIR", "is_organizer": True})
        for p, resp in attendees:
            if p == organizer:
                continue
            self.att.append({"meeting_key": key, "person_id": self.r.ids[p], "response": resp,
                             "role": "REQ-PARTICIPANT", "is_organizer": False})

    def _overlap_slot(self, org: int, members: np.ndarray, dur: int, day: int) -> int | None:
        """A start (organizer-local seconds, 30-min grid) inside every member's hours on ``day``."""
        zo = self.r.zone[org]
        base = self.c.noon_off[zo, day]
        lo, hi = self.r.ws[org], self.r.we[org]
        for p in members:
            shift = base - self.c.noon_off[self.r.zone[p], day]
            lo, hi = max(lo, self.r.ws[p] + shift), min(hi, self.r.we[p] + shift)
        lo = -(-lo // 1800) * 1800
        if hi - lo < dur:
            return None
        return int(lo + 1800 * self.rng.integers(0, (hi - lo - dur) // 1800 + 1))

    # -- recurring series -----------------------------------------------------------------
    def weekly_series(self, kind: str, title: str, org: int, members: np.ndarray, weekday: int,
                      tod: int, dur: int, interval: int, planted_evening: bool = False) -> str:
        tz = self.r.tz[org]
        first = self.c.date(self.d0 + weekday)
        dtstart = datetime(first.year, first.month, first.day) + timedelta(seconds=tod)
        count = -(-self.weeks // interval)
        uid = self.uid(kind)
        base = [(int(p), self.response() if self.rng.random() < 0.3 else "accepted") for p in members if p != org]
        exdates, moved_done = [], False
        for k in range(count):
            local = dtstart + timedelta(days=7 * interval * k)
            day = self.d0 + weekday + 7 * interval * k
            start = exact_utc(tz, local)
            rid = utc_stamp(start)
            if not self.r.workday[org, day] or self.rng.random() < 0.04:
                exdates.append(local)
                continue
            override, status = False, "confirmed"
            if k > 0 and not moved_done and self.rng.random() < 0.25 and \
                    day + 1 < self.c.ndays and self.r.workday[org, day + 1] and weekday < 4:
                start = exact_utc(tz, local + timedelta(days=1))
                override = moved_done = True
            elif self.rng.random() < 0.02:
                status, override = "cancelled", True
            end = start + dur
            ps = np.array([p for p, _ in base], dtype=int)
            ok = self.fits(ps, start, end) if len(ps) else np.zeros(0, bool)
            atts = []
            for (p, resp), fit in zip(base, ok):
                if planted_evening:
                    d, _ = self.c.local(self.r.zone[[p]], np.array([start]))
                    fit = bool(self.r.workday[p, d[0]])
                if not fit or self.rng.random() < 0.04:
                    atts.append((p, "declined"))
                    override = override or resp != "declined"
                else:
                    atts.append((p, resp))
            self.add(uid, rid, start, end, org, title, kind, atts, status=status, series=uid,
                     override=override)
        self.series.append({"uid": uid, "title": title, "organizer_id": self.r.ids[org], "tz": tz,
                            "dtstart_local": dtstart, "duration_s": dur, "interval": interval,
                            "count": count, "exdates": tuple(exdates),
                            "attendees": tuple((self.r.ids[p], resp) for p, resp in base)})
        return uid

    def team_series(self) -> None:
        r = self.r
        for t in range(len(r.team_size)):
            s, n = r.team_start[t], r.team_size[t]
            members = np.arange(s, s + n)
            org = s
            name = team_name(t)
            weekday = int(self.rng.integers(0, 4))
            title = f"Team {name} standup" if t % 2 == 0 else f"{name} weekly status sync"
            planted = t == 1
            tod = 9 * 3600 if planted else self._overlap_slot(org, members, 1800, self.d0 + weekday)
            if tod is None:
                tod = int(r.ws[org])
            self.weekly_series("standup", title, org, members, weekday, tod, 1800, 1, planted)
            for p in members[1:]:
                wd = int(self.rng.integers(0, 5))
                slot = self._overlap_slot(org, np.array([p]), 1800, self.d0 + wd)
                if slot is None:
                    continue
                title = f"1:1 {r.people['display_name'].iat[org]} / {r.people['display_name'].iat[p]}"
                self.weekly_series("one_on_one", title, org, np.array([p]), wd, slot, 1800, 2)

    # -- single events --------------------------------------------------------------------
    def adhoc(self) -> None:
        r, rng, c = self.r, self.rng, self.c
        n = len(r.ids)
        is_mgr = np.zeros(n, bool)
        is_mgr[r.team_start] = True
        lam = np.where(is_mgr, 3.5, 2.2)
        counts = rng.poisson(np.repeat(lam[:, None], self.weeks, axis=1))
        durations = np.array([1800, 1800, 2700, 3600, 3600, 5400, 7200])
        for p, w in zip(*np.nonzero(counts)):
            for _ in range(counts[p, w]):
                day = self.d0 + 7 * w + int(rng.integers(0, 5))
                if not r.workday[p, day]:
                    continue
                dur = int(durations[rng.integers(len(durations))])
                grid = 900 if rng.random() < 0.2 else 1800
                span = (r.we[p] - r.ws[p] - dur) // grid
                if span < 0:
                    continue
                tod = int(r.ws[p] + grid * rng.integers(0, span + 1))
                start = int(c.utc(r.zone[p], day, tod))
                k = 1 + min(int(rng.poisson(1.6)), 7)
                if rng.random() < 0.75:
                    t = r.team[p]
                    cand = r.team_start[t] + rng.integers(0, r.team_size[t], size=k)
                else:
                    g = r.region[p]
                    cand = r.region_order[r.region_start[g] + rng.integers(0, r.region_size[g], size=k)]
                cand = np.unique(cand[cand != p])
                cand = cand[self.fits(cand, start, start + dur)] if len(cand) else cand
                status = "cancelled" if rng.random() < 0.03 else ("tentative" if rng.random() < 0.02 else "confirmed")
                transp = "transparent" if rng.random() < 0.03 else "opaque"
                title = ADHOC_TITLES[int(rng.integers(len(ADHOC_TITLES)))]
                self.add(self.uid("adhoc"), "", start, start + dur, int(p), title, "adhoc",
                         [(int(q), self.response()) for q in cand], status=status, transp=transp)

    def team_events(self) -> None:
        """Sprint planning (large, long: the team plus two managers), offsites (all-day), a hackathon (> 8 h)."""
        r, rng = self.r, self.rng
        for t in range(len(r.team_size)):
            s, n = r.team_start[t], r.team_size[t]
            members = np.arange(s, s + n)
            name = team_name(t)
            for w in range(self.weeks):
                if w % 4 == 1:
                    day = self.d0 + 7 * w + 2
                    slot = self._overlap_slot(s, members, 5400, day)
                    if slot is not None and r.workday[s, day]:
                        start = int(self.c.utc(r.zone[s], day, slot))
                        guests = np.unique(np.concatenate([members, [r.team_start[2],
                                           r.team_start[(t + 1) % len(r.team_size)]]]))
                        ok = self.fits(guests, start, start + 5400)
                        atts = [(int(p), "accepted" if f else "declined") for p, f in zip(guests, ok)]
                        self.add(self.uid("planning"), "", start, start + 5400, s,
                                 f"{name} sprint planning", "planning", atts)
                if (w + t) % 6 == 3:
                    day = self.c.date(self.d0 + 7 * w + 3)
                    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
                    self.add(self.uid("offsite"), "", start, start + 86400, s, f"{name} offsite",
                             "all_day", [(int(p), "accepted") for p in members], all_day=True,
                             transp="transparent" if t % 2 else "opaque")
            if t == 2 and self.weeks > 2:
                day = self.d0 + 14 + 3
                start = int(self.c.utc(r.zone[s], day, 8 * 3600 + 1800))
                self.add(self.uid("hackathon"), "", start, start + 10 * 3600, s, f"{name} hackathon",
                         "over_8h", [(int(p), "accepted") for p in members])
