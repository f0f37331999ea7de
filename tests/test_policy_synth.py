"""The synthetic organisation's planted violations are found exactly, and nothing else.

docs/synth.md guarantees the background: activity only on workdays inside working hours
(plus one evening burst of at most 2 h after work_end a week), and no manager message to a
report outside the report's local 07:00-21:00 or on their non-workday except the planted
night pings. So under a charter with quiet hours 21:00-07:00 and ``manager_contact``,
every right-to-disconnect and working-time finding must be a planted case:

- ``charter.manager_contact`` = the planted night pings, per (report, manager, ISO week), exactly;
- ``wt.daily_rest`` = the planted daily-rest breaches that have a rest length (the e-mail
  23:30 -> 07:00 and the midnight "Release window"), with that length, exactly. The
  DST-night meeting (01:00-04:00 on a Sunday) leaves >= 11 h on both sides, so under our
  definition it is not a daily-rest breach; it can break the attendees' weekly rest;
- ``wt.weekly_rest`` = the seven-day-week person in that week, plus possibly the DST-meeting
  attendees in the DST week (whether their Friday ended early enough is background);
- no other ``rtd.*`` / ``wt.*`` finding for anyone (precision over the whole organisation).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

synth = pytest.importorskip("worklife.synth")

from worklife.policy import check, load_policy  # noqa: E402
from worklife.store import connect  # noqa: E402


def iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


@pytest.fixture(scope="module", params=[(60, 6, 0), (48, 5, 1)], ids=["60x6-seed0", "48x5-seed1"])
def planted_run(request, tmp_path_factory):
    people, weeks, seed = request.param
    org = synth.generate(people=people, weeks=weeks, seed=seed)
    store = connect(":memory:")
    synth.load_into_store(org, store)
    policy_file = tmp_path_factory.mktemp("policy") / "policy.toml"
    policy_file.write_text('preset = "auto"\nmanager_contact = true\n'
                           '[quiet_hours]\nstart = "21:00"\nend = "07:00"\n', encoding="utf-8")
    from worklife.config import Config
    findings = check(store, Config(), load_policy(policy_file))
    yield org, store, findings
    store.close()


def test_night_pings_are_found_exactly(planted_run):
    org, store, findings = planted_run
    keys = org.planted["message_keys"]["night_ping"]
    rows = store.con.execute(
        "SELECT m.message_key, m.sender_id, r.person_id, m.sent_utc, p.tz FROM messages m "
        "JOIN message_recipients r ON r.message_key = m.message_key JOIN people p ON p.person_id = r.person_id "
        "WHERE m.message_key IN (SELECT unnest(?))", [keys]).fetchall()
    assert len(rows) == len(keys)
    expected = Counter((rcpt, sender, iso_week(t.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()))
                       for _, sender, rcpt, t, tz in rows)
    found = Counter({(f.person_id, f.counterpart_id, f.week): f.count
                     for f in findings if f.rule == "charter.manager_contact"})
    assert found == expected


def test_daily_rest_breaches_are_found_exactly(planted_run):
    org, store, findings = planted_run
    tz = dict(store.con.execute("SELECT person_id, tz FROM people").fetchall())
    expected = set()
    for b in org.planted["daily_rest_breaches"]:
        if b["rest_hours"] is None:
            continue
        last = datetime.fromisoformat(b["last_activity_utc"].replace("Z", "+00:00"))
        expected.add((b["person"], iso_week(last.astimezone(ZoneInfo(tz[b["person"]])).date()),
                      round(b["rest_hours"], 2)))
    found = {(f.person_id, f.week, f.value) for f in findings if f.rule == "wt.daily_rest"}
    assert found == expected and len(expected) == 3


def test_weekly_rest_breach_of_the_seven_day_week(planted_run):
    org, _, findings = planted_run
    seven = org.planted["seven_day_week"]
    week = iso_week(date.fromisoformat(seven["dates"][0]))
    allowed = {(seven["person"], week)}
    dst = org.planted["dst_meeting"]
    if dst:
        allowed |= {(p, iso_week(date.fromisoformat(dst["date"]) - timedelta(days=1))) for p in dst["attendees"]}
    found = {(f.person_id, f.week) for f in findings if f.rule == "wt.weekly_rest"}
    assert (seven["person"], week) in found and found <= allowed


def test_nothing_else_is_flagged(planted_run):
    _, _, findings = planted_run
    other = [(f.rule, f.person_id, f.week) for f in findings
             if f.rule.startswith(("rtd.", "wt.")) and f.rule not in ("wt.daily_rest", "wt.weekly_rest")]
    assert other == []


def test_people_without_a_preset_are_reported(planted_run):
    org, _, findings = planted_run
    people = org.people
    no_preset = set(people.loc[people["jurisdiction"].isin(["US-CA", "IN", "NP"]), "person_id"])
    assert {f.person_id for f in findings if f.rule == "person.no_preset"} == no_preset
