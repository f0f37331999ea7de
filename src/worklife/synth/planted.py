"""Planted behaviours: extra messages, commits and meetings with exactly known ids.

Each block is a dict of parallel lists (sender, sent, to, tag); tags name the behaviour
in ``TAGS``. ``plant`` also adds the planted meetings to the calendar and returns the
specification that ends up in ``Org.planted`` (docs/synth.md lists every case).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


from worklife.synth._clock import exact_utc
from worklife.synth.meetings import Calendar

TAGS = {1: "night_ping", 2: "weekend_worker", 3: "daily_rest", 4: "seven_day_week", 5: "long_span"}


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plant(cal: Calendar, roles: dict) -> tuple[list[dict], list[dict], list[dict], dict]:
    r, c, rng, d0, W = cal.r, cal.c, cal.rng, cal.d0, cal.weeks
    idx = {p: i for i, p in enumerate(r.ids)}
    mail: list[dict] = []
    chat: list[dict] = []
    commits: list[dict] = []
    spec: dict = {}

    def local(p: int, d: int, seconds: int) -> int:
        day = c.date(d)
        return exact_utc(r.tz[p], datetime(day.year, day.month, day.day) + timedelta(seconds=seconds))

    def mate(p: int) -> int:
        t = r.team[p]
        return int(r.team_start[t] + (p - r.team_start[t] + 1) % r.team_size[t])

    def block(rows: list[tuple[int, int, int]], tag: int) -> dict:
        return {"sender": [a for a, _, _ in rows], "sent": [b for _, b, _ in rows],
                "to": [x for _, _, x in rows], "tag": tag}

    # 1. Night pinger: Tuesday nights 22:00-01:00 of each report, weeks 1..W-1.
    mgr = idx[roles["night_pinger"]]
    reports = [idx[p] for p in roles["night_pinger_reports"]]
    em, dm, weeks = [], [], []
    for k in range(1, W):
        d = d0 + 7 * k + 1
        if not r.workday[mgr, d]:
            continue
        weeks.append(k)
        for p in reports:
            if not r.workday[p, d]:
                continue
            t = local(p, d, 22 * 3600 + int(rng.integers(0, 9600)))
            em.append((mgr, t, p))
            dm.append((mgr, t + int(rng.integers(120, 600)), p))
    mail.append(block(em, 1))
    chat.append(block(dm, 1))
    spec["night_pinger"] = {"manager": roles["night_pinger"], "reports": roles["night_pinger_reports"],
                            "week_indexes": weeks, "report_local_window": "22:00-01:00 (Tuesday night)"}

    # 2. Weekend worker: every Sunday 10:00-14:00 local: e-mail, chat, commits.
    w = idx[roles["weekend_worker"]]
    em, dm, cm, dates = [], [], [], []
    for k in range(W):
        d = d0 + 7 * k + 6
        dates.append(c.date(d).isoformat())
        for j in range(3):
            em.append((w, local(w, d, 10 * 3600 + 3600 * j + int(rng.integers(0, 1800))), mate(w)))
        for j in range(4):
            dm.append((w, local(w, d, 10 * 3600 + 3000 * j + int(rng.integers(0, 600))), mate(w)))
        for j in range(2):
            cm.append((w, local(w, d, 12 * 3600 + 3600 * j + int(rng.integers(0, 1800))), -1))
    mail.append(block(em, 2))
    chat.append(block(dm, 2))
    commits.append(block(cm, 2))
    spec["weekend_worker"] = {"person": roles["weekend_worker"], "sundays": dates}

    # 3. Daily rest: last activity 23:30, first next-day activity 07:00 (week 1 Tuesday).
    a, b = idx[roles["daily_rest"]], idx[roles["daily_rest_partner"]]
    rest = []
    em = []
    for k in range(min(1, W - 1), W):
        d = d0 + 7 * k + 1
        if r.workday[a, d] and r.workday[a, d + 1]:
            t1, t2 = local(a, d, 23 * 3600 + 1800), local(a, d + 1, 7 * 3600)
            em += [(a, t1, mate(a)), (a, t2, mate(a))]
            rest.append({"person": roles["daily_rest"], "date": c.date(d).isoformat(),
                         "last_activity_utc": _iso(t1), "next_first_utc": _iso(t2),
                         "rest_hours": (t2 - t1) / 3600, "cause": "e-mail 23:30 then 07:00"})
            break
    midnight = None
    for k in range(min(2, W - 1), W):
        d = d0 + 7 * k + 2
        if all(r.workday[p, x] for p in (a, b) for x in (d, d + 1)):
            s, e = local(a, d, 22 * 3600 + 1800), local(a, d + 1, 1800)
            uid = cal.uid("release")
            cal.add(uid, "", s, e, a, "Release window", "midnight", [(b, "accepted")])
            t9 = {p: local(p, d + 1, 9 * 3600) for p in (a, b)}
            em += [(a, t9[a], mate(b)), (b, t9[b], a)]
            midnight = {"meeting_key": f"{uid}|", "attendees": [roles["daily_rest"], roles["daily_rest_partner"]],
                        "local": f"{c.date(d).isoformat()} 22:30 - {c.date(d + 1).isoformat()} 00:30"}
            for p, name in ((a, "daily_rest"), (b, "daily_rest_partner")):
                rest.append({"person": roles[name], "date": c.date(d).isoformat(),
                             "last_activity_utc": _iso(e), "next_first_utc": _iso(t9[p]),
                             "rest_hours": (t9[p] - e) / 3600, "cause": "meeting to 00:30 then 09:00"})
            break
    mail.append(block(em, 3))
    spec["midnight_meeting"] = midnight

    # 4. DST-night meeting (Paris): 01:00-04:00 wall clock on the night of a change.
    dst = None
    zp = c.index.get("Europe/Paris")
    change = [d for d in range(d0, d0 + 7 * W) if c.noon_off[zp, d] != c.noon_off[zp, d - 1]]
    p1, p2 = (idx[x] for x in roles["dst_meeting"])
    if change:
        d = change[0]
        s, e = local(p1, d, 3600), local(p1, d, 4 * 3600)
        uid = cal.uid("maintenance")
        cal.add(uid, "", s, e, p1, "Maintenance window", "dst", [(p2, "accepted")])
        dst = {"meeting_key": f"{uid}|", "attendees": list(roles["dst_meeting"]), "date": c.date(d).isoformat(),
               "tz": "Europe/Paris", "start_utc": _iso(s), "end_utc": _iso(e), "hours": (e - s) / 3600}
        for p in roles["dst_meeting"]:
            rest.append({"person": p, "date": c.date(d).isoformat(), "last_activity_utc": _iso(e),
                         "next_first_utc": None, "rest_hours": None, "cause": "DST-night meeting 01:00-04:00"})
    spec["dst_meeting"] = dst
    spec["daily_rest_breaches"] = rest

    # 5. Seven-day week: one e-mail at 11:00 every day of one week (the DST week if any).
    s7 = idx[roles["seven_day_week"]]
    k7 = (change[0] - d0) // 7 if change else min(1, W - 1)
    em = [(s7, local(s7, d0 + 7 * k7 + j, 11 * 3600), mate(s7)) for j in range(7)]
    mail.append(block(em, 4))
    spec["seven_day_week"] = {"person": roles["seven_day_week"], "week_index": int(k7),
                              "dates": [c.date(d0 + 7 * k7 + j).isoformat() for j in range(7)]}

    # 6. Long spans: 07:00 e-mail and 19:20 chat every workday of weeks 1-4.
    ls = idx[roles["long_span"]]
    em, dm = [], []
    wks = list(range(min(1, W - 1), min(5, W)))
    for k in wks:
        for j in range(7):
            d = d0 + 7 * k + j
            if r.workday[ls, d]:
                em.append((ls, local(ls, d, 7 * 3600 + int(rng.integers(0, 600))), mate(ls)))
                dm.append((ls, local(ls, d, 19 * 3600 + 1200 + int(rng.integers(0, 480))), mate(ls)))
    mail.append(block(em, 5))
    chat.append(block(dm, 5))
    spec["long_span"] = {"person": roles["long_span"], "week_indexes": wks,
                         "local_window": "07:00-19:30 every workday"}
    return mail, chat, commits, spec
