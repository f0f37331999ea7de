"""Output commands that never crash and never mislead (issue 14), on small synthetic stores.

The real-data counterpart is tests/test_real_data.py (skipped without ../shared).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from _metrics_store import finish, meeting, message, person

from worklife import synth
from worklife.cli import main
from worklife.cli.policy_cmd import summarise_unchecked
from worklife.config import Config
from worklife.errors import ConfigError
from worklife.metrics.explain import check_week, explain
from worklife.policy.findings import Finding
from worklife.policy.rest import hm
from worklife.report import render_report
from worklife.report.activity import without_unmeasured_focus
from worklife.report.personal import render_personal
from worklife.store import connect

ME = "user01@example.com"  # New York
YOU = "user02@example.com"


def _cli(capsys, *args: object) -> tuple[int, str, str]:
    code = 0
    try:
        main([str(a) for a in args])
    except SystemExit as done:
        code = int(done.code or 0)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """Two people; ME has an alias; one message of ME's falls in W12 in UTC but W11 in New York."""
    path = tmp_path_factory.mktemp("outputs") / "w.duckdb"
    s = connect(path)
    person(s, ME, tz="America/New_York")
    person(s, YOU)
    s.upsert("person_aliases", [{"alias": "me@example.org", "person_id": ME, "kind": "email", "source": "test"}])
    meeting(s, "2025-03-11 14:00", "2025-03-11 15:00", YOU, {ME: "accepted"})
    message(s, "2025-03-10 15:00", ME, to=[YOU], key="in-week")
    message(s, "2025-03-17 01:00", ME, to=[YOU], key="sunday-evening-local")  # Sun 21:00 New York
    message(s, "2025-03-17 15:00", ME, to=[YOU], key="next-week")
    message(s, "2025-03-07 15:00", ME, to=[YOU], key="last-week")
    finish(s)
    s.close()
    return path


def test_explain_keeps_to_the_local_week(db):
    ex = explain(db, ME, "2025-W11", None, Config())
    assert list(ex.messages.message_key) == ["in-week", "sunday-evening-local"]
    assert ex.values["emails_sent"] == 2


def test_explain_resolves_aliases_in_any_case(db):
    assert explain(db, "ME@Example.ORG", "2025-W11", None, Config()).person_id == ME


@pytest.mark.parametrize("week", ["2001-43", "2025-w11", "2025-W1", "2025-W00", "2025-W53", "W11"])
def test_bad_week_format(week):
    with pytest.raises(ConfigError, match="bad week format, use YYYY-Www"):
        check_week(week)


def test_week_53_exists_in_long_years():
    assert check_week("2020-W53") == "2020-W53"


def test_explain_cli_bad_week_is_usage_error(db, capsys):
    code, _, err = _cli(capsys, "explain", "--db", db, "--person", ME, "--week", "2001-43")
    assert code == 2 and "bad week format, use YYYY-Www" in err


def test_metrics_person_and_range(db, capsys):
    code, out, err = _cli(capsys, "metrics", "--db", db, "--person", "me@example.org", "--from", "2025-03-12",
                          "--to", "2025-03-14", "--format", "csv")
    assert code == 0, err
    rows = [line.split(",")[:2] for line in out.strip().splitlines()[1:]]
    assert rows == [[ME, "2025-W11"]]
    assert "use the default" not in err  # both people have zone, hours; jurisdiction '' though
    code, _, err = _cli(capsys, "metrics", "--db", db, "--person", ME, "--by", "team")
    assert code == 2


def test_metrics_roll_up_of_no_person_weeks(tmp_path, capsys):
    s = connect(tmp_path / "w.duckdb")
    person(s, ME)
    finish(s)
    s.close()
    for by in ("team", "org"):
        code, _, err = _cli(capsys, "metrics", "--db", tmp_path / "w.duckdb", "--by", by)
        assert code == 1 and "no meetings or messages" in err


def test_error_text_prints_literally(capsys):
    code, _, err = _cli(capsys, "metrics", "--db", "/nonexistent/w[spark].duckdb")
    assert code == 1 and "w[spark].duckdb" in err
    from worklife.cli._app import fail

    with pytest.raises(Exception):
        fail("--engine spark needs pyspark: pip install 'worklife[spark]'", 1)
    assert "pip install 'worklife[spark]'" in capsys.readouterr().err


def test_unchecked_people_fold_into_one_line():
    notes = [Finding("person.no_preset", "info", j, f"user{i:02d}@example.com", None, None, 1, "x")
             for i, j in enumerate(["US-CA", "US-CA", "IN"])]
    notes += [Finding("person.no_jurisdiction", "info", "", "user09@example.com", None, None, 1, "x")]
    folded = summarise_unchecked(notes)
    assert [(f.rule, f.count, f.person_id) for f in folded] == [
        ("person.no_jurisdiction", 1, None), ("person.no_preset", 3, None)]
    assert "3 people are in jurisdictions no preset covers (IN, US-CA)" in folded[1].message
    assert "--assume PRESET" in folded[1].message


def test_list_presets_needs_no_store(capsys):
    code, out, _ = _cli(capsys, "check", "--list-presets")
    assert code == 0 and "EU-WTD" in out


@pytest.mark.parametrize("hours, rounding, text", [
    (10 + 58 / 60, "floor", "10 h 58 min"), (11 - 1 / 3600, "floor", "10 h 59 min"), (11.0, "floor", "11 h"),
    (48 + 1 / 3600, "ceil", "48 h 01 min"), (48.0, "ceil", "48 h")])
def test_evidence_shows_minutes(hours, rounding, text):
    assert hm(hours, rounding) == text


# -- report ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def org():
    o = synth.generate(people=48, weeks=2, seed=5)
    store = connect()
    synth.load_into_store(o, store)
    yield store, synth.person_week_metrics(o)
    store.close()


def test_personal_report_names_nobody_else(org):
    store, pw = org
    me = str(pw.person_id.iloc[0])
    page = render_personal(store, Config(), me, pw)
    body = re.sub(r'<script[^>]*id="plotly-js".*?</script>', "", page, count=1, flags=re.DOTALL)
    people = store.con.execute("SELECT person_id, email, display_name, team FROM people").df()
    mine = people[people.person_id == me].iloc[0]
    others = {v for col in ("person_id", "email", "display_name") for v in people.loc[people.person_id != me, col]
              if isinstance(v, str) and v}
    assert me in body and not [o for o in others if o in body]
    assert str(mine.team) not in body  # no team (a team of one would identify the rest)
    mine_pw = pw[pw.person_id == me]
    assert f"{mine_pw.collaboration_hours.iloc[0]:.1f}" in body  # own numbers, not suppressed


def test_focus_of_weeks_without_activity_is_not_drawn():
    pw = pd.DataFrame({"person_id": ["a", "a", "b"], "week": ["W1", "W2", "W1"], "meetings": [1, 0, 0],
                       "emails_sent": [0, 0, 3], "chats_sent": [0, 0, 0], "active_connected_hours": [1.0, 0, 0.5],
                       "collaboration_hours": [1.0, 0, 0.2], "focus_hours": [30.0, 40.0, 40.0]})
    out = without_unmeasured_focus(pw)
    assert out.focus_hours.tolist()[0] == 30.0 and out.focus_hours.iloc[1:].isna().all()  # idle week; no calendar


def test_report_of_an_empty_store_says_why():
    store = connect()
    empty = pd.DataFrame(columns=["person_id", "week", "week_start", "meeting_hours", "collaboration_hours",
                                  "focus_hours", "after_hours_collaboration_hours", "workweek_span", "over_40h",
                                  "status_meeting_hours"])
    page = render_report(store, Config(), empty)
    assert "no meetings or messages yet" in page and "fig-after-hours-by-team" not in page


def test_all_zero_charts_are_sentences(org):
    store, pw = org
    zero = pw.copy()
    for col in ("after_hours_collaboration_hours", "meeting_hours", "collaboration_hours"):
        zero[col] = 0.0
    zero["focus_hours"] = float("nan")
    page = render_report(store, Config({"privacy.min_group_size": 2}), zero)
    assert "No after-hours collaboration in any team shown" in page
    assert '<div id="fig-after-hours-by-team"' not in page
