"""The digest of a synthetic organisation (``worklife.synth``): exactly the commits planted
in each team member's own local ISO week, and a price on the synthetic standups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

synth = pytest.importorskip("worklife.synth", reason="the synthetic organisation (worklife.synth) is not in this tree")

from worklife.config import Config
from worklife.digest import build_digest, estimate_savings
from worklife.store import connect


@pytest.fixture(scope="module")
def org_store():
    org = synth.generate(people=48, weeks=2, seed=7)
    store = connect()
    synth.load_into_store(org, store)
    yield org, store
    store.close()


def busiest_team(org) -> str:
    authors = org.people.set_index("person_id").loc[org.commits["person_id"].unique(), "team"]
    return str(authors.value_counts().index[0])


def test_team_digest_lists_exactly_the_commits_of_each_local_week(org_store):
    org, store = org_store
    team = busiest_team(org)
    year, week, _ = (org.start + timedelta(days=7)).isocalendar()  # the second synthetic week
    now = datetime.combine(org.start + timedelta(days=21), datetime.min.time(), UTC)
    d = build_digest(store, Config(), team, f"{year}-W{week:02d}", now, numbers="quick")

    members = org.people[org.people["team"] == team]
    zone = {r.person_id: (r.tz or "UTC") for r in members.itertuples()}
    expected = set()
    for c in org.commits[org.commits["person_id"].isin(list(zone))].itertuples():
        local = datetime.fromtimestamp(int(c.at_utc), UTC).astimezone(ZoneInfo(zone[c.person_id]))
        if tuple(local.isocalendar())[:2] == (year, week):
            expected.add((c.person_id, c.outcome_key))
    listed = {(p.person_id, f.ref) for p in d.people for g in p.commits for f in g.commits}
    assert expected, "the synthetic team should have commits that week"
    assert listed == expected


def test_synthetic_standups_have_a_monthly_cost(org_store):
    org, store = org_store
    savings = {t.team: t for t in estimate_savings(store, Config())}
    assert set(savings) <= set(org.people["team"])
    assert savings and all(t.person_hours_per_month > 0 and t.cost_per_month > 0 for t in savings.values())
