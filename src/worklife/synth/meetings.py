"""Calendars: recurring standups and 1:1s (RRULE, EXDATE, overrides) and single events.

Background rule (what keeps planted behaviour separable): every background meeting lies
inside the working hours of each attendee on a workday of theirs; invitees for whom it
would not are not invited (ad-hoc) or decline that occurrence (series, team events).
Exceptions are planted and listed in ``Org.planted``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from worklife.synth._clock import Clock, exact_utc
from worklife.synth.people import Roster

ADHOC_TITLES = ["Design review", "Project sync", "Customer call prep", "Pairing session",
                "Roadmap discussion", "Interview debrief", "Budget review", "Architecture review",
                "Incident follow-up", "Weekly update", "Quick check-in", "Hiring panel",
                "Vendor demo", "Data model workshop", "Release planning"]
RESPONSES = ["accepted", "tentative", "declined", "needs-action"]


def utc_stamp(t: int) -> str:
    """UTC seconds -> '2025-03-03T09:00:00Z' (the recurrence_id convention)."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Calendar:
    """Collects occurrences, attendees and series rows."""

    def __init__(self, roster: Roster, clock: Clock, rng: np.random.Generator, seed: int, d0: int, weeks: int,
                 tag: str | None = None, planted: bool = True):
        self.r, self.c, self.rng, self.seed = roster, clock, rng, seed
        self.tag = tag or f"s{seed}"  # in every UID: s<seed>, s<seed>d<division> beyond division 0
        self.planted = planted        # team 1's standup is the planted evening standup
        team = roster.people["team"].to_numpy()
        self.team_names = [str(team[s]) for s in roster.team_start]
        self.d0, self.weeks = d0, weeks
        self.occ: list[dict] = []
        self.att: list[dict] = []
        self.series: list[dict] = []
        self.frames: list[tuple[pd.DataFrame, pd.DataFrame]] = []  # vectorised (occurrences, attendees)
        self.n = 0

    # -- helpers --------------------------------------------------------------------------
    def uid(self, kind: str) -> str:
        self.n += 1
        return f"{kind}-{self.n:07d}-{self.tag}@synth.example.com"

    def fits(self, p: np.ndarray, start, end) -> np.ndarray:
        """Whether [start, end) lies inside each person's working hours on one of their workdays."""
        z = self.r.zone[p]
        start = np.broadcast_to(np.asarray(start, dtype=np.int64), p.shape)
        end = np.broadcast_to(np.asarray(end, dtype=np.int64), p.shape)
        ds, ts = self.c.local(z, start)
        de, te = self.c.local(z, end)
        ds_c = np.minimum(np.maximum(ds, 0), self.c.ndays - 1)
        return (ds == de) & self.r.workday[p, ds_c] & (ts >= self.r.ws[p]) & (te <= self.r.we[p])

    def responses(self, n: int) -> np.ndarray:
        """``n`` invitee responses: accepted 74 %, tentative 10 %, declined 9 %, needs-action 7 %."""
        return np.asarray(RESPONSES, dtype=object)[self.rng.choice(4, size=n, p=[0.74, 0.1, 0.09, 0.07])]

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
        others = np.array([p for p in members if p != org], dtype=np.int64)
        drawn = self.responses(len(others))
        varied = self.rng.random(len(others)) < 0.3
        base = [(int(p), str(d) if v else "accepted") for p, d, v in zip(others, drawn, varied)]
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
            ps = others
            if planted_evening:
                d, _ = self.c.local(self.r.zone[ps], np.full(len(ps), start))
                ok = self.r.workday[ps, d]
            else:
                ok = self.fits(ps, start, end) if len(ps) else np.zeros(0, bool)
            ok = ok & (self.rng.random(len(ps)) >= 0.04)
            atts = []
            for (p, resp), fit in zip(base, ok):
                if not fit:
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
            name = self.team_names[t]
            weekday = int(self.rng.integers(0, 4))
            title = f"Team {name} standup" if t % 2 == 0 else f"{name} weekly status sync"
            planted = t == 1 and self.planted
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
        """Ad-hoc meetings, vectorised: ~2.2 per person-week organised (3.5 for managers)."""
        r, rng, c = self.r, self.rng, self.c
        n = len(r.ids)
        is_mgr = np.zeros(n, bool)
        is_mgr[r.team_start] = True
        lam = np.where(is_mgr, 3.5, 2.2)
        counts = rng.poisson(np.repeat(lam[:, None], self.weeks, axis=1))
        p, w = np.nonzero(counts)
        k = counts[p, w]
        p, w = np.repeat(p, k), np.repeat(w, k)
        m = len(p)
        day = self.d0 + 7 * w + rng.integers(0, 5, size=m)
        durations = np.array([1800, 1800, 2700, 3600, 3600, 5400, 7200])
        dur = durations[rng.integers(0, len(durations), size=m)]
        grid = np.where(rng.random(m) < 0.2, 900, 1800)
        span = (r.we[p] - r.ws[p] - dur) // grid
        slot = (rng.random(m) * (np.maximum(span, 0) + 1)).astype(np.int64)
        ok = r.workday[p, day] & (span >= 0)
        p, day, dur, tod = p[ok], day[ok], dur[ok], (r.ws[p] + grid * slot)[ok]
        m = len(p)
        start = c.utc(r.zone[p], day, tod)
        end = start + dur
        # invitees: teammates (75 % of meetings) or people of the region
        kk = 1 + np.minimum(rng.poisson(1.6, size=m), 7)
        mi = np.repeat(np.arange(m), kk)
        org = p[mi]
        t, g = r.team[org], r.region[org]
        team_pick = r.team_start[t] + (rng.random(len(mi)) * r.team_size[t]).astype(np.int64)
        region_pick = r.region_order[r.region_start[g] + (rng.random(len(mi)) * r.region_size[g]).astype(np.int64)]
        cand = np.where((rng.random(m) < 0.75)[mi], team_pick, region_pick)
        keep = cand != org
        mi, cand = mi[keep], cand[keep]
        _, first = np.unique(mi * (n + 1) + cand, return_index=True)
        first.sort()
        mi, cand = mi[first], cand[first]
        keep = self.fits(cand, start[mi], end[mi])
        mi, cand = mi[keep], cand[keep]
        u = rng.random(m)
        status = np.where(u < 0.03, "cancelled", np.where(rng.random(m) < 0.02, "tentative", "confirmed"))
        transp = np.where(rng.random(m) < 0.03, "transparent", "opaque")
        title = np.asarray(ADHOC_TITLES, dtype=object)[rng.integers(0, len(ADHOC_TITLES), size=m)]
        resp = self.responses(len(mi))
        uid = np.array([f"adhoc-{self.n + i + 1:07d}-{self.tag}@synth.example.com" for i in range(m)], dtype=object)
        self.n += m
        key = uid + "|"
        tz = np.asarray(r.tz, dtype=object)
        self.frames.append((
            pd.DataFrame({"meeting_key": key, "uid": uid, "recurrence_id": "", "start_utc": start, "end_utc": end,
                          "all_day": False, "status": status, "transp": transp, "organizer_id": r.ids[p],
                          "title": title, "is_recurring": False, "series_id": None, "tz": tz[p],
                          "override": False, "kind": "adhoc"}),
            pd.concat([
                pd.DataFrame({"meeting_key": key, "person_id": r.ids[p], "response": "organizer",
                              "role": "CHAIR", "is_organizer": True, "_o": np.arange(m), "_i": -1}),
                pd.DataFrame({"meeting_key": key[mi], "person_id": r.ids[cand], "response": resp,
                              "role": "REQ-PARTICIPANT", "is_organizer": False, "_o": mi, "_i": np.arange(len(mi))}),
            ]).sort_values(["_o", "_i"], kind="stable").drop(columns=["_o", "_i"]),
        ))

    def team_events(self) -> None:
        """Sprint planning (large, long: the team plus two managers), offsites (all-day), a hackathon (> 8 h)."""
        r = self.r
        for t in range(len(r.team_size)):
            s, n = r.team_start[t], r.team_size[t]
            members = np.arange(s, s + n)
            name = self.team_names[t]
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
