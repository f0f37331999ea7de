"""No re-identification by arithmetic, checked on the synthetic organisation.

The synthetic org of 200 people (seed 0) has one team of 8 people (Deneb) under the
default ``privacy.min_group_size`` of 10. Everything the report and ``metrics --by
team/--by org`` publish about it is collected as linear equations over the
(team, week) cells: each published mean with its people (or person-weeks) is a sum over
a set of cells. Independently of the suppression code, linear algebra then finds every
set of cells whose sum a reader can compute from those equations (a 0/1 vector in the
row space of the published sets); none may cover 1..9 people. The subtraction attack
of issue 16 (org mean x 200 minus the shown teams' means x headcounts) is replayed too.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from worklife.config import Config
from worklife.metrics import compute
from worklife.report import aggregates as agg
from worklife.report.heatmap import activity_heatmap
from worklife.store import connect

synth = pytest.importorskip("worklife.synth")

MIN = 10
METRIC = "meeting_hours"


@pytest.fixture(scope="module")
def published():
    """(person-weeks with team, published sets of cells with sums, person-week truth)."""
    org = synth.generate(people=200, weeks=2, seed=0)
    store = connect()
    synth.load_into_store(org, store)
    cfg = Config()
    pw = compute(store, cfg)
    teams = store.con.execute("SELECT person_id, team FROM people WHERE is_internal").df()
    pw = pw.merge(teams, on="person_id")
    cells = sorted({(t, w) for t, w in zip(pw.team, pw.week)})
    all_weeks = sorted(pw.week.unique())
    pub: list[tuple[str, frozenset, float]] = []  # (where, cells, sum of METRIC)
    with agg.registered(store, pw.drop(columns=["team"])):
        sizes = agg.team_sizes(store, MIN)
        for r in agg.team_stats(store, sizes, METRIC).itertuples():
            pub.append((f"report team {r.team}", frozenset((r.team, w) for w in all_weeks),
                        r.mean * r.person_weeks))
        org_weeks, _ = agg.weekly_org(store, MIN, sizes)
        for r in org_weeks.itertuples():
            pub.append((f"report org {r.week}", frozenset(c for c in cells if c[1] == r.week),
                        getattr(r, METRIC) * r.people))
        for r in agg.weekly_team(store, sizes).itertuples():
            pub.append((f"report team-week {r.team} {r.week}", frozenset({(r.team, r.week)}),
                        getattr(r, METRIC) * r.people))
        over = agg.over_40h_by_team(store, sizes)
        for r in agg.status_meetings_by_team(store, sizes).merge(over[["team", "person_weeks"]]).itertuples():
            pub.append((f"report status {r.team}", frozenset((r.team, w) for w in all_weeks),
                        r.meeting_hours * r.person_weeks))
    if sizes.shows(agg.ORG):  # the heat-map's total meeting hours: the org over the whole span
        total = activity_heatmap(store, cfg).meeting_hours.sum()
        pub.append(("report heat-map", frozenset(cells), total))
    for by in ("team", "org"):
        df = compute(store, cfg, by=by)
        for r in df[~df.suppressed].itertuples():
            where = frozenset({(r.team, r.week)}) if by == "team" else \
                frozenset(c for c in cells if c[1] == r.week)
            pub.append((f"metrics --by {by} {getattr(r, by)} {r.week}", where,
                        getattr(r, f"{METRIC}_mean") * r.people))
    store.close()
    return pw, cells, pub


def _people(pw: pd.DataFrame, cells) -> int:
    keys = set(cells)
    return pw[[(t, w) in keys for t, w in zip(pw.team, pw.week)]].person_id.nunique()


def test_the_small_team_is_suppressed_and_the_rest_is_published(published):
    pw, _, pub = published
    sizes = pw.groupby("team").person_id.nunique()
    assert sizes.min() == 8 and (sizes < MIN).sum() == 1  # Deneb, the case of issue 16
    names = " ".join(w for w, _, _ in pub)
    assert "Deneb" not in names
    assert len([w for w in names.split("report team ")[1:]]) >= 14  # most teams still shown
    assert any(w.startswith("report org") for w, _, _ in pub)


def test_the_subtraction_attack_of_issue_16_no_longer_works(published):
    """Org total minus every shown team's total: the rest covers at least MIN people."""
    pw, cells, pub = published
    org_week = {w: (c, s) for w, c, s in pub if w.startswith("metrics --by org")}
    teams_week = [(c, s) for w, c, s in pub if w.startswith("metrics --by team")]
    for name, (org_cells, org_sum) in org_week.items():
        shown = [(c, s) for c, s in teams_week if c <= org_cells]
        rest = org_cells - frozenset().union(*(c for c, _ in shown))
        n = _people(pw, rest)
        assert n == 0 or n >= MIN, f"{name}: remainder covers {n} people"
        derived = (org_sum - sum(s for _, s in shown))
        truth = pw[[(t, w) in rest for t, w in zip(pw.team, pw.week)]][METRIC].sum()
        assert derived == pytest.approx(truth, abs=1e-6)  # the equations are real ...
        deneb = pw[(pw.team == "Deneb") & pw.week.isin({w for _, w in rest})][METRIC].sum()
        assert abs(derived - deneb) > 1e-6  # ... but no longer give Deneb's sum alone


def test_no_derivable_sum_covers_fewer_than_the_minimum(published):
    """Every 0/1 combination of cells a reader can compute covers 0 or >= MIN people."""
    pw, cells, pub = published
    index = {c: i for i, c in enumerate(cells)}
    a = np.zeros((len(pub), len(cells)))
    for row, (_, where, _) in enumerate(pub):
        a[row, [index[c] for c in where]] = 1
    rank = np.linalg.matrix_rank(a)
    people = {c: _people(pw, [c]) for c in cells}
    small = [c for c in cells if people[c] < MIN]
    assert small, "the synthetic org should have a cell under the minimum"
    checked = 0
    for k in range(1, len(small) + 1):
        for combo in combinations(small, k):
            if _people(pw, combo) >= MIN:
                continue
            v = np.zeros(len(cells))
            v[[index[c] for c in combo]] = 1
            checked += 1
            assert np.linalg.matrix_rank(np.vstack([a, v])) > rank, \
                f"the sum over {combo} ({_people(pw, combo)} people) can be derived"
    assert checked >= 3  # Deneb's week 1, week 2 and both weeks


@pytest.mark.parametrize("seed", range(60))
def test_random_tables_leave_no_small_derivable_sum(seed):
    """protect_grid on random teams x weeks (absences, several small teams): with every shown
    cell and total published, no sum over 1..k-1 people is in the span of the published sets."""
    from worklife.privacy.suppression import ALL, ORG, protect_grid

    rng = np.random.default_rng(seed)
    k = int(rng.integers(4, 11))
    teams = {f"t{i}": int(rng.integers(2, 16)) for i in range(int(rng.integers(2, 7)))}
    weeks = [f"w{j}" for j in range(int(rng.integers(1, 4)))]
    rows = [{"team": t, "week": w, "person_id": f"{t}-{m}"}
            for t, n in teams.items() for m in range(n) for w in weeks if rng.random() > 0.15]
    if not rows:
        return
    df = pd.DataFrame(rows)
    grid = protect_grid(df, "team", "week", k)
    cells = sorted({(t, w) for t, w in zip(df.team, df.week)})
    index = {c: i for i, c in enumerate(cells)}
    pub = []
    for (g, p) in grid.people:
        if not grid.shows(g, p):
            continue
        pub.append([c for c in cells if (g == ORG or c[0] == g) and (p == ALL or c[1] == p)])
    members = {c: frozenset(df[(df.team == c[0]) & (df.week == c[1])].person_id) for c in cells}
    a = np.zeros((max(len(pub), 1), len(cells)))
    for r, where in enumerate(pub):
        a[r, [index[c] for c in where]] = 1
    rank = np.linalg.matrix_rank(a)
    small = [c for c in cells if len(members[c]) < k]
    for n in range(1, min(len(small), 6) + 1):
        for combo in combinations(small, n):
            who = frozenset().union(*(members[c] for c in combo))
            if len(who) >= k:
                continue
            v = np.zeros(len(cells))
            v[[index[c] for c in combo]] = 1
            assert np.linalg.matrix_rank(np.vstack([a, v])) > rank, (seed, k, combo, sorted(grid.hidden))
    for (g, p), n in grid.people.items():  # and nothing small is shown
        assert n >= k or not grid.shows(g, p)
