"""The ground truth computes docs/metrics.md exactly: hand-computed person-weeks.

A tiny hand-built org: P in Paris (spring-forward night 2025-03-30), Q in Kolkata
(+05:30), S and T in Sydney (fall-back night 2025-04-06). Every expected value below
is worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worklife.synth.model import Org
from worklife.synth.truth import covered_twice, person_week_metrics, subtract, union


def z(text: str) -> int:
    """'2025-03-24 09:00' (UTC) -> epoch seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def person(pid: str, tz: str, jur: str) -> dict:
    return {"person_id": pid, "email": pid, "display_name": pid, "tz": tz, "work_start": "09:00",
            "work_end": "17:00", "workdays": "Mon-Fri", "manager_id": None, "team": "T", "level": "IC1",
            "jurisdiction": jur, "slack_id": "U" + pid[:1]}


def meeting(key: str, start: str, end: str, title: str = "Review", recurring: bool = False) -> dict:
    return {"meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": z(start), "end_utc": z(end),
            "all_day": False, "status": "confirmed", "transp": "opaque", "organizer_id": None,
            "title": title, "is_recurring": recurring, "series_id": None}


def msg(key: str, channel: str, sender: str, at: str, auto: bool = False) -> dict:
    return {"message_key": key, "message_id": key, "channel": channel, "sender_id": sender,
            "sent_utc": z(at), "is_auto": auto, "conv_id": "D1" if channel == "chat" else None}


P, Q, S, T = "p@example.com", "q@example.com", "s@example.com", "t@example.com"


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    people = pd.DataFrame([person(P, "Europe/Paris", "FR"), person(Q, "Asia/Kolkata", "IN"),
                           person(S, "Australia/Sydney", "AU-NSW"), person(T, "Australia/Sydney", "AU-NSW")])
    meetings = pd.DataFrame([
        meeting("m1", "2025-03-24 09:00", "2025-03-24 10:00"),   # P 10:00-11:00 CET
        meeting("m2", "2025-03-24 09:30", "2025-03-24 11:00"),   # P 10:30-12:00 CET (long)
        meeting("m3", "2025-03-30 00:30", "2025-03-30 01:30"),   # P 01:30 CET - 03:30 CEST (1 h)
        meeting("s1", "2025-04-05 14:30", "2025-04-05 16:30"),   # S 01:30 AEDT - 02:30 AEST (2 h)
        meeting("x1", "2025-03-25 09:00", "2025-03-25 10:00"),   # cancelled: never counts
        meeting("x2", "2025-03-26 09:00", "2025-03-26 10:00"),   # P declined
    ])
    meetings.loc[meetings["meeting_key"] == "x1", "status"] = "cancelled"
    att = pd.DataFrame([(k, p, "accepted") for k in ("m1", "m2", "m3") for p in (P, Q)]
                       + [("s1", S, "organizer"), ("s1", T, "accepted"), ("x1", P, "organizer"),
                          ("x1", Q, "accepted"), ("x2", Q, "organizer"), ("x2", P, "declined")],
                       columns=["meeting_key", "person_id", "response"])
    messages = pd.DataFrame([
        msg("e1", "email", P, "2025-03-24 15:58"),   # P 16:58 CET; Q 21:28 IST
        msg("e2", "email", Q, "2025-03-24 16:01"),   # P 17:01 CET; Q 21:31 IST
        msg("e3", "email", Q, "2025-03-24 16:02", auto=True),  # auto-reply: ignored
        msg("c1", "chat", P, "2025-03-25 19:00"),    # P 20:00 CET
        msg("c2", "chat", P, "2025-03-25 19:10"),    # 10 min later: same session
        msg("c3", "chat", P, "2025-03-25 19:30"),    # 20 min later: new session
    ])
    rec = pd.DataFrame([("e1", Q, "to"), ("e1", Q, "cc"), ("e2", P, "to"), ("e3", P, "to"), ("c1", Q, "to")],
                       columns=["message_key", "person_id", "kind"])
    commits = pd.DataFrame({"outcome_key": ["h1"], "person_id": [P], "at_utc": [z("2025-03-29 09:00")],
                            "offset_s": [3600], "title": ["x"]})
    org = Org(seed=0, start=date(2025, 3, 24), weeks=2, people=people, series=pd.DataFrame(),
              meetings=meetings, meeting_attendees=att, messages=messages, message_recipients=rec,
              channels=pd.DataFrame(columns=["conv_id", "name", "kind", "members"]),
              commits=commits, planted={})
    return person_week_metrics(org).set_index(["person_id", "week"])


H = 3600

CASES = {
    # P, week of the spring-forward night (Paris).
    # meetings: union 10:00-12:00 (2 h) + 01:30-03:30 wall on Sunday (1 h real) = 3 h
    (P, "2025-W13", "meeting_hours"): 3.0,
    (P, "2025-W13", "conflicting_meeting_hours"): 0.5,          # 10:30-11:00
    (P, "2025-W13", "after_hours_meeting_hours"): 1.0,          # Sunday night
    (P, "2025-W13", "long_meeting_hours"): 1.5,                 # m2 only; m3 is exactly 1 h
    (P, "2025-W13", "large_meeting_hours"): 0.0,
    # e-mail: sent 16:58 cut at 17:01 by the received one (180 s), received 150 s
    (P, "2025-W13", "email_hours"): 330 / H,
    (P, "2025-W13", "after_hours_email_hours"): (60 + 150) / H,  # 17:00-17:01 and 17:01-17:03:30
    # chat: [20:00, 20:10:30) and [20:30, 20:30:30)
    (P, "2025-W13", "chat_hours"): 660 / H,
    (P, "2025-W13", "after_hours_chat_hours"): 660 / H,
    (P, "2025-W13", "collaboration_hours"): (3 * H + 330 + 660) / H,
    (P, "2025-W13", "after_hours_collaboration_hours"): (H + 210 + 660) / H,
    # span: Mon 10:00-16:58 (6 h 58 min); Tue chats 20:00-20:30 -> clamped up to 4 h
    (P, "2025-W13", "workweek_span"): (6 * H + 58 * 60 + 4 * H) / H,
    # blocks: Mon 10:00,10:30,11:00,11:30,16:30; Tue 20:00,20:30; Sat 10:00; Sun 01:30,03:00
    (P, "2025-W13", "active_connected_hours"): 5.0,
    # focus: Mon 12:00-17:00 (09:00-10:00 is < 2 h); Tue-Fri 8 h each
    (P, "2025-W13", "focus_hours"): 5 + 32,
    # uninterrupted: Mon 09:00-10:00 and 12:00-16:58; Tue-Fri 8 h each
    (P, "2025-W13", "uninterrupted_hours"): (H + 4 * H + 58 * 60 + 32 * H) / H,
    (P, "2025-W13", "weekend_days_active"): 2,                  # Sat commit, Sun meeting
    (P, "2025-W13", "quiet_days"): 6,                           # Sunday touches hours 01 and 03
    (P, "2025-W13", "over_40h"): False,
    (P, "2025-W13", "meetings"): 3,
    (P, "2025-W13", "emails_sent"): 1,
    (P, "2025-W13", "chats_sent"): 3,
    (P, "2025-W14", "meeting_hours"): 0.0,
    (P, "2025-W14", "focus_hours"): 40.0,
    (P, "2025-W14", "quiet_days"): 7,
    # Q in Kolkata (+05:30): meetings 14:30-16:30 IST Monday, 06:00-07:00 IST Sunday, and x2
    # Wednesday 14:30-15:30 IST, which Q organised: P's decline leaves Q's meeting standing
    (Q, "2025-W13", "meeting_hours"): 4.0,
    (Q, "2025-W13", "after_hours_meeting_hours"): 1.0,
    # received 21:28 (150 s: next action 180 s later), sent 21:31 (300 s); To+Cc counts once
    (Q, "2025-W13", "email_hours"): 450 / H,
    (Q, "2025-W13", "after_hours_email_hours"): 450 / H,
    # blocks 14:30, 15:00, 15:30, 16:00, 21:30 Monday; 14:30, 15:00 Wednesday; 06:00, 06:30 Sunday
    (Q, "2025-W13", "active_connected_hours"): 4.5,
    (Q, "2025-W13", "workweek_span"): (7 * H + 60 + 4 * H) / H,  # Mon 14:30-21:31, Wed 1 h -> 4 h
    (Q, "2025-W13", "meetings"): 4,
    (Q, "2025-W13", "weekend_days_active"): 1,
    (Q, "2025-W13", "quiet_days"): 7,
    (Q, "2025-W13", "chats_sent"): 0,
    # S in Sydney, fall-back night: 14:30Z-16:30Z is 2 h although the wall clock says 1 h
    (S, "2025-W14", "meeting_hours"): 2.0,
    (S, "2025-W14", "after_hours_meeting_hours"): 2.0,
    (S, "2025-W14", "active_connected_hours"): 1.5,              # 01:30, 02:00, 02:30 (02:00 twice = once)
    (S, "2025-W14", "quiet_days"): 6,                            # Sunday touches hours 01 and 02
    (S, "2025-W14", "weekend_days_active"): 1,
    (S, "2025-W14", "focus_hours"): 40.0,
    (S, "2025-W14", "meetings"): 1,
    (T, "2025-W14", "meeting_hours"): 2.0,
    (S, "2025-W13", "meeting_hours"): 0.0,
}


@pytest.mark.parametrize("key", list(CASES), ids=[f"{p.split('@')[0]}-{w}-{m}" for p, w, m in CASES])
def test_hand_computed_value(truth, key):
    pid, week, metric = key
    assert truth.loc[(pid, week), metric] == pytest.approx(CASES[key], abs=1e-9)


def test_every_person_gets_every_week_between_first_and_last_activity(truth):
    assert sorted(set(truth.index.get_level_values("week"))) == ["2025-W13", "2025-W14"]
    assert len(truth) == 8
    assert truth.loc[(P, "2025-W13"), "week_start"] == date(2025, 3, 24)


def test_sent_before_received_at_the_same_instant():
    """A sent and a received e-mail at the same second: the sent one covers 0 s."""
    people = pd.DataFrame([person(P, "UTC", ""), person(Q, "UTC", "")])
    messages = pd.DataFrame([msg("a", "email", P, "2025-03-24 10:00"), msg("b", "email", Q, "2025-03-24 10:00")])
    rec = pd.DataFrame([("a", Q, "to"), ("b", P, "to")], columns=["message_key", "person_id", "kind"])
    empty_m = pd.DataFrame(columns=["meeting_key", "start_utc", "end_utc", "all_day", "status", "transp",
                                    "title", "is_recurring"])
    org = Org(seed=0, start=date(2025, 3, 24), weeks=1, people=people, series=pd.DataFrame(),
              meetings=empty_m, meeting_attendees=pd.DataFrame(columns=["meeting_key", "person_id", "response"]),
              messages=messages, message_recipients=rec, channels=pd.DataFrame(),
              commits=pd.DataFrame(columns=["person_id", "at_utc"]), planted={})
    t = person_week_metrics(org).set_index("person_id")
    assert t.loc[P, "email_hours"] == pytest.approx(150 / H)  # sent: 0 s, received: 150 s


@pytest.mark.parametrize(
    "intervals, expected_union, expected_twice",
    [
        ([(0, 10), (5, 15)], [(0, 15)], [(5, 10)]),
        ([(0, 10), (10, 20)], [(0, 20)], []),
        ([(0, 10), (2, 4), (3, 8)], [(0, 10)], [(2, 8)]),
        ([(0, 0), (1, 2)], [(1, 2)], []),
    ],
    ids=["overlap", "touching", "nested", "empty"],
)
def test_interval_helpers(intervals, expected_union, expected_twice):
    assert union(intervals) == expected_union
    assert covered_twice(intervals) == expected_twice


def test_subtract_leaves_the_gaps():
    assert subtract((0, 100), [(10, 20), (50, 120)]) == [(0, 10), (20, 50)]


intervals_st = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 200)).map(lambda x: (x[0], x[0] + x[1])),
                        max_size=12)


@settings(max_examples=200, deadline=None)
@given(intervals_st)
def test_union_is_at_most_the_sum_and_overlap_within_union(intervals):
    u = union(intervals)
    length = sum(e - s for s, e in u)
    assert length <= sum(e - s for s, e in intervals)
    assert all(a[1] < b[0] for a, b in zip(u, u[1:]))  # disjoint and not touching
    twice = covered_twice(intervals)
    assert sum(e - s for s, e in twice) <= length
    for s, e in twice:  # every doubly covered second is covered by two intervals
        mid = (s + e) // 2
        assert sum(1 for a, b in intervals if a <= mid < b) >= 2
    gaps = subtract((0, 800), u)
    assert sum(e - s for s, e in gaps) + sum(min(e, 800) - max(s, 0) for s, e in u if e > 0 and s < 800) == 800
