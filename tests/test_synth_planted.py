"""What the synthetic org plants is in its ground truth, and nothing else looks like it.

The policy and metrics tests rely on these guarantees to assert precision and recall
(docs/synth.md, "Planted behaviours").
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from worklife.config import Config
from worklife.synth import generate, person_week_metrics
from worklife.synth.people import records
from worklife.workcal import resolve_person

START = date(2025, 3, 17)  # six weeks: European spring-forward, southern fall-back, Easter


@pytest.fixture(scope="module", params=[{"people": 60}, {"people": 100, "division_size": 50}],
                ids=["60x6", "100x6-two-divisions"])
def org(request):
    """One org of one division, and one of two divisions (only division 0 plants)."""
    return generate(weeks=6, seed=11, start=START, **request.param)


@pytest.fixture(scope="module")
def truth(org) -> pd.DataFrame:
    return person_week_metrics(org)


def planted_people(org) -> set[str]:
    p = org.planted
    return {p["night_pinger"]["manager"], p["weekend_worker"]["person"], p["seven_day_week"]["person"],
            p["long_span"]["person"], *p["dst_meeting"]["attendees"], *p["midnight_meeting"]["attendees"]}


def test_weekend_worker_is_active_every_weekend(org, truth):
    w = truth.loc[truth["person_id"] == org.planted["weekend_worker"]["person"]]
    assert len(w) == 6 and (w["weekend_days_active"] >= 1).all()


def test_only_planted_people_are_active_on_non_workdays(org, truth):
    active = set(truth.loc[truth["weekend_days_active"] > 0, "person_id"])
    p = org.planted
    assert active == {p["weekend_worker"]["person"], p["seven_day_week"]["person"], *p["dst_meeting"]["attendees"]}


def test_seven_day_week_person_is_active_all_days_of_the_planted_week(org, truth):
    p = org.planted["seven_day_week"]
    row = truth.loc[(truth["person_id"] == p["person"]) & (truth["week_start"] == date.fromisoformat(p["dates"][0]))]
    assert int(row["weekend_days_active"].iloc[0]) == 2


def test_night_pinger_reaches_reports_after_hours(org, truth):
    p = org.planted["night_pinger"]
    weeks = sorted(truth["week"].unique())
    planted_weeks = [weeks[k] for k in p["week_indexes"]]
    reports = truth.loc[truth["person_id"].isin(p["reports"]) & truth["week"].isin(planted_weeks)]
    assert (reports["after_hours_email_hours"] > 0).all()
    mgr = truth.loc[(truth["person_id"] == p["manager"]) & truth["week"].isin(planted_weeks)]
    assert (mgr["after_hours_chat_hours"] > 0).all() and (mgr["after_hours_email_hours"] > 0).all()
    keys = set(org.planted["message_keys"]["night_ping"])
    pings = org.messages.loc[org.messages["message_key"].isin(keys)]
    assert set(pings["channel"]) == {"email", "chat"} and (pings["sender_id"] == p["manager"]).all()


def test_no_other_manager_reaches_a_report_at_night(org):
    """Background guarantee: manager -> report messages land in the report's 07:00-21:00 on workdays."""
    cfg = Config()
    sched = {r["person_id"]: resolve_person(r, cfg) for r in records(org.people)}
    manager = dict(zip(org.people["person_id"], org.people["manager_id"]))
    rec = org.all_recipients().merge(org.messages[["message_key", "sender_id", "sent_utc"]], on="message_key")
    rec = rec.loc[[manager.get(p) == s for p, s in zip(rec["person_id"], rec["sender_id"])]]
    pings = set(org.planted["message_keys"]["night_ping"])
    bad = set()
    for key, pid, t in rec[["message_key", "person_id", "sent_utc"]].itertuples(index=False):
        s = sched[pid]
        local = datetime.fromtimestamp(int(t), ZoneInfo(s.tz))
        if not s.is_workday(local.date()) or not 7 <= local.hour < 21:
            bad.add(key)
    assert bad and bad <= pings  # planted pings exist, and nothing else does this


def test_long_span_person_exceeds_48_hours_and_nobody_else_does(org, truth):
    p = org.planted["long_span"]
    weeks = sorted(truth["week"].unique())
    mine = truth.loc[(truth["person_id"] == p["person"]) & truth["week"].isin([weeks[k] for k in p["week_indexes"]])]
    assert mine["workweek_span"].mean() > 48
    others = truth.loc[~truth["person_id"].isin(planted_people(org))]
    rolling = others.sort_values("week").groupby("person_id")["workweek_span"].apply(
        lambda s: s.rolling(4).mean().max())
    assert rolling.max() <= 48


def test_background_activity_stays_inside_working_hours_plus_two(org):
    """Every non-planted person's sent messages lie on workdays in [work_start, work_end + 2 h]."""
    cfg = Config()
    planted = planted_people(org) | {org.planted["daily_rest_breaches"][0]["person"]}
    sched = {r["person_id"]: resolve_person(r, cfg) for r in records(org.people)}
    m = org.messages.loc[~org.messages["is_auto"] & ~org.messages["sender_id"].isin(planted)]
    for pid, t in m[["sender_id", "sent_utc"]].itertuples(index=False):
        s = sched[pid]
        local = datetime.fromtimestamp(int(t), ZoneInfo(s.tz))
        sec = local.hour * 3600 + local.minute * 60 + local.second
        assert s.is_workday(local.date()) and s.work_start_s <= sec <= s.work_end_s + 7200, (pid, local)


def test_daily_rest_breaches_are_recorded_exactly(org):
    first = org.planted["daily_rest_breaches"][0]
    assert first["rest_hours"] == 7.5
    sent = org.messages.loc[org.messages["sender_id"] == first["person"], "sent_utc"]
    t1 = int(datetime.fromisoformat(first["last_activity_utc"].replace("Z", "+00:00")).timestamp())
    t2 = int(datetime.fromisoformat(first["next_first_utc"].replace("Z", "+00:00")).timestamp())
    assert {t1, t2} <= set(sent) and not ((sent > t1) & (sent < t2)).any()
    local = datetime.fromtimestamp(t1, timezone.utc).astimezone(
        ZoneInfo(org.people.set_index("person_id").loc[first["person"], "tz"]))
    assert (local.hour, local.minute) == (23, 30)


def test_public_holidays_silence_background_activity(org, truth):
    """Good Friday 2025-04-18 is a public holiday in DE, ES, AU-NSW, ...: nobody off that day sends."""
    cfg = Config()
    good_friday = date(2025, 4, 18)
    on_holiday = {r["person_id"] for r in records(org.people)
                  if not resolve_person(r, cfg).is_workday(good_friday)}
    assert on_holiday
    m = org.messages.loc[org.messages["sender_id"].isin(on_holiday - planted_people(org)) & ~org.messages["is_auto"]]
    tz = dict(zip(org.people["person_id"], org.people["tz"].fillna("UTC")))
    days = {datetime.fromtimestamp(int(t), ZoneInfo(tz[p])).date() for p, t in m[["sender_id", "sent_utc"]].itertuples(index=False)}
    assert good_friday not in days
    assert org.planted["holidays"]["DE"]


METRIC_PAIRS = [
    ("after_hours_meeting_hours", "meeting_hours"), ("after_hours_email_hours", "email_hours"),
    ("after_hours_chat_hours", "chat_hours"), ("after_hours_collaboration_hours", "collaboration_hours"),
    ("conflicting_meeting_hours", "meeting_hours"), ("large_and_long_meeting_hours", "large_meeting_hours"),
    ("large_and_long_meeting_hours", "long_meeting_hours"), ("status_meeting_hours", "meeting_hours"),
    ("meeting_hours", "collaboration_hours"), ("email_hours", "collaboration_hours"),
    ("chat_hours", "collaboration_hours"),
]


@pytest.mark.parametrize("part, whole", METRIC_PAIRS, ids=[f"{a}<={b}" for a, b in METRIC_PAIRS])
def test_ground_truth_part_never_exceeds_whole(truth, part, whole):
    assert (truth[part] <= truth[whole] + 1e-9).all()


def test_ground_truth_union_is_at_most_the_sum(truth):
    total = truth["meeting_hours"] + truth["email_hours"] + truth["chat_hours"]
    assert (truth["collaboration_hours"] <= total + 1e-9).all()
    assert (truth["after_hours_collaboration_hours"] <= truth["after_hours_meeting_hours"]
            + truth["after_hours_email_hours"] + truth["after_hours_chat_hours"] + 1e-9).all()


def test_ground_truth_ranges(truth):
    assert truth["quiet_days"].between(0, 7).all() and truth["weekend_days_active"].between(0, 7).all()
    active_days = truth["workweek_span"] / 16
    assert (active_days <= 7).all()
    assert (truth["over_40h"] == (truth["workweek_span"] > 40)).all()
    assert (np.round(truth["active_connected_hours"] * 2) == truth["active_connected_hours"] * 2).all()
    assert truth.groupby("week")["person_id"].count().nunique() == 1


def test_evening_standup_sits_in_the_members_evening(org):
    p = org.planted["evening_standup"]
    cfg = Config()
    sched = {r["person_id"]: resolve_person(r, cfg) for r in records(org.people)}
    occ = org.meetings.loc[org.meetings["uid"].isin(p["series_uids"]) & (org.meetings["status"] != "cancelled")]
    att = org.meeting_attendees.merge(occ[["meeting_key", "start_utc"]], on="meeting_key")
    att = att.loc[att["person_id"].isin(p["members"]) & (att["response"] != "declined")]
    assert len(att) > 0
    for pid, t in att[["person_id", "start_utc"]].itertuples(index=False):
        local = datetime.fromtimestamp(int(t), ZoneInfo(sched[pid].tz))
        assert local.hour * 3600 + local.minute * 60 >= sched[pid].work_end_s, (pid, local)
