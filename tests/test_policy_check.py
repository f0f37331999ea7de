"""`worklife.policy.check`: each person under their own jurisdiction's preset, with evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from worklife.policy import check, check_report, load_policy
from test_policy_support import Org, at

LIS, BA, SYD = "Europe/Lisbon", "America/Argentina/Buenos_Aires", "Australia/Sydney"


def rules(findings, person=None):
    return sorted((f.rule, f.person_id, f.counterpart_id, f.week, f.count) for f in findings
                  if f.rule.startswith(("rtd.", "wt.", "charter.", "boundary."))
                  and (person is None or f.person_id == person))


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("jur, tz, expected", [
    ("PT", LIS, ["rtd.contact"]),   # contact itself is prohibited
    ("AR", BA, []),                 # sending is allowed; no reply is owed
], ids=["PT-contact-prohibited", "AR-send-allowed"])
def test_off_hours_contact_is_a_breach_in_PT_but_not_in_AR(store, config, jur, tz, expected):
    org = Org(store)
    boss = org.person(1, tz=tz, jurisdiction=jur)
    worker = org.person(2, tz=tz, jurisdiction=jur, manager=1)
    org.message(boss, worker, at("2025-03-04 21:30", tz))
    org.done()
    policy = load_policy("auto")
    found = [f.rule for f in check(store, config, policy) if f.person_id == worker]
    assert found == expected


def test_AR_expecting_a_fast_off_hours_reply_is_a_breach(store, config):
    org = Org(store)
    boss = org.person(1, tz=BA, jurisdiction="AR")
    worker = org.person(2, tz=BA, jurisdiction="AR", manager=1)
    m = org.message(boss, worker, at("2025-03-04 21:30", BA), thread="t1")
    org.message(worker, boss, at("2025-03-04 21:45", BA), thread="t1", reply_to=m)
    org.done()
    found = [f for f in check(store, config, "auto") if f.rule == "rtd.reply_expected"]
    assert [(f.person_id, f.counterpart_id, f.severity, f.count) for f in found] == [(worker, boss, "high", 1)]
    assert found[0].samples[0].ref == m and found[0].samples[0].local == "2025-03-04 21:30"


def test_sender_in_another_zone_is_judged_by_the_recipients_clock(store, config):
    org = Org(store)
    sydney = org.person(1, tz=SYD, jurisdiction="AU-NSW")
    lisbon = org.person(2, tz=LIS, jurisdiction="PT")
    org.message(sydney, lisbon, at("2025-03-05 10:00", SYD))  # 23:00 the night before in Lisbon
    org.message(lisbon, sydney, at("2025-03-05 10:00", LIS))  # 21:00 in Sydney: AU allows contact
    org.done()
    found = rules(check(store, config, "auto"))
    assert found == [("rtd.contact", lisbon, sydney, "2025-W10", 1)]


def test_on_call_window_suppresses_contact_findings(store, config, tmp_path):
    org = Org(store)
    boss, worker = org.person(1), org.person(2, manager=1)
    org.message(boss, worker, at("2025-03-04 22:00", LIS))   # inside the on-call window
    org.message(boss, worker, at("2025-03-06 22:00", LIS))   # after it
    org.done()
    policy = load_policy(write(tmp_path, f"""
preset = "PT"
[[on_call]]
person = "{worker}"
from = 2025-03-03T17:00:00+00:00
to = 2025-03-05T09:00:00+00:00
"""))
    found = [f for f in check(store, config, policy) if f.rule == "rtd.contact"]
    assert [(f.count, f.samples[0].local) for f in found] == [(1, "2025-03-06 22:00")]


def test_eleven_hour_daily_rest_breach_across_midnight(store, config):
    org = Org(store)
    p = org.person(1)
    org.workday(p, "2025-03-04", LIS, "09:00", "23:30")
    org.workday(p, "2025-03-05", LIS, "07:00", "17:00")   # 7.5 h after 23:30
    org.workday(p, "2025-03-06", LIS, "09:00", "17:00")   # 16 h after 17:00: fine
    org.done()
    found = [f for f in check(store, config, "PT") if f.rule == "wt.daily_rest"]
    assert [(f.week, f.count, f.value, f.limit) for f in found] == [("2025-W10", 1, 7.5, 11.0)]
    assert found[0].samples[0].ref == "2025-03-04 23:30 -> 2025-03-05 07:00"


def test_twenty_four_hour_weekly_rest(store, config):
    org = Org(store)
    seven, five = org.person(1), org.person(2)
    for day in range(3, 24):   # 2025-03-03 (Mon) .. 2025-03-23 (Sun): every day for three weeks
        org.workday(seven, f"2025-03-{day:02d}", LIS)
        if day % 7 not in (1, 2):   # Mon-Fri only: weekends are 64 h rests
            org.workday(five, f"2025-03-{day:02d}", LIS)
    org.done()
    found = [f for f in check(store, config, "PT") if f.rule == "wt.weekly_rest"]
    assert [(f.person_id, f.week, f.count) for f in found] == [(seven, "2025-W10", 1), (seven, "2025-W11", 1)]


def test_forty_eight_hour_average_over_the_reference_period(store, config):
    org = Org(store)
    long_weeks, short_weeks = org.person(1), org.person(2)
    from datetime import date, timedelta
    d0 = date(2025, 3, 3)
    for i in range(28):   # four weeks of workdays
        day = d0 + timedelta(days=i)
        if day.weekday() < 5:
            org.workday(long_weeks, day.isoformat(), LIS, "08:00", "19:00")   # 11 h + 0.25 h per day
            org.workday(short_weeks, day.isoformat(), LIS, "09:00", "17:00")
    org.done()
    found = [f for f in check(store, config, "PT") if f.rule == "wt.avg_weekly_hours"]
    assert [(f.person_id, f.week, f.count, f.value) for f in found] == [(long_weeks, "2025-W10", 4, 56.25)]
    assert "partial period: 4 of 17 weeks" in found[0].message


def test_people_without_jurisdiction_are_reported_not_guessed(store, config):
    org = Org(store)
    known, unknown = org.person(1), org.person(2, jurisdiction=None)
    far = org.person(3, jurisdiction="US-CA", tz="America/Los_Angeles")
    org.message(known, unknown, at("2025-03-04 23:00", LIS))
    org.done()
    result = check_report(store, config, "auto")
    notes = sorted((f.rule, f.person_id) for f in result.findings if f.rule.startswith("person."))
    assert notes == [("person.no_jurisdiction", unknown), ("person.no_preset", far)]
    assert not [f for f in result.findings if f.person_id == unknown and f.rule.startswith("rtd.")]
    assert result.meta["people_checked"] == 1


def test_single_preset_run_checks_only_its_people(store, config):
    org = Org(store)
    org.person(1, jurisdiction="PT")
    org.person(2, jurisdiction="FR", tz="Europe/Paris")
    org.done()
    meta = check_report(store, config, "PT").meta
    assert (meta["people_checked"], meta["people_out_of_scope"]) == (1, 1)


def test_charter_quiet_hours_and_exempt_levels(store, config, tmp_path):
    org = Org(store)
    boss = org.person(1, jurisdiction="FR", tz="Europe/Paris")
    worker = org.person(2, jurisdiction="FR", tz="Europe/Paris")
    chief = org.person(3, jurisdiction="FR", tz="Europe/Paris", level="exec")
    for to in (worker, chief):
        org.message(boss, to, at("2025-03-04 20:30", "Europe/Paris"))   # quiet from 20:00
        org.message(boss, to, at("2025-03-04 18:00", "Europe/Paris"))   # after hours, not quiet
    org.done()
    policy = load_policy(write(tmp_path, """
preset = "auto"
org_size = 60
[quiet_hours]
start = "20:00"
end = "07:00"
[exempt]
levels = ["exec"]
"""))
    found = [(f.rule, f.person_id, f.count) for f in check(store, config, policy) if f.rule.startswith("charter.")]
    assert found == [("charter.quiet_hours", worker, 1)]


def test_an_organisation_without_a_charter_is_told_when_the_law_requires_one(store, config):
    org = Org(store)
    org.person(1, jurisdiction="ES", tz="Europe/Madrid")
    org.done()
    found = [f for f in check(store, config, "auto") if f.rule == "rtd.no_policy"]
    assert [(f.jurisdiction, f.person_id) for f in found] == [("ES", None)]
    assert "LOPDGDD" in found[0].source


def test_CL_twelve_hours_of_disconnection_for_remote_workers(store, config, tmp_path):
    org = Org(store)
    remote = org.person(1, tz="America/Santiago", jurisdiction="CL")
    office = org.person(2, tz="America/Santiago", jurisdiction="CL")
    for p in (remote, office):
        org.workday(p, "2025-03-04", "America/Santiago", "09:00", "21:00")
        org.workday(p, "2025-03-05", "America/Santiago", "08:00", "17:00")   # 11 h after 21:00
    org.done()
    policy = load_policy(write(tmp_path, f'preset = "CL"\n[scope]\nteleworkers = ["{remote}"]\n'))
    found = [(f.rule, f.person_id, f.value, f.limit) for f in check(store, config, policy)
             if f.rule == "rtd.min_disconnect"]
    assert found == [("rtd.min_disconnect", remote, 11.0, 12.0)]


def test_a_charter_cannot_exempt_where_the_law_allows_no_exception(store, config, tmp_path):
    org = Org(store)
    boss, chief = org.person(1), org.person(2, level="exec")
    org.message(boss, chief, at("2025-03-04 22:00", LIS))
    org.done()
    policy = load_policy(write(tmp_path, 'preset = "PT"\n[exempt]\nlevels = ["exec"]\n'))
    found = sorted(f.rule for f in check(store, config, policy) if f.person_id == chief)
    assert found == ["charter.exemption_ignored", "rtd.contact"]


def test_contact_before_the_law_was_in_force_is_not_a_breach(store, config):
    org = Org(store)
    boss, worker = org.person(1), org.person(2)
    org.message(boss, worker, at("2021-11-30 22:00", LIS))   # PT art. 199-A: from 2022-01-01
    org.message(boss, worker, at("2022-01-04 22:00", LIS))
    org.done()
    found = [f.week for f in check(store, config, "PT") if f.rule == "rtd.contact"]
    assert found == ["2022-W01"]


def test_every_rule_is_documented():
    import re
    import worklife.policy.engine as engine
    doc = (Path(__file__).resolve().parents[1] / "docs" / "policy.md").read_text(encoding="utf-8")
    for rule in set(re.findall(r"``((?:rtd|wt|charter|person|scope)\.[a-z_]+)``", engine.__doc__)):
        assert f"`{rule}`" in doc, rule


def test_an_empty_store_has_no_findings(store, config):
    result = check_report(store, config, "auto")
    assert result.findings == [] and result.meta["people_checked"] == 0


def test_check_works_when_python_replacement_scans_are_off(store, config):
    """Another stage's Ibis backend on the same connection may disable them."""
    org = Org(store)
    boss, worker = org.person(1), org.person(2)
    org.message(boss, worker, at("2025-03-04 22:00", LIS))
    org.done()
    store.con.execute("SET python_enable_replacements = false")
    assert [f.rule for f in check(store, config, "PT")] == ["rtd.contact"]


@pytest.mark.parametrize("end, breaches", [("20:00", []), ("21:00", [10.0])], ids=["13h-day-ok", "14h-day-breach"])
def test_a_working_day_may_span_at_most_13_hours(store, config, end, breaches):
    org = Org(store)
    p = org.person(1)
    org.workday(p, "2025-03-04", LIS, "07:00", end)
    org.workday(p, "2025-03-06", LIS, "09:00", "17:00")
    org.done()
    found = [f.value for f in check(store, config, "PT") if f.rule == "wt.daily_rest"]
    assert found == breaches


def test_charter_rules_cover_people_without_a_preset(store, config, tmp_path):
    """The charter is the organisation's own rule: quiet hours and reply_expected cover everyone."""
    org = Org(store)
    boss = org.person(1, tz="America/Chicago", jurisdiction=None)  # no jurisdiction
    worker = org.person(2, tz="America/Chicago", jurisdiction="US-TX")  # no preset covers it
    m = org.message(boss, worker, at("2025-03-04 21:30", "America/Chicago"), thread="t1")
    org.message(worker, boss, at("2025-03-04 21:45", "America/Chicago"), thread="t1", reply_to=m)
    org.done()
    policy = load_policy(write(tmp_path, """
reply_expected = true
[quiet_hours]
start = "20:00"
end = "07:00"
"""))
    result = check_report(store, config, policy)
    found = sorted((f.rule, f.person_id, f.jurisdiction, f.count) for f in result.findings
                   if f.rule.startswith(("charter.", "rtd.")))
    assert found == [("charter.quiet_hours", boss, "", 1), ("charter.quiet_hours", worker, "", 1),
                     ("rtd.reply_expected", worker, "", 1)]
    assert (result.meta["people_checked"], result.meta["people_no_jurisdiction"],
            result.meta["people_no_preset"]) == (0, 1, 1)


def test_assume_checks_everyone_against_one_preset(store, config):
    from dataclasses import replace

    org = Org(store)
    org.person(1, tz="America/Chicago", jurisdiction=None)
    org.person(2, tz="Asia/Tokyo", jurisdiction="JP")
    org.done()
    meta = check_report(store, config, replace(load_policy("auto"), assume="FR")).meta
    assert (meta["people_checked"], meta["by_preset"], meta["people_no_jurisdiction"]) == (2, {"FR": 2}, 0)
