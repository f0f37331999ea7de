"""Privacy: small groups are suppressed everywhere; pseudonyms are keyed, stable, domain-keeping."""

from __future__ import annotations

import pandas as pd
import pytest
from _metrics_store import finish, meeting, person
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import Config
from worklife.errors import ConfigError
from worklife.metrics import compute
from worklife.privacy import pseudonym, pseudonymise, suppress_small_groups
from worklife.store import connect


def test_pseudonym_is_stable_keyed_and_keeps_nothing_of_the_address():
    a = pseudonym("User01@Example.com", "k1")
    assert a == pseudonym("user01@example.com", "k1")
    assert "example" not in a and "user01" not in a and "@" not in a
    assert a != pseudonym("user01@example.com", "k2")
    assert a != pseudonym("user01@example.org", "k1")
    assert "@" not in pseudonym("U123SLACK", "k1")


def test_pseudonym_needs_a_key():
    with pytest.raises(ConfigError):
        pseudonym("user01@example.com", "")


def test_pseudonymise_replaces_only_the_named_columns():
    df = pd.DataFrame({"person_id": ["user01@example.com"], "team": ["Team A"]})
    out = pseudonymise(df, ["person_id"], "k")
    assert out.team[0] == "Team A" and out.person_id[0] != "user01@example.com"


@pytest.mark.parametrize("people, suppressed", [(3, True), (9, True), (10, False)], ids=["3", "9", "10"])
def test_groups_under_the_minimum_are_suppressed(people, suppressed):
    df = pd.DataFrame({"team": ["T"], "people": [people], "meeting_hours_mean": [4.0]})
    out = suppress_small_groups(df, ["team"], "people", config=Config())
    assert bool(out.suppressed[0]) is suppressed
    assert pd.isna(out.meeting_hours_mean[0]) is suppressed
    assert out.team[0] == "T" and out.people[0] == people


@pytest.fixture(scope="module")
def team_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("privacy") / "w.duckdb"
    s = connect(path)
    big = [person(s, f"user{n:02d}@example.com", team="Team Big") for n in range(10)]
    small = [person(s, f"user{n:02d}@example.com", team="Team Small") for n in range(10, 13)]
    other = [person(s, f"user{n:02d}@example.com", team="Team Other") for n in range(13, 24)]
    for i, p in enumerate(big + small + other):
        meeting(s, "2025-01-13 10:00", f"2025-01-13 1{1 + i % 3}:00", p, {big[0] if p != big[0] else big[1]: "accepted"})
    finish(s)
    s.close()
    return path


def test_team_rollup_suppresses_small_teams_and_their_complement(team_db):
    """Team Small (3) is suppressed; the org total (24) minus Team Other (11) would give
    Team Small + Team Big, so only two shown teams are safe if Team Big (10, the smallest
    shown team) is suppressed as well: the remainder is then 13 people."""
    df = compute(team_db, Config(), by="team").set_index("team")
    assert bool(df.loc["Team Small", "suppressed"]) and pd.isna(df.loc["Team Small", "meeting_hours_mean"])
    assert bool(df.loc["Team Big", "suppressed"]) and pd.isna(df.loc["Team Big", "meeting_hours_mean"])
    other = df.loc["Team Other"]
    assert not other.suppressed and other.people == 11
    assert other.meeting_hours_median == pytest.approx(pd.Series(range(13, 24)).map(
        lambda i: 1 + i % 3).median())
    org = compute(team_db, Config(), by="org").iloc[0]
    assert not org.suppressed and org.people == 24


def test_rollup_statistics_with_a_lowered_minimum(team_db):
    cfg = Config({"privacy.min_group_size": 1})
    df = compute(team_db, cfg, by="team").set_index("team")
    small = df.loc["Team Small"]  # user10..12: meeting hours 2, 3, 1 (plus user00 attends all)
    assert small.people == 3 and small.meeting_hours_mean == pytest.approx(2.0)
    assert small.meeting_hours_p90 == pytest.approx(2.8)  # linear interpolation
    org = compute(team_db, cfg, by="org")
    assert org.people.iloc[0] == 24


def test_cli_pseudonymise_and_suppression(team_db):
    r = CliRunner().invoke(app, ["metrics", "--db", str(team_db), "--format", "csv", "--pseudonymise",
                                 "--key", "secret"])
    assert r.exit_code == 0, r.output
    assert "user00@example.com" not in r.output and "@example.com" not in r.output and "p-" in r.output
    r2 = CliRunner().invoke(app, ["metrics", "--db", str(team_db), "--format", "csv", "--pseudonymise",
                                  "--key", "secret"])
    assert r.output == r2.output
    r3 = CliRunner().invoke(app, ["metrics", "--db", str(team_db), "--by", "team", "--format", "json"])
    assert r3.exit_code == 0 and '"suppressed":true' in r3.output.replace(" ", "")
    keyed = CliRunner().invoke(app, ["metrics", "--db", str(team_db), "--format", "csv", "--pseudonymise"])
    assert keyed.exit_code == 0 and "user00@example.com" not in keyed.output  # the store's key file
    assert team_db.with_name(team_db.name + ".key").exists() and keyed.output != r.output


def test_protect_hides_the_next_smallest_group_when_one_would_be_derivable():
    from worklife.privacy.suppression import Equation, protect

    eq = [Equation("org", ("a", "b", "c"))]
    assert protect({"org": 208, "a": 100, "b": 100, "c": 8}, eq, 10) == {"a", "c"}
    assert protect({"org": 30, "a": 12, "b": 10, "c": 8}, eq, 10) == {"b", "c"}
    # two small groups that together cover enough people need no complement
    assert protect({"org": 217, "a": 200, "b": 9, "c": 8}, eq, 10) == {"b", "c"}


def test_protect_grid_closes_the_cycle_across_weeks_and_totals():
    """A week hidden in one team is re-derived from the team's total unless another goes too."""
    from worklife.privacy.suppression import ALL, ORG, protect_grid

    rows = [{"team": t, "week": w, "person_id": f"{t}{i}"}
            for t, n in (("big", 30), ("mid", 12), ("small", 4)) for w in ("W1", "W2") for i in range(n)]
    grid = protect_grid(pd.DataFrame(rows), "team", "week", 10)
    assert not grid.shows("small") and not grid.shows("small", "W1")
    assert grid.reason("mid") == "complementary" and not grid.shows("mid", "W2")
    assert grid.shows("big") and grid.shows("big", "W1") and grid.shows(ORG, "W1") and grid.shows(ORG, ALL)


def test_k_anonymise_the_synthetic_org_hr_columns():
    """Issue 16: many of 200 people were unique by Organization + Level + TimeZone."""
    synth = pytest.importorskip("worklife.synth")
    from worklife.privacy.kanon import k_anonymise, rare_people

    people = synth.generate(people=200, weeks=1, seed=0).people
    rows = pd.DataFrame({"PersonId": people.person_id, "Organization": people.team,
                         "LevelDesignation": people.level, "TimeZone": people.tz.fillna("UTC"),
                         "SupervisorId": people.manager_id, "Meeting_hours": 1.0})
    cols = ["Organization", "LevelDesignation", "TimeZone", "SupervisorId"]
    assert rare_people(rows.set_index("PersonId"), cols[:3], 10) > 40
    out, steps = k_anonymise(rows, "PersonId", cols, 10)
    assert rare_people(out.set_index("PersonId"), cols, 10) == 0
    assert steps and all("fewer than 10" in s for s in steps)
    assert len(out) == 200 and (out.Meeting_hours == 1.0).all()
    assert "Deneb" not in set(out.Organization)  # the 8-person team is merged into (other)
    assert (out.Organization == "(other)").sum() >= 10


def test_check_by_team_suppresses_a_complement_next_to_the_org_breach_counts():
    """The report charts org-wide breaches per rule and week; check --by team must not give the rest."""
    from worklife.policy.findings import Finding, team_summary

    teams = {f"user{n:02d}@example.com": ("Team Small" if n < 3 else "Team Big" if n < 13 else "Team Other")
             for n in range(24)}
    sizes = {"Team Small": 3, "Team Big": 10, "Team Other": 11}
    findings = [Finding("wt.daily_rest", "high", "FR", p, None, "2025-W03", 1, "m") for p in teams]
    rows = {r["team"]: r for r in team_summary(findings, teams, sizes, 10)}
    assert rows["Team Small"]["suppressed"] and rows["Team Small"]["count"] is None
    assert rows["Team Big"]["suppressed"] and rows["Team Big"]["count"] is None
    assert not rows["Team Other"]["suppressed"] and rows["Team Other"]["count"] == 11
