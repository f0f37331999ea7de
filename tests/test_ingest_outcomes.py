"""Outcome ingest: GitHub issues/pulls JSON, Jira JSON and CSV, generic outcomes and aliases CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.errors import IngestError
from worklife.ingest import github, jira, outcomes_csv
from worklife.store import connect

FIX = Path(__file__).parent / "fixtures" / "digest"
ALL = ["aliases.csv", "github_issues.json", "github_pulls.json", "jira_search.json", "jira_export.csv", "outcomes.csv"]
PEOPLE = [("user01@example.com", "Europe/Paris"), ("user02@example.com", "America/New_York"),
          ("user03@example.com", "Europe/London")]


def people_rows() -> list[dict]:
    return [{"person_id": p, "email": p, "display_name": f"Test Person 0{i + 1}", "team": "platform", "tz": tz}
            for i, (p, tz) in enumerate(PEOPLE)]


@pytest.fixture
def store():
    s = connect()
    s.upsert("people", people_rows())
    yield s
    s.close()


def outcomes(store, ref: str) -> dict[str, tuple]:
    """kind -> (person_id, at_utc ISO, state, url) for one ref."""
    rows = store.con.execute(
        "SELECT kind, person_id, strftime(at_utc, '%Y-%m-%dT%H:%M:%S'), state, url FROM outcomes WHERE ref = ?",
        [ref]).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("name, kind", [
    ("github_issues.json", "github"), ("github_pulls.json", "github"), ("jira_search.json", "jira"),
    ("jira_export.csv", "jira"), ("outcomes.csv", "outcomes_csv"), ("aliases.csv", "outcomes_csv"),
], ids=lambda v: str(v))
def test_each_fixture_is_detected_as_its_kind(name, kind):
    assert ingest.detect_kind(FIX / name) == kind


@pytest.mark.parametrize("header", [
    "person_id,email,display_name,tz,team",            # a people file belongs to csvfiles
    "date,amount,description",                          # any other CSV
    "person,at,kind,ref,title",                         # outcomes header without state
], ids=["people-file", "unrelated-csv", "outcomes-missing-state"])
def test_outcomes_csv_does_not_claim_other_csvs(tmp_path, header):
    p = tmp_path / "x.csv"
    p.write_text(header + "\n")
    assert not outcomes_csv.detect(p)
    assert not jira.detect(p)


def test_other_json_is_not_claimed(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps([{"id": 1, "name": "general"}]))
    assert not github.detect(p) and not jira.detect(p)


def test_github_pull_request_becomes_opened_merged_and_updated(store):
    ingest.run([FIX / "aliases.csv", FIX / "github_issues.json"], store, Config())
    pr = outcomes(store, "example-org/widgets#101")
    assert pr == {
        "pr_opened": ("user01@example.com", "2026-11-12T10:04:11", "merged", "https://github.com/example-org/widgets/pull/101"),
        "pr_merged": ("user01@example.com", "2026-11-18T15:20:43", "merged", "https://github.com/example-org/widgets/pull/101"),
        "pr_updated": ("user01@example.com", "2026-11-18T15:20:44", "merged", "https://github.com/example-org/widgets/pull/101"),
    }


def test_github_issue_closed_is_credited_to_the_assignee_and_labels_mark_blocked(store):
    ingest.run([FIX / "aliases.csv", FIX / "github_issues.json"], store, Config())
    assert outcomes(store, "example-org/widgets#95")["issue_closed"][0] == "user01@example.com"
    assert outcomes(store, "example-org/widgets#95")["issue_opened"][0] == "user02@example.com"
    assert {v[2] for v in outcomes(store, "example-org/widgets#80").values()} == {"blocked"}
    assert "issue_not_planned" in outcomes(store, "example-org/widgets#97")


def test_pulls_api_format_is_read_too(store):
    ingest.run([FIX / "aliases.csv", FIX / "github_pulls.json"], store, Config())
    pr = outcomes(store, "example-org/api#7")
    assert pr["pr_merged"][:3] == ("user02@example.com", "2026-11-20T16:29:59", "merged")


def test_unknown_login_keeps_a_github_id(store):
    ingest.run([FIX / "github_issues.json"], store, Config())
    assert outcomes(store, "example-org/widgets#97")["issue_opened"][0] == "github:outside-contributor"


def test_jira_json_resolves_email_then_account_id(store):
    ingest.run([FIX / "aliases.csv", FIX / "jira_search.json"], store, Config())
    closed = outcomes(store, "PLAT-11")
    assert closed["task_closed"] == ("user01@example.com", "2026-11-17T15:42:10", "closed",
                                     "https://example-org.atlassian.net/browse/PLAT-11")
    assert closed["task_opened"][0] == "user02@example.com"  # emailAddress shown by Jira
    assert outcomes(store, "PLAT-13")["task_updated"][2] == "blocked"  # status "Blocked"
    assert outcomes(store, "PLAT-12")["task_updated"][2] == "open"


@pytest.mark.parametrize("zone, expected", [("UTC", "2026-11-20T16:10:00"), ("Europe/Paris", "2026-11-20T15:10:00")],
                         ids=["utc", "paris"])
def test_jira_csv_dates_are_wall_clock_in_the_configured_zone(store, zone, expected):
    ingest.run([FIX / "aliases.csv", FIX / "jira_export.csv"], store, Config({"digest.jira_csv_tz": zone}))
    row = outcomes(store, "PLAT-21")["task_closed"]
    assert row[:3] == ("user03@example.com", expected, "closed")  # display name aliased
    assert outcomes(store, "PLAT-22")["task_updated"][2] == "blocked"  # label "on-hold"


def test_bad_records_are_quarantined_with_their_location(store):
    summaries = ingest.run([FIX / n for n in ALL], store, Config())
    assert {s.source.split("/")[-1]: s.quarantined for s in summaries} == {
        "aliases.csv": 0, "github_issues.json": 1, "github_pulls.json": 0,
        "jira_search.json": 1, "jira_export.csv": 1, "outcomes.csv": 1}
    locations = {r[0].removeprefix(f"{FIX}/"): r[1] for r in store.con.execute("SELECT location, reason FROM quarantine").fetchall()}
    assert locations == {
        "github_issues.json#example-org/widgets#99": "unreadable GitHub item: missing created_at",
        "jira_search.json#PLAT-15": "unreadable Jira issue: missing fields.created",
        "jira_export.csv:4": "unreadable Jira issue: unreadable date 'yesterday' (expected e.g. 16/Nov/26 2:03 PM)",
        "outcomes.csv:7": "instant '2026-11-18 10:00' has no UTC offset",
    }


def test_reingest_changes_nothing(store):
    first = ingest.run([FIX / n for n in ALL], store, Config())
    before = store.con.execute("SELECT * FROM outcomes ORDER BY outcome_key").fetchall()
    again = ingest.run([FIX / n for n in ALL], store, Config())
    assert store.con.execute("SELECT * FROM outcomes ORDER BY outcome_key").fetchall() == before
    assert sum(s.inserted for s in again) == 0
    assert sum(s.duplicate for s in again) == sum(s.inserted for s in first) == len(before)


def test_a_newer_export_updates_the_state_in_place(store, tmp_path):
    items = json.loads((FIX / "github_issues.json").read_text())
    ingest.run([FIX / "aliases.csv"], store, Config())
    (tmp_path / "a.json").write_text(json.dumps(items))
    ingest.run([tmp_path / "a.json"], store, Config())
    pr = next(i for i in items if i["number"] == 102)
    pr.update(state="closed", closed_at="2026-11-24T10:00:00Z", updated_at="2026-11-24T10:00:00Z")
    pr["pull_request"]["merged_at"] = "2026-11-24T10:00:00Z"
    (tmp_path / "b.json").write_text(json.dumps(items))
    ingest.run([tmp_path / "b.json"], store, Config())
    rows = outcomes(store, "example-org/widgets#102")
    assert set(rows) == {"pr_opened", "pr_merged", "pr_updated"}
    assert {v[2] for v in rows.values()} == {"merged"}
    assert rows["pr_updated"][1] == "2026-11-24T10:00:00"


def test_streaming_reader_survives_tiny_chunks(tmp_path):
    doc = {"expand": "names", "names": {"summary": "Summary"}, "total": 3,
           "issues": [{"key": f"X-{i}", "n": 12345.5, "s": "a,]}\"b"} for i in range(3)]}
    p = tmp_path / "s.json"
    p.write_text(json.dumps(doc, indent=1))
    got = list(outcomes_csv.iter_json_items(p, keys=("issues",), chunk_chars=7))
    assert got == doc["issues"]


def test_malformed_json_is_an_ingest_error(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('[{"number": 1, "html_url": "https://github.com/o/r/issues/1", "created_at": ')
    with pytest.raises(IngestError, match="broken.json"):
        list(outcomes_csv.iter_json_items(p))


def test_aliases_csv_maps_logins_to_people(store):
    ingest.run([FIX / "aliases.csv"], store, Config())
    aliases = dict(store.con.execute("SELECT alias, person_id FROM person_aliases").fetchall())
    assert aliases["github:tp-user01"] == "user01@example.com"
    assert aliases["jira:test person 03"] == "user03@example.com"
