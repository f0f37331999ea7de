"""Boundary pressure: off-hours contact in the recipient's calendar, replies, managers, meetings."""

from __future__ import annotations

import pytest

from worklife.policy.boundary import boundary_pressure, sender_view
from test_policy_support import Org, at

LIS, NY = "Europe/Lisbon", "America/New_York"


def test_sender_daytime_into_recipient_night_is_off_hours_and_not_the_reverse(store, config):
    org = Org(store)
    lisbon = org.person(1, tz=LIS)
    newyork = org.person(2, tz=NY, jurisdiction="CA-ON")
    # 10:00 in Lisbon is 05:00 in New York: the New York recipient's night.
    org.message(lisbon, newyork, at("2025-03-04 10:00", LIS))
    # 11:00 in New York is 15:00 in Lisbon: inside the Lisbon recipient's hours.
    org.message(newyork, lisbon, at("2025-03-04 11:00", NY))
    org.done()
    bp = boundary_pressure(store, config)
    pairs = bp["by_pair"].set_index(["sender_id", "recipient_id"])["off_hours_contacts"].to_dict()
    assert pairs == {(lisbon, newyork): 1}


@pytest.mark.parametrize("local, off", [
    ("2025-03-30 00:30", True),    # DST night in Lisbon: clocks jump 01:00 -> 02:00
    ("2025-10-26 01:30", True),    # DST fold: 01:30 happens twice, both at night
    ("2025-03-31 09:30", False),   # first morning of summer time: 08:30 UTC is 09:30 local
    ("2025-10-27 08:59", True),
    ("2025-10-27 09:00", False),
    ("2025-10-27 16:59", False),
    ("2025-10-27 17:00", True),
    ("2025-12-25 11:00", True),    # public holiday in PT
], ids=["dst-gap-night", "dst-fold-night", "dst-first-morning", "just-before-start", "start", "just-before-end", "end", "holiday"])
def test_recipient_local_clock_classifies_each_instant(store, config, local, off):
    org = Org(store)
    a, b = org.person(1, tz=LIS), org.person(2, tz=LIS)
    org.message(a, b, at(local, LIS))
    org.done()
    bp = boundary_pressure(store, config)
    assert int(bp["by_recipient"]["off_hours_contacts"].sum()) == int(off)


def test_after_hours_reply_within_window_and_manager_contact(store, config):
    org = Org(store)
    boss = org.person(1, tz=LIS)
    report = org.person(2, tz=LIS, manager=1)
    m = org.message(boss, report, at("2025-03-04 22:00", LIS), thread="t1")
    org.message(report, boss, at("2025-03-04 22:20", LIS), thread="t1", reply_to=m)
    late = org.message(boss, report, at("2025-03-05 21:00", LIS), thread="t2")
    org.message(report, boss, at("2025-03-05 23:30", LIS), thread="t2", reply_to=late)  # 150 min: outside window
    org.done()
    bp = boundary_pressure(store, config)
    assert bp["replies"][["sender_id", "recipient_id", "after_hours_replies"]].values.tolist() == [[boss, report, 1]]
    assert bp["manager"][["manager_id", "report_id", "off_hours_contacts"]].values.tolist() == [[boss, report, 2]]


def test_sender_view_counts_what_could_have_been_held(store, config):
    org = Org(store)
    me, a, b = org.person(1), org.person(2), org.person(3)
    org.message(me, a, at("2025-03-04 10:00", LIS))                          # in hours
    org.message(me, [a, b], at("2025-03-04 21:00", LIS))                     # holdable
    org.message(me, b, at("2025-03-04 22:00", LIS), subject="URGENT: outage")  # urgent: not holdable
    org.message(a, me, at("2025-03-05 06:00", LIS))                          # a writes first...
    org.message(me, a, at("2025-03-05 06:10", LIS))                          # ...live exchange: not holdable
    org.message(me, a, at("2025-03-08 11:00", LIS))                          # Saturday: holdable
    org.done()
    view = sender_view(store, config, "USER01@example.com")
    assert (view.messages, view.off_hours_messages, view.holdable_messages, view.recipients_reached) == (5, 4, 2, 2)
    assert view.sentence().startswith("4 of your 5 messages arrived outside their recipients' hours")
    assert "50%" in view.sentence()


def test_meeting_burden_is_time_outside_own_hours_with_organizer(store, config):
    org = Org(store)
    lisbon = org.person(1, tz=LIS)
    ny = org.person(2, tz=NY, jurisdiction="CA-ON")
    # 16:00-18:00 Lisbon = 11:00-13:00 New York: 1 h outside for Lisbon, 0 for New York.
    org.meeting(ny, [lisbon], at("2025-03-04 16:00", LIS), hours=2)
    org.done()
    mt = boundary_pressure(store, config)["meetings"].set_index("person_id")
    assert mt.loc[lisbon, "outside_hours"] == pytest.approx(1.0)
    assert mt.loc[lisbon, "outside_share"] == pytest.approx(0.5)
    assert mt.loc[ny, "outside_hours"] == pytest.approx(0.0)
    orgs = boundary_pressure(store, config)["meeting_organizers"]
    assert orgs.values.tolist() == [[lisbon, ny, 1.0]]


def test_team_matrix_suppresses_small_teams(store, config):
    org = Org(store)
    a, b = org.person(1, team="Team A"), org.person(2, team="Team B")
    org.message(a, b, at("2025-03-04 22:00", LIS))
    org.done()
    team = boundary_pressure(store, config)["by_team"]
    assert team["suppressed"].all() and team["off_hours_contacts"].isna().all()
    team = boundary_pressure(store, config, min_group_size=1)["by_team"]
    assert team.set_index(["sender_team", "recipient_team"]).loc[("Team A", "Team B"), "off_hours_contacts"] == 1
