"""The activity heat-map: each person's activity on their own local clock, in SQL.

A tiny store with two people: one in Europe/Berlin, whose clocks go forward inside
the week (Sunday 2025-03-30, 01:00 UTC: +01:00 -> +02:00), and one in Asia/Kolkata
(+05:30, no DST). Every expected cell below is worked out by hand.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from worklife.config import Config
from worklife.report.heatmap import activity_heatmap, heatmap_matrix
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

BERLIN = "user01@example.com"  # Test Person 01, Europe/Berlin
KOLKATA = "user02@example.com"  # Test Person 02, Asia/Kolkata
OUTSIDER = "someone@external.example.org"  # not in people: never counted

MON, TUE, WED, SUN = 0, 1, 2, 6


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _person(pid: str, tz: str | None, internal: bool = True) -> dict:
    return {"person_id": pid, "email": pid, "display_name": pid.split("@")[0], "tz": tz,
            "team": "Team A", "is_internal": internal}


def _msg(key: str, sender: str, at: str, auto: bool = False, channel: str = "email") -> dict:
    return {"message_key": key, "message_id": key, "channel": channel, "sender_id": sender,
            "sent_utc": utc(at), "is_auto": auto}


def _meeting(key: str, start: str, end: str, status: str = "confirmed", transp: str = "opaque",
             all_day: bool = False) -> dict:
    return {"meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": utc(start),
            "end_utc": utc(end), "all_day": all_day, "status": status, "transp": transp,
            "title": "Test meeting", "is_recurring": False}


def _att(key: str, pid: str, response: str) -> dict:
    return {"meeting_key": key, "person_id": pid, "response": response,
            "is_organizer": response == "organizer"}


@pytest.fixture
def store():
    s = connect()
    s.upsert("people", [_person(BERLIN, "Europe/Berlin"), _person(KOLKATA, "Asia/Kolkata")])
    s.upsert("messages", [
        _msg("m1", BERLIN, "2025-03-25 08:30:00"),   # Tue 09:30 CET
        _msg("m2", BERLIN, "2025-03-30 00:30:00"),   # Sun 01:30 CET (before the change)
        _msg("m3", BERLIN, "2025-03-30 01:30:00", channel="chat"),  # Sun 03:30 CEST (after)
        _msg("m4", BERLIN, "2025-03-25 08:40:00", auto=True),  # auto-reply: not counted
        _msg("m5", KOLKATA, "2025-03-25 03:00:00"),  # Tue 08:30 IST
        _msg("m6", KOLKATA, "2025-03-30 20:00:00"),  # Mon 01:30 IST (next local day)
        _msg("m7", OUTSIDER, "2025-03-25 10:00:00"),  # external sender: not counted
    ])
    s.upsert("meetings", [
        _meeting("k1", "2025-03-30 00:30:00", "2025-03-30 02:00:00"),  # spans Berlin's DST change
        _meeting("k2", "2025-03-30 01:30:00", "2025-03-30 02:30:00"),  # overlaps k1 for Berlin
        _meeting("k3", "2025-03-26 12:00:00", "2025-03-26 13:00:00"),  # Kolkata declined
        _meeting("k4", "2025-03-26 14:00:00", "2025-03-26 15:00:00", status="cancelled"),
        _meeting("k5", "2025-03-27 00:00:00", "2025-03-28 00:00:00", all_day=True),
        _meeting("k6", "2025-03-27 09:00:00", "2025-03-27 10:00:00", transp="transparent"),
        _meeting("k7", "2025-03-27 11:00:00", "2025-03-27 12:00:00"),  # only one attendee
        _meeting("k8", "2025-03-27 13:00:00", "2025-03-27 22:00:00"),  # 9 h: longer than 8 h
    ])
    s.upsert("meeting_attendees", [
        _att("k1", BERLIN, "organizer"), _att("k1", KOLKATA, "accepted"),
        _att("k1", OUTSIDER, "needs-action"),
        _att("k2", BERLIN, "accepted"), _att("k2", OUTSIDER, "accepted"),
        _att("k3", BERLIN, "organizer"), _att("k3", KOLKATA, "declined"),
        _att("k4", BERLIN, "organizer"), _att("k4", KOLKATA, "accepted"),
        _att("k5", BERLIN, "organizer"), _att("k5", KOLKATA, "accepted"),
        _att("k6", BERLIN, "organizer"), _att("k6", KOLKATA, "accepted"),
        _att("k7", BERLIN, "organizer"),
        _att("k8", BERLIN, "organizer"), _att("k8", KOLKATA, "accepted"),
    ])
    refresh_tz_offsets(s)
    yield s
    s.close()


# (weekday, local hour) -> messages sent
EXPECTED_MESSAGES = {
    (TUE, 9): 1,   # m1 Berlin
    (SUN, 1): 1,   # m2 Berlin, CET
    (SUN, 3): 1,   # m3 Berlin, CEST: 01:30 UTC is 03:30 local, not 02:30
    (TUE, 8): 1,   # m5 Kolkata, half-hour offset
    (MON, 1): 1,   # m6 Kolkata, Sunday evening UTC is Monday morning local
}

# (weekday, local hour) -> meeting hours
EXPECTED_MEETING_HOURS = {
    # Berlin: k1 ∪ k2 = 00:30-02:30 UTC; 00:30-01:00 at +1 -> 01:30-02:00 local,
    # 01:00-02:30 at +2 -> 03:00-04:30 local (the 02:00 hour does not exist that night).
    (SUN, 1): 0.5,
    (SUN, 3): 1.0,
    (SUN, 4): 0.5,
    # Kolkata: k1 00:30-02:00 UTC at +5:30 -> 06:00-07:30 local.
    (SUN, 6): 1.0,
    (SUN, 7): 0.5,
    # Berlin: k3 12:00-13:00 UTC (Wednesday, CET) -> 13:00-14:00 local; Kolkata declined.
    (WED, 13): 1.0,
}


def test_message_counts_fall_in_each_senders_local_hour(store):
    cells = activity_heatmap(store, Config())
    got = {(r.weekday, r.hour): r.messages_sent for r in cells.itertuples() if r.messages_sent}
    assert got == EXPECTED_MESSAGES


def test_meeting_hours_are_the_union_split_at_dst_and_local_hours(store):
    cells = activity_heatmap(store, Config())
    got = {(r.weekday, r.hour): round(r.meeting_hours, 6) for r in cells.itertuples() if r.meeting_hours}
    assert got == EXPECTED_MEETING_HOURS


def test_grid_has_every_cell_once(store):
    cells = activity_heatmap(store, Config())
    assert len(cells) == 7 * 24
    assert not cells.duplicated(["weekday", "hour"]).any()
    matrix = heatmap_matrix(cells, "meeting_hours")
    assert len(matrix) == 7 and all(len(row) == 24 for row in matrix)
    assert matrix[SUN][3] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "setting, value, lost",
    [
        # k2 and k3 have two invitees; k1 (three) alone leaves Berlin 03:00-04:00 local.
        pytest.param("metrics.meeting_min_people", 3, {(SUN, 4), (WED, 13)},
                     id="min-people-3-drops-two-person-meetings"),
        # k1 (90 min) goes; k2 alone is 03:30-04:30 Berlin time, still in hours 3 and 4.
        pytest.param("metrics.meeting_max_hours", 1.0, {(SUN, 1), (SUN, 6), (SUN, 7)},
                     id="max-1h-drops-the-90-minute-meeting"),
    ],
)
def test_meeting_rules_follow_the_config(store, setting, value, lost):
    cells = activity_heatmap(store, Config({setting: value}))
    got = {(r.weekday, r.hour) for r in cells.itertuples() if r.meeting_hours}
    assert got == set(EXPECTED_MEETING_HOURS) - lost


def test_person_without_zone_uses_the_default_zone(store):
    store.con.execute("UPDATE people SET tz = NULL WHERE person_id = ?", [KOLKATA])
    cells = activity_heatmap(store, Config({"defaults.tz": "UTC"}))
    got = {(r.weekday, r.hour): r.messages_sent for r in cells.itertuples() if r.messages_sent}
    assert got[(TUE, 3)] == 1 and got[(SUN, 20)] == 1  # m5, m6 on the UTC clock
