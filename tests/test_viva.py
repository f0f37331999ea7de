"""`export-viva`: a Viva Insights person query the vivainsights package can read and use."""

from __future__ import annotations

import pytest
from _metrics_store import finish, meeting, message, person
from typer.testing import CliRunner

from worklife.cli import app

vi = pytest.importorskip("vivainsights")

from worklife.store import connect  # noqa: E402


@pytest.fixture(scope="module")
def pq(tmp_path_factory):
    d = tmp_path_factory.mktemp("viva")
    db = d / "w.duckdb"
    s = connect(db)
    people = [person(s, f"user{n:02d}@example.com", team=f"Team {'AB'[n % 2]}", tz="Europe/Paris")
              for n in range(12)]
    for i, p in enumerate(people):
        other = people[(i + 1) % len(people)]
        for day in ("13", "14", "20", "21"):
            meeting(s, f"2025-01-{day} 09:00", f"2025-01-{day} 1{i % 3}:30", p, {other: "accepted"})
            message(s, f"2025-01-{day} 18:00", p, to=[other])
    finish(s)
    s.close()
    out = d / "person_query.csv"
    r = CliRunner().invoke(app, ["export-viva", "--db", str(db), "--out", str(out), "--identified"])
    assert r.exit_code == 0, r.output
    return out


def test_the_default_export_is_pseudonymised_and_coarsened(pq, tmp_path):
    """Two teams of 6 under the minimum of 10: merged; no address, no domain; the key is stable."""
    import pandas as pd

    db = pq.parent / "w.duckdb"
    runs = []
    for n in (1, 2):
        out = tmp_path / f"private{n}.csv"
        r = CliRunner().invoke(app, ["export-viva", "--db", str(db), "--out", str(out)])
        assert r.exit_code == 0, r.output
        runs.append(pd.read_csv(out))
    data = runs[0]
    text = (tmp_path / "private1.csv").read_text()
    assert "example.com" not in text and "user0" not in text
    assert data.PersonId.str.fullmatch(r"p-[0-9a-f]{16}").all() and data.PersonId.nunique() == 12
    assert runs[1].PersonId.tolist() == data.PersonId.tolist()  # same key file, same pseudonyms
    assert set(data.Organization) == {"(other)"} and set(data.SupervisorId) == {"(withheld)"}
    assert "team" in r.output or "Organization" in r.output or "merged" in r.output
    assert (db.parent / "w.duckdb.key").stat().st_mode & 0o077 == 0
    identified = pd.read_csv(pq)
    assert set(identified.Organization) == {"Team A", "Team B"}


def test_columns_and_date_format(pq):
    data = vi.import_query(str(pq))
    for col in ("PersonId", "MetricDate", "Collaboration_hours", "Meeting_hours", "Email_hours", "Chat_hours",
                "After_hours_collaboration_hours", "Conflicting_meeting_hours", "Large_and_long_meeting_hours",
                "Collaboration_span", "Active_connected_hours", "Weekend_collaboration_hours",
                "Emails_sent", "Chats_sent", "Meetings", "Organization", "LevelDesignation", "TimeZone"):
        assert col in data.columns, col
    assert set(data.MetricDate) == {"01/13/2025", "01/20/2025"}
    assert len(data) == 24


def test_vivainsights_functions_run_on_the_export(pq):
    import matplotlib

    matplotlib.use("Agg")
    data = vi.import_query(str(pq))
    table = vi.create_bar(data, metric="Collaboration_hours", hrvar="Organization", mingroup=5, return_type="table")
    assert set(table["Organization"]) == {"Team A", "Team B"}
    km = vi.keymetrics_scan(data, hrvar="Organization", mingroup=5, return_type="table")
    assert len(km) > 0


def test_person_query_and_validate_take_a_store_path(tmp_path):
    """The library calls on a path open it once: a refresh and a read of the same file in
    one process would be two connections of different kinds, which DuckDB refuses."""
    from _metrics_store import two_person_store

    from worklife.config import Config
    from worklife.metrics.validate import validate
    from worklife.metrics.viva import person_query

    db = tmp_path / "w.duckdb"
    two_person_store(db)
    q = person_query(db, Config())
    assert set(q["PersonId"]) == {"alice@example.com", "bob@example.com"}
    assert q["Meetings"].sum() == 2  # the one meeting, once for each of them
    assert not validate(db, Config()).tz_skew.empty
