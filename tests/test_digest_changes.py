"""What changed since last week (from export states and Jira changelogs), and who sees which figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.digest import build_digest, render
from worklife.digest.deliver import message_payload
from worklife.errors import WorklifeError
from worklife.store import connect

WEEK = "2026-W47"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
P1, P2, P3 = (f"user0{i}@example.com" for i in (1, 2, 3))
SITE = "https://example-org.atlassian.net"


def jira_issue(key: str, status: str, histories: list[tuple[str, str, str, str]], created: str,
               updated: str, resolved: str | None = None, assignee: str = P1) -> dict:
    return {"key": key, "self": f"{SITE}/rest/api/2/issue/{key}", "fields": {
        "summary": f"Summary of {key}", "status": {"name": status}, "created": created, "updated": updated,
        "resolutiondate": resolved, "assignee": {"emailAddress": assignee, "accountId": assignee},
        "reporter": {"emailAddress": assignee, "accountId": assignee}, "project": {"key": "PLAT"}},
        "changelog": {"histories": [{"id": hid, "created": at, "author": {"emailAddress": assignee},
                                     "items": [{"field": "status", "fromString": a, "toString": b}]}
                                    for hid, at, a, b in histories]}}


ISSUES = [
    # moved this week: In Progress -> In Review
    jira_issue("PLAT-1", "In Review", [("11", "2026-11-18T10:00:00.000+0100", "In Progress", "In Review")],
               "2026-11-02T10:00:00.000+0100", "2026-11-18T10:00:00.000+0100"),
    # closed last week, reopened this week
    jira_issue("PLAT-2", "To Do", [("21", "2026-11-12T10:00:00.000+0100", "In Progress", "Done"),
                                   ("22", "2026-11-19T10:00:00.000+0100", "Done", "To Do")],
               "2026-11-02T10:00:00.000+0100", "2026-11-19T10:00:00.000+0100", assignee=P2),
    # started this week and shipped this week
    jira_issue("PLAT-3", "Done", [("31", "2026-11-20T10:00:00.000+0100", "In Progress", "Done")],
               "2026-11-17T10:00:00.000+0100", "2026-11-20T10:00:00.000+0100", "2026-11-20T10:00:00.000+0100"),
    # open since October, no activity: stale and carried over
    jira_issue("PLAT-4", "In Progress", [], "2026-10-01T10:00:00.000+0100", "2026-10-05T10:00:00.000+0100",
               assignee=P3),
]
GITHUB = [{"number": 9, "title": "Crash on empty body", "html_url": "https://github.com/o/r/issues/9",
           "state": "open", "state_reason": "reopened", "user": {"login": "user01"},
           "assignees": [{"login": "user01"}], "labels": [], "created_at": "2026-11-01T10:00:00Z",
           "updated_at": "2026-11-18T10:00:00Z", "closed_at": None}]


@pytest.fixture
def store(tmp_path):
    (tmp_path / "jira.json").write_text(json.dumps({"issues": ISSUES}))
    (tmp_path / "gh.json").write_text(json.dumps(GITHUB))
    (tmp_path / "aliases.csv").write_text(f"alias,kind,person_id\nuser01,github,{P1}\n")
    s = connect()
    s.upsert("people", [{"person_id": p, "email": p, "display_name": f"Test Person 0{i + 1}", "tz": "Europe/Paris",
                         "team": "alpha"} for i, p in enumerate((P1, P2, P3))])
    s.upsert("messages", [{"message_key": "late", "channel": "email", "sender_id": P1, "is_auto": False,
                           "sent_utc": datetime(2026, 11, 17, 21, 0)}])  # 22:00 Paris: after hours
    ingest.run([tmp_path / "aliases.csv", tmp_path / "jira.json", tmp_path / "gh.json"], s, Config())
    yield s
    s.close()


def changes(d) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in d.work:
        for it in p.items:
            out.setdefault(it.change, set()).add(it.ref)
    return out


def test_moved_reopened_shipped_and_stale_from_states_and_changelogs(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW, numbers="none")
    assert changes(d) == {"moved": {"PLAT-1"}, "reopened": {"PLAT-2", "o/r#9"}, "shipped": {"PLAT-3"},
                          "stale": {"PLAT-4"}}
    carried = {it.ref for p in d.work for it in p.items if it.carried}
    assert carried == {"PLAT-1", "PLAT-2", "PLAT-4", "o/r#9"}
    assert d.previous is not None and d.previous["shipped"] == 1  # PLAT-2 was done last week


def test_the_summary_is_two_plain_sentences_from_the_counts(store):
    text = render(build_digest(store, Config(), "alpha", WEEK, NOW, numbers="none"), "md")
    lines = text.split("\n\n")
    assert lines[1] == "Test Person 01 shipped 1 task in PLAT (last week 1 shipped); 1 moved."
    assert lines[2] == ("Needs attention: 1 item idle for 7+ days and 2 reopened. "
                        "4 items from earlier weeks still open.")
    assert f"[Summary of PLAT-2]({SITE}/browse/PLAT-2) (PLAT-2) — Test Person 02" in text


def test_no_individual_figures_in_the_team_digest(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW, numbers="quick")
    assert d.people[0].numbers.after_hours == 1  # known to the digest ...
    text = render(d, "md")
    assert "after-hours" in text and "%" not in text  # ... but not shown: 3 people < min_group_size 10
    assert "fewer than 10 (privacy.min_group_size)" in text
    small = render(build_digest(store, Config({"privacy.min_group_size": 3}), "alpha", WEEK, NOW, numbers="quick"), "md")
    assert "Meetings across the team (3 people)" in small and "after-hours share of activity instants: 100%" in small
    assert "Your meetings" not in small


def test_a_personal_digest_shows_the_persons_own_figures_and_goes_only_to_them(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW, numbers="quick", person=P1)
    text = render(d, "md")
    assert text.startswith("# Test Person 01 — week 2026-W47")
    assert "Your meetings this week (Europe/Paris): 0 h in 0 meetings" in text and "100%" in text
    assert "Test Person 02" not in text and "Test Person 03" not in text
    msg = message_payload(d, "digest@example.com")
    assert msg["recipients"] == [P1] and msg["idempotency_key"] == f"digest:alpha:{WEEK}:{P1}"
    with pytest.raises(WorklifeError, match="not in team"):
        build_digest(store, Config(), "alpha", WEEK, NOW, person="user09@example.com")


def test_jira_issues_in_an_epic_are_grouped_under_it(tmp_path):
    epic = {"key": "PLAT-7", "fields": {"summary": "Faster uploads", "issuetype": {"name": "Epic"}}}
    story = {"key": "PLAT-6", "fields": {"summary": "A story", "issuetype": {"name": "Story"}}}
    issues = [jira_issue("PLAT-8", "Done", [], "2026-11-16T10:00:00.000+0100", "2026-11-18T10:00:00.000+0100",
                         "2026-11-18T10:00:00.000+0100"),
              jira_issue("PLAT-9", "Done", [], "2026-11-16T10:00:00.000+0100", "2026-11-18T10:00:00.000+0100",
                         "2026-11-18T10:00:00.000+0100")]
    issues[0]["fields"]["parent"] = epic
    issues[1]["fields"]["parent"] = story  # a sub-task's parent is no grouping
    (tmp_path / "jira.json").write_text(json.dumps({"issues": issues}))
    s = connect()
    s.upsert("people", [{"person_id": P1, "email": P1, "display_name": "Test Person 01", "tz": "Europe/Paris",
                         "team": "alpha"}])
    ingest.run([tmp_path / "jira.json"], s, Config())
    d = build_digest(s, Config(), "alpha", WEEK, NOW, numbers="none")
    assert {p.project: [i.ref for i in p.items] for p in d.work} == {
        "PLAT › Faster uploads (PLAT-7)": ["PLAT-8"], "PLAT": ["PLAT-9"]}
    assert "### PLAT › Faster uploads (PLAT-7)" in render(d, "md")
