"""Person-week metrics on hand-built edge cases (docs/metrics.md is the contract).

One store holds one synthetic person per edge case; ``compute`` runs once per period.
Expected values are worked out by hand in the comments (UTC unless marked local).
"""

from __future__ import annotations

import pytest
from _metrics_store import commit, finish, meeting, message, person

from worklife.config import Config
from worklife.metrics import METRIC_COLUMNS, compute
from worklife.store import connect

P = "user99@example.com"  # the partner in every meeting (UTC)


def build_edge_store():
    s = connect(":memory:")
    person(s, P)
    person(s, "ext01@example.net", internal=False)
    # A: Paris, meeting Sunday 23:30 -> Monday 01:30 local, across a week boundary.
    a = person(s, "user01@example.com", tz="Europe/Paris")
    meeting(s, "2025-01-19 22:30", "2025-01-20 00:30", a, {P: "accepted"})
    # B: Paris, works every day 01:00-09:00; DST starts 2025-03-30 01:00Z; ends 2025-10-26 01:00Z.
    b = person(s, "user02@example.com", tz="Europe/Paris", start="01:00", end="09:00", workdays="Mon-Sun")
    meeting(s, "2025-03-30 00:30", "2025-03-30 02:00", b, {P: "accepted"})
    commit(s, "2025-10-26 12:00", b)
    # C: Sydney, every day 01:00-09:00; DST ends 2025-04-05 16:00Z, starts 2025-10-04 16:00Z.
    c = person(s, "user03@example.com", tz="Australia/Sydney", start="01:00", end="09:00", workdays="Mon-Sun")
    meeting(s, "2025-04-05 15:30", "2025-04-05 16:30", c, {P: "accepted"})
    meeting(s, "2025-10-04 15:30", "2025-10-04 17:00", c, {P: "accepted"})
    # D: UTC, boundary and exclusions.
    d = person(s, "user04@example.com")
    meeting(s, "2025-01-13 16:00", "2025-01-13 18:00", d, {P: "accepted"})
    meeting(s, "2025-01-14 10:00", "2025-01-14 11:00", d, {d: "declined", P: "accepted"}, key="declined-org")
    meeting(s, "2025-01-15 10:00", "2025-01-15 11:00", d, {P: "accepted"}, status="cancelled")
    meeting(s, "2025-01-15 12:00", "2025-01-15 13:00", d, {P: "accepted"}, transp="transparent")
    meeting(s, "2025-01-16 00:00", "2025-01-17 00:00", d, {P: "accepted"}, all_day=True)
    meeting(s, "2025-01-16 09:00", "2025-01-16 17:30", d, {P: "accepted"})
    meeting(s, "2025-01-17 10:00", "2025-01-17 11:00", d, {})
    # E: UTC, overlaps.
    e = person(s, "user05@example.com")
    meeting(s, "2025-01-13 10:00", "2025-01-13 11:00", e, {P: "accepted"})
    meeting(s, "2025-01-13 10:30", "2025-01-13 11:30", e, {P: "tentative"})
    meeting(s, "2025-01-14 10:00", "2025-01-14 12:00", e, {P: "accepted"})
    meeting(s, "2025-01-14 10:30", "2025-01-14 11:30", e, {P: "accepted"})
    meeting(s, "2025-01-14 11:00", "2025-01-14 13:00", e, {P: "needs-action"})
    meeting(s, "2025-01-15 09:00", "2025-01-15 17:00", e, {P: "accepted"})  # exactly 8 h counts
    # F: Kolkata (+05:30); G: Kathmandu (+05:45).
    f = person(s, "user06@example.com", tz="Asia/Kolkata")
    meeting(s, "2025-01-13 03:00", "2025-01-13 04:00", f, {P: "accepted"})
    g = person(s, "user07@example.com", tz="Asia/Kathmandu")
    meeting(s, "2025-01-14 03:00", "2025-01-14 03:30", g, {P: "accepted"})
    # I: Paris with French holidays; 1 May 2025 is a Thursday.
    i = person(s, "user09@example.com", tz="Europe/Paris", jurisdiction="FR")
    meeting(s, "2025-05-01 08:00", "2025-05-01 09:00", i, {P: "accepted"})
    # J: UTC, e-mail and chat rules.
    j = person(s, "user10@example.com")
    message(s, "2025-01-13 10:00", j, to=[P])
    message(s, "2025-01-13 10:01", P, to=[j])
    message(s, "2025-01-13 10:01", P, to=["user98@example.com"], bcc=[j])
    message(s, "2025-01-13 10:01", P, to=[j], auto=True)
    message(s, "2025-01-14 10:00", j, to=[P], key="same-a")
    message(s, "2025-01-14 10:00", P, to=[j], cc=[j], key="same-b")
    for t in ("10:00", "10:10", "10:25", "10:41"):
        message(s, f"2025-01-15 {t}", j, channel="chat", subject="#team")
    # K: UTC, long days.
    k = person(s, "user11@example.com")
    for day in ("13", "14", "15"):
        message(s, f"2025-01-{day} 06:00", k, channel="chat", subject="#ops")
        message(s, f"2025-01-{day} 23:00", k, channel="chat", subject="#ops")
    message(s, "2025-01-16 20:50", k, channel="chat", subject="#ops")
    message(s, "2025-01-16 21:05", k, channel="chat", subject="#ops")
    # L: no activity at all.
    person(s, "user12@example.com")
    # M: UTC, large / long / status meetings.
    m = person(s, "user13@example.com")
    guests = {f"guest{n:02d}@example.org": "accepted" for n in range(7)}
    meeting(s, "2025-01-14 14:00", "2025-01-14 15:30", m, {P: "accepted", **guests})
    meeting(s, "2025-01-14 16:00", "2025-01-14 16:30", m, {P: "accepted", **guests})
    meeting(s, "2025-01-13 09:00", "2025-01-13 09:30", m, {P: "accepted"}, title="Weekly status sync",
            recurring=True)
    meeting(s, "2025-01-14 09:00", "2025-01-14 09:30", m, {P: "accepted"}, title="status")
    return finish(s)


@pytest.fixture(scope="module")
def edge_store():
    s = build_edge_store()
    yield s
    s.close()


@pytest.fixture(scope="module")
def weeks(edge_store):
    return compute(edge_store, Config()).set_index(["person_id", "week"])


@pytest.fixture(scope="module")
def days(edge_store):
    df = compute(edge_store, Config(), period="day")
    df["date"] = df["date"].astype(str)
    return df.set_index(["person_id", "date"])


def row(df, pid, key):
    return df.loc[(pid, key)]


def test_columns_follow_the_contract(weeks):
    assert list(weeks.reset_index().columns[:3]) == ["person_id", "week", "week_start"]
    assert list(weeks.columns[1:]) == METRIC_COLUMNS


def test_external_people_are_not_measured(weeks):
    assert "ext01@example.net" not in weeks.index.get_level_values(0)


def test_person_without_activity_is_zero_filled(weeks):
    r = row(weeks, "user12@example.com", "2025-W03")
    assert r.collaboration_hours == 0 and r.meeting_hours == 0
    assert r.focus_hours == 40 and r.uninterrupted_hours == 40 and r.quiet_days == 7


def test_meeting_crossing_local_midnight_and_week_is_split(weeks):
    w3, w4 = row(weeks, "user01@example.com", "2025-W03"), row(weeks, "user01@example.com", "2025-W04")
    assert (w3.meeting_hours, w3.after_hours_meeting_hours, w3.meetings) == (0.5, 0.5, 1)
    assert (w4.meeting_hours, w4.after_hours_meeting_hours, w4.meetings) == (1.5, 1.5, 0)
    assert w3.weekend_days_active == 1 and w4.weekend_days_active == 0
    assert w4.workweek_span == 4.0  # 1.5 h on Monday, clamped up to 4 h
    assert (w3.active_connected_hours, w4.active_connected_hours) == (0.5, 1.5)
    assert (w3.quiet_days, w4.quiet_days) == (7, 6)  # Monday touched local hours 00 and 01


@pytest.mark.parametrize(
    "pid, date, meeting, after, focus",
    [
        pytest.param("user02@example.com", "2025-03-30", 1.5, 0.0, 5.0, id="paris-spring-forward"),
        pytest.param("user02@example.com", "2025-03-31", 0.0, 0.0, 8.0, id="paris-day-after"),
        pytest.param("user02@example.com", "2025-10-26", 0.0, 0.0, 9.0, id="paris-fall-back-window-9h"),
        pytest.param("user03@example.com", "2025-10-05", 1.5, 0.0, 5.0, id="sydney-spring-forward"),
        pytest.param("user03@example.com", "2025-04-06", 1.0, 0.0, 6.5, id="sydney-fall-back"),
    ],
)
def test_dst_days_in_both_hemispheres(days, pid, date, meeting, after, focus):
    r = row(days, pid, date)
    assert (r.meeting_hours, r.after_hours_meeting_hours, r.focus_hours) == (meeting, after, focus)


def test_dst_fold_blocks_are_labelled_by_local_clock(days):
    # 15:30-16:30Z on 2025-04-05 is 02:30-03:00 AEDT then 02:00-02:30 AEST: two local blocks.
    assert row(days, "user03@example.com", "2025-04-06").active_connected_hours == 1.0


def test_working_hours_boundary_and_exclusions(weeks):
    r = row(weeks, "user04@example.com", "2025-W03")
    # Only 16:00-18:00 Monday counts: declined own meeting, cancelled, free, all-day,
    # 8.5 h and a meeting alone are all excluded.
    assert (r.meeting_hours, r.after_hours_meeting_hours, r.meetings) == (2.0, 1.0, 1)


def test_declined_organizer_does_not_attend_but_others_do(days):
    # The organizer declined 10:00-11:00 on 2025-01-14 (excluded in the test above);
    # the partner still attends it: 1 (D) + 3 (E) + 1 (G) + 3 (M) occurrences that day.
    assert row(days, P, "2025-01-14").meetings == 8
    assert row(days, "user04@example.com", "2025-01-14").meeting_hours == 0


def test_overlaps_count_once_and_conflicts_only_the_overlap(weeks):
    r = row(weeks, "user05@example.com", "2025-W03")
    assert r.meeting_hours == 1.5 + 3.0 + 8.0
    assert r.conflicting_meeting_hours == 0.5 + 1.5
    assert r.long_meeting_hours == 3.0 + 8.0
    assert r.focus_hours == 5.5 + 4.0 + 0 + 8 + 8
    assert r.meetings == 6


@pytest.mark.parametrize(
    "pid, working, after, active",
    [
        pytest.param("user06@example.com", 0.5, 0.5, 1.0, id="kolkata-0830-0930"),
        pytest.param("user07@example.com", 0.25, 0.25, 1.0, id="kathmandu-0845-0915-two-local-blocks"),
    ],
)
def test_fractional_offset_zones(weeks, pid, working, after, active):
    r = row(weeks, pid, "2025-W03")
    assert r.meeting_hours - r.after_hours_meeting_hours == working
    assert r.after_hours_meeting_hours == after
    assert r.active_connected_hours == active


def test_public_holiday_is_after_hours_and_not_a_workday(weeks):
    r = row(weeks, "user09@example.com", "2025-W18")
    assert (r.meeting_hours, r.after_hours_meeting_hours) == (1.0, 1.0)
    assert r.weekend_days_active == 1 and r.workweek_span == 0
    assert r.focus_hours == 32.0


def test_email_gap_rule_bcc_and_auto(weeks):
    r = row(weeks, "user10@example.com", "2025-W03")
    # Mon: sent 60 s (next action 1 min later) + received 150 s; bcc and auto ignored.
    # Tue: sent and received at the same instant: 0 + 150 s.
    assert round(r.email_hours * 3600) == 60 + 150 + 0 + 150
    assert r.emails_sent == 2


def test_chat_sessions_merge_gaps_up_to_15_minutes(weeks):
    r = row(weeks, "user10@example.com", "2025-W03")
    assert round(r.chat_hours * 3600) == 1530 + 30 and r.chats_sent == 4
    assert round(r.collaboration_hours * 3600) == 360 + 1560


def test_weekend_collaboration_hours_is_the_local_saturday_and_sunday_part(weeks):
    """Fixed Saturday and Sunday in the person's zone (as Viva's), whatever their workdays."""
    # A (Paris): Sunday 23:30 -> Monday 01:30 local: the Sunday half hour in W03, none of W04's Monday
    assert round(row(weeks, "user01@example.com", "2025-W03").weekend_collaboration_hours * 3600) == 1800
    assert row(weeks, "user01@example.com", "2025-W04").weekend_collaboration_hours == 0
    assert row(weeks, "user01@example.com", "2025-W04").collaboration_hours == 1.5
    # B (Paris, works every day): Sunday 30 March 01:30 CET -> 04:00 CEST is 1.5 h, on a workday of B's
    b = row(weeks, "user02@example.com", "2025-W13")
    assert (b.weekend_collaboration_hours, b.weekend_days_active) == (1.5, 0)
    # the UTC partner: Sunday 19 January 22:30-24:00 of a week with 20.5 h of collaboration
    p = row(weeks, P, "2025-W03")
    assert (p.weekend_collaboration_hours, p.collaboration_hours) == (1.5, 20.5)


def test_span_clamp_over_40h_and_quiet_days(weeks):
    r = row(weeks, "user11@example.com", "2025-W03")
    assert r.workweek_span == 16 * 3 + 4
    assert bool(r.over_40h) is True
    assert r.quiet_days == 3
    assert round(r.after_hours_chat_hours * 3600) == 6 * 30 + 930


def test_large_long_and_status_meetings(weeks):
    r = row(weeks, "user13@example.com", "2025-W03")
    assert (r.large_meeting_hours, r.long_meeting_hours, r.large_and_long_meeting_hours) == (2.0, 1.5, 1.5)
    assert r.status_meeting_hours == 0.5  # the non-recurring "status" does not count


def test_person_who_changed_zone_is_measured_in_the_current_zone():
    s = connect(":memory:")
    person(s, P)
    pid = person(s, "user08@example.com", tz="UTC")
    meeting(s, "2025-01-13 10:00", "2025-01-13 11:00", pid, {P: "accepted"})
    finish(s)
    before = compute(s).set_index("person_id").loc[pid]
    person(s, pid, tz="Asia/Tokyo")  # the people row now says Tokyo: 19:00-20:00 local
    after = compute(s).set_index("person_id").loc[pid]
    assert (before.after_hours_meeting_hours, after.after_hours_meeting_hours) == (0.0, 1.0)


def test_invariants_hold_for_every_row(weeks):
    w = weeks
    assert (w.after_hours_collaboration_hours <= w.collaboration_hours + 1e-12).all()
    assert (w.collaboration_hours <= w.meeting_hours + w.email_hours + w.chat_hours + 1e-9).all()
    assert (w.conflicting_meeting_hours <= w.meeting_hours).all()
    assert (w.quiet_days.between(0, 7)).all()


def test_weeks_filter_and_bad_arguments(edge_store):
    df = compute(edge_store, Config(), weeks=["2025-W04"])
    assert set(df.week) == {"2025-W04"}
    from worklife.errors import ConfigError

    with pytest.raises(ConfigError):
        compute(edge_store, Config(), by="dept")
    with pytest.raises(ConfigError, match="unknown engine"):
        compute(edge_store, Config(), engine="bigquery")


def test_constants_come_from_the_config(edge_store):
    cfg = Config({"metrics.email_sent_minutes": 10.0, "metrics.email_received_minutes": 1.0})
    r = compute(edge_store, cfg, weeks=["2025-W03"]).set_index("person_id").loc["user10@example.com"]
    assert round(r.email_hours * 3600) == 60 + 60 + 0 + 60


def test_a_message_listing_a_person_on_to_and_cc_counts_once():
    """P on To and Cc of one e-mail (and the same e-mail a second time on To) receives it
    once: the same e-mail hours as one listing, not two (docs/metrics.md, e-mail)."""
    config = Config()
    received_h = float(config["metrics.email_received_minutes"]) / 60

    def email_hours(to_and_cc: bool) -> float:
        s = connect(":memory:")
        sender, p = person(s, "user01@example.com"), person(s, "user02@example.com")
        if to_and_cc:
            key = message(s, "2025-01-14 10:00", sender, to=[p], cc=[p])
            s.upsert("message_recipients", [{"message_key": key, "person_id": p, "kind": "To"}])
        else:
            message(s, "2025-01-14 10:00", sender, to=[p])
        df = compute(finish(s), config)
        return float(df.loc[df.person_id == p, "email_hours"].sum())

    assert email_hours(to_and_cc=True) == email_hours(to_and_cc=False) == pytest.approx(received_h)
