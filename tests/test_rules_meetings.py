"""One qualifying-meeting rule (``worklife.rules.meetings``) read the same way by every stage.

Oracles: the metric engine's Ibis attendance (itself checked against the synthetic
organisation's planted truth in test_metrics_truth.py) and hand-made days whose daily
rest depends on one late meeting.
"""

from __future__ import annotations

from datetime import date

import ibis
import pytest

from worklife.config import Config
from worklife.metrics.meetings import attendance, meeting_facts
from worklife.policy import check
from worklife.policy.rest import activity_sql
from worklife.rules.meetings import MeetingRule, meeting_rule
from worklife.store import connect
from test_policy_support import Org, at

synth = pytest.importorskip("worklife.synth")

LIS = "Europe/Lisbon"
SETTINGS = [{}, {"metrics.meeting_min_people": 3}, {"metrics.meeting_max_hours": 1.0},
            {"metrics.meeting_min_people": 5, "metrics.meeting_max_hours": 0.5}]


def config_with(settings: dict) -> Config:
    config = Config()
    for key, value in settings.items():
        config.set(key, value)
    return config


@pytest.fixture(scope="module")
def org_store():
    org = synth.generate(people=48, weeks=2, seed=5, start=date(2025, 3, 3))
    store = connect(":memory:")
    synth.load_into_store(org, store)
    yield store
    store.close()


def metric_attendance(store, config: Config) -> set[tuple[str, str]]:
    """(meeting_key, person_id) the metric engine counts (Ibis on the store's DuckDB)."""
    backend = ibis.duckdb.from_connection(store.con)
    attendees = backend.table("meeting_attendees")
    facts = meeting_facts(backend.table("meetings"), attendees)
    att = attendance(facts, attendees, config)
    df = att.filter(att.reason.isnull()).select("meeting_key", "person_id").execute()
    return set(map(tuple, df.itertuples(index=False)))


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "min3", "max1h", "min5-max30min"])
def test_sql_rendering_and_policy_activity_equal_metric_attendance(org_store, settings):
    config = config_with(settings)
    expected = metric_attendance(org_store, config)
    assert expected, "the synthetic organisation has qualifying meetings"
    sql = set(org_store.con.execute(
        f"SELECT meeting_key, person_id FROM ({meeting_rule(config).qualifying_attendance_sql()})").fetchall())
    policy = set(org_store.con.execute(
        f"SELECT ref, person_id FROM ({activity_sql(config)}) WHERE kind = 'meeting'").fetchall())
    assert sql == expected
    assert policy == expected


def test_settings_change_what_qualifies(org_store):
    base = metric_attendance(org_store, Config())
    for settings in SETTINGS[1:]:
        assert metric_attendance(org_store, config_with(settings)) < base


def test_rule_reads_its_two_settings():
    rule = meeting_rule(config_with({"metrics.meeting_min_people": 3, "metrics.meeting_max_hours": 1.5}))
    assert rule == MeetingRule(max_seconds=5400, min_people=3)
    assert [c.reason for c in rule.criteria] == [
        "cancelled", "free", "all-day", "too long", "fewer than 3 people", "declined"]


def late_meeting_org(store, people: int, hours: float) -> str:
    """A person whose only short rest is after a late meeting of ``people`` attendees lasting ``hours``."""
    org = Org(store)
    p = org.person(1)
    others = [org.person(n) for n in range(2, people + 1)]
    org.workday(p, "2025-03-04", LIS, "09:00", "17:00")
    org.meeting(p, others, at("2025-03-04 22:00", LIS), hours=hours)   # ends 22:00 + hours
    org.workday(p, "2025-03-05", LIS, "07:00", "17:00")
    org.workday(p, "2025-03-06", LIS, "09:00", "17:00")
    org.done()
    return p


@pytest.mark.parametrize("people, hours, settings, breach", [
    (2, 1.5, {}, True),                                    # 22:00-23:30, then work at 07:00: 7.5 h rest
    (2, 1.5, {"metrics.meeting_min_people": 3}, False),    # two people: not a meeting any more
    (3, 1.5, {"metrics.meeting_min_people": 3}, True),
    (2, 1.5, {"metrics.meeting_max_hours": 1.0}, False),   # longer than the maximum: not a meeting
], ids=["2p-default", "2p-min3", "3p-min3", "2p-max1h"])
def test_policy_daily_rest_follows_the_meeting_settings(store, people, hours, settings, breach):
    config = config_with(settings)
    p = late_meeting_org(store, people, hours)
    found = [f for f in check(store, config, "PT") if f.rule == "wt.daily_rest" and f.person_id == p]
    counted = {pid for _, pid in metric_attendance(store, config)}
    assert bool(found) is breach
    assert (p in counted) is breach   # the metric engine counts the meeting exactly when policy does
    if breach:
        assert [(f.count, f.value) for f in found] == [(1, 7.5)]


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "min3", "max1h", "min5-max30min"])
def test_digest_quick_numbers_equal_the_metric_values(org_store, settings):
    from datetime import UTC, datetime

    from worklife.digest import build_digest

    config = config_with(settings)
    teams = [r[0] for r in org_store.con.execute(
        "SELECT team FROM people WHERE is_internal AND team IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC").fetchall()]
    now = datetime(2025, 3, 24, tzinfo=UTC)
    seen = 0
    for team in teams[:2]:
        quick = {p.person_id: p.numbers for p in build_digest(org_store, config, team, "2025-W11", now,
                                                              numbers="quick").people}
        engine = {p.person_id: p.numbers for p in build_digest(org_store, config, team, "2025-W11", now,
                                                               numbers="metrics").people}
        for pid, q in quick.items():
            m = engine[pid]
            assert (q.meeting_hours, q.status_meeting_hours, q.meetings) == \
                (m.meeting_hours, m.status_meeting_hours, m.meetings), pid
            seen += q.meetings
    assert seen > 0


@pytest.mark.parametrize("settings", SETTINGS[:3], ids=["defaults", "min3", "max1h"])
def test_heatmap_meeting_hours_are_the_union_of_the_metric_attendance(org_store, settings):
    from worklife.report.heatmap import activity_heatmap

    config = config_with(settings)
    counted = metric_attendance(org_store, config)
    internal = {r[0] for r in org_store.con.execute("SELECT person_id FROM people WHERE is_internal").fetchall()}
    span = {k: (s, e) for k, s, e in org_store.con.execute(
        "SELECT meeting_key, epoch(start_utc), epoch(end_utc) FROM meetings").fetchall()}
    per: dict[str, list[tuple[float, float]]] = {}
    for key, pid in counted:
        if pid in internal:
            per.setdefault(pid, []).append(span[key])
    total = 0.0
    for intervals in per.values():  # union of each person's meetings, overlaps once
        end = None
        for s, e in sorted(intervals):
            if end is None or s > end:
                total += e - s
                end = e
            elif e > end:
                total += e - end
                end = e
    cells = activity_heatmap(org_store, config)
    assert cells.meeting_hours.sum() == pytest.approx(total / 3600, abs=1e-6)
