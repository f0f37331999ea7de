"""The HTML report: one offline file, real charts and tables, privacy kept, sections added.

The store is filled by hand (three teams; "Team Tiny" has fewer people than the
privacy threshold) and the person-week table is built with plausible values, so the
report is tested without the metrics engine.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from worklife.cli import main
from worklife.config import Config
from worklife.errors import WorklifeError
from worklife.report import (
    FIGURE_IDS,
    Section,
    build_report,
    collect_sections,
    html_table,
    render_report,
    section,
    summary_lines,
)
from worklife.report import validation
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

TEAMS = {  # team -> (people, zone)
    "Team Alpha": (12, "Europe/Berlin"),
    "Team Beta": (10, "America/New_York"),
    "Team Tiny": (3, "Asia/Kolkata"),
}
WEEKS = [date(2025, 3, 3) + timedelta(weeks=i) for i in range(4)]  # Mondays, 2025-W10..W13
# Team Tiny's values are unusual on purpose, so their absence from the HTML is checkable.
TINY = {"after_hours_collaboration_hours": 31.4159, "meeting_hours": 27.1828,
        "status_meeting_hours": 6.2831, "workweek_span": 44.4444}


def _people() -> list[dict]:
    rows, n = [], 0
    for team, (size, tz) in TEAMS.items():
        for _ in range(size):
            n += 1
            rows.append({"person_id": f"user{n:02d}@example.com", "email": f"user{n:02d}@example.com",
                         "display_name": f"Test Person {n:02d}", "tz": tz, "team": team,
                         "is_internal": True, "defaults_used": "work_start,work_end" if n <= 2 else ""})
    return rows


def _person_weeks(people: list[dict]) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for p in people:
        for monday in WEEKS:
            meeting, email, chat = rng.uniform(4, 16), rng.uniform(2, 6), rng.uniform(0.5, 4)
            span = rng.uniform(34, 47)
            row = {
                "person_id": p["person_id"], "week": f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}",
                "week_start": monday, "meeting_hours": meeting, "email_hours": email, "chat_hours": chat,
                "collaboration_hours": meeting + email + chat * 0.8,
                "after_hours_collaboration_hours": rng.uniform(0, 9 if p["team"] == "Team Alpha" else 4),
                "workweek_span": span, "focus_hours": rng.uniform(4, 18),
                "status_meeting_hours": rng.uniform(0, 3),
            }
            if p["team"] == "Team Tiny":
                row.update(TINY)
            row["over_40h"] = row["workweek_span"] > 40
            rows.append(row)
    return pd.DataFrame(rows)


def _activity(people: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """A few messages and meetings per person, so the heat-map has something to show."""
    messages, meetings, attendees = [], [], []
    for i, p in enumerate(people):
        for d, monday in enumerate(WEEKS):
            t = datetime(monday.year, monday.month, monday.day, 7 + i % 10, 15) + timedelta(days=d)
            messages.append({"message_key": f"m{i}-{d}", "channel": "email", "sender_id": p["person_id"],
                             "sent_utc": t, "is_auto": False})
            key = f"k{i}-{d}"
            meetings.append({"meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": t,
                             "end_utc": t + timedelta(minutes=45), "all_day": False, "status": "confirmed",
                             "transp": "opaque", "title": "Weekly sync", "is_recurring": True})
            other = people[(i + 1) % len(people)]["person_id"]
            attendees += [{"meeting_key": key, "person_id": p["person_id"], "response": "organizer"},
                          {"meeting_key": key, "person_id": other, "response": "accepted"}]
    return messages, meetings, attendees


@pytest.fixture(scope="module")
def org():
    """(store, person_weeks) for 25 people in three teams over four weeks."""
    store = connect()
    people = _people()
    store.upsert("people", people)
    messages, meetings, attendees = _activity(people)
    store.upsert("messages", messages)
    store.upsert("meetings", meetings)
    store.upsert("meeting_attendees", attendees)
    t0 = datetime(2025, 4, 1, 12)
    store.upsert("ingest_log", [
        {"run_id": "r1", "source": "exports/calendars", "kind": "ics", "read": 100, "inserted": 100,
         "duplicate": 0, "quarantined": 2, "started_utc": t0, "finished_utc": t0},
        {"run_id": "r1", "source": "exports/Maildir", "kind": "maildir", "read": 100, "inserted": 99,
         "duplicate": 0, "quarantined": 1, "started_utc": t0, "finished_utc": t0},
    ])
    store.upsert("quarantine", [
        {"source": "exports/calendars", "location": "a.ics:12", "reason": "DTEND before DTSTART"},
        {"source": "exports/calendars", "location": "b.ics:40", "reason": "DTEND before DTSTART"},
        {"source": "exports/Maildir", "location": "cur/1#x", "reason": "no Date header"},
    ])
    refresh_tz_offsets(store)
    yield store, _person_weeks(people)
    store.close()


@pytest.fixture(scope="module")
def page(org) -> str:
    store, pw = org
    extra = [section("Policy findings", "<p>Test finding: 3 rest-period breaches.</p>"),
             Section("Digest savings", "<p>Test saving: 12 messages held.</p>", "digest")]
    return render_report(store, Config(), pw, sections=extra, title="Test Org report",
                         generated_at=datetime(2025, 4, 2, 9, 0, tzinfo=UTC))


def _without_library(page: str) -> str:
    """The page minus the inlined plotly.js (whose 4 MB of code contain every digit string)."""
    return re.sub(r'<script id="plotly-js">.*?</script>', "", page, count=1, flags=re.DOTALL)


def test_report_is_one_offline_file(page):
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<script id="plotly-js">') == 1
    assert page.count("plotly.js v") == 1  # the library is embedded exactly once
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page)
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//", page)


@pytest.mark.parametrize("fig", sorted(FIGURE_IDS.values()))
def test_every_chart_is_rendered(page, fig):
    assert f'<div id="{fig}" class="plotly-graph-div"' in page
    assert re.search(r'Plotly\.newPlot\(\s*"' + fig + '"', page)


@pytest.mark.parametrize("text", [
    "After-hours collaboration by team (hours per person-week)",
    "Organisation: weekly mean hours per person",
    "Messages sent (e-mail and chat)",
    "<h3>Top teams by after-hours collaboration</h3>",
    "<h3>Weeks over 40 hours</h3>",
    "<h3>Status meeting load</h3>",
    "<h3>Data quality</h3>",
    "DTEND before DTSTART",
    "<td>work_start</td><td class=num>2</td>",
], ids=lambda t: re.sub(r"\W+", "-", t)[:30])
def test_titles_and_tables_are_present(page, text):
    assert text in page


def test_header_summarises_the_org(page):
    body = _without_library(page)
    assert "Work patterns of 25 people over 4 weeks" in body
    assert "3 Mar – 30 Mar 2025" in body
    assert "2025-W10 – 2025-W13" in body
    assert '<td>maildir</td>' in body and '<td>ics</td>' in body
    assert re.search(r'<div class="value">3</div><div class="label">records quarantined', body)


def test_table_of_contents_links_every_section(page):
    toc = re.search(r'<nav class="toc">(.*?)</nav>', page, re.DOTALL).group(1)
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors == ["after-hours-by-team", "meeting-load-trend", "activity-heatmap", "tables",
                       "policy-findings", "digest"]
    for a in anchors:
        assert f'<section id="{a}">' in page


def test_extra_sections_come_last_in_order(page):
    body = _without_library(page)
    assert body.index("Test finding: 3 rest-period breaches.") < body.index("Test saving: 12 messages held.")
    assert body.index("<h3>Data quality</h3>") < body.index("Test finding")


def test_small_team_is_named_only_in_the_suppression_note(page):
    body = _without_library(page)
    assert body.count("Team Tiny") == 1
    assert "<strong>Team Tiny</strong> — suppressed: fewer than 10 people" in body


@pytest.mark.parametrize("metric", sorted(TINY))
def test_small_team_values_never_reach_the_page(page, metric):
    body = _without_library(page)
    value = TINY[metric]
    for text in (f"{value}", f"{value:.2f}", f"{value:.1f}"):
        assert text not in body


def test_large_teams_are_charted_with_their_statistics(org, page):
    _, pw = org
    body = _without_library(page)
    assert body.count("Team Alpha") > 3
    # Team Beta (10) is big enough, but the org (25) minus Alpha and Beta would give Team
    # Tiny (3): Beta is suppressed too, so the remainder covers 13 people.
    assert body.count("Team Beta") == 1
    assert "<strong>Team Beta</strong> — suppressed: shown, it would let a smaller team" in body
    people = pd.DataFrame(_people())[["person_id", "team"]]
    alpha = pw.merge(people).query("team == 'Team Alpha'")["after_hours_collaboration_hours"]
    assert f"<td class=num>{alpha.mean():.1f}</td>" in body
    assert f"<td class=num>{alpha.quantile(0.9):.1f}</td>" in body


def test_raising_the_threshold_suppresses_every_team(org):
    store, pw = org
    body = _without_library(render_report(store, Config({"privacy.min_group_size": 50}), pw))
    for team in TEAMS:
        assert body.count(team) == 1
    assert "Suppressed: fewer than 50 people." in body  # the org itself: no trend, no heat-map
    assert FIGURE_IDS["after_hours"] not in body and FIGURE_IDS["heat_messages"] not in body


def test_build_report_writes_the_file(org, tmp_path):
    store, pw = org
    out = build_report(store, None, tmp_path / "sub" / "report.html", person_weeks=pw)
    assert out == tmp_path / "sub" / "report.html"
    assert out.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary left behind


def test_missing_columns_are_named(org):
    store, pw = org
    with pytest.raises(WorklifeError, match="focus_hours, after_hours_collaboration_hours"):
        render_report(store, Config(), pw.drop(columns=["focus_hours", "after_hours_collaboration_hours"]))


def test_summary_lines_respect_the_group_size(org):
    store, pw = org
    lines = summary_lines(store, pw, Config())
    assert lines[0].startswith("People: 25 · weeks: 4 (2025-W10 – 2025-W13")
    assert lines[1] == "Sources: ics 1, maildir 1 · quarantined records: 3"
    assert lines[2].startswith("Top after-hours teams (mean per person-week): Team Alpha ")
    assert "Team Tiny" not in "\n".join(lines)
    assert lines[3] == ("Suppressed: 2 team(s): 1 with fewer than 10 people, 1 so that those "
                        "cannot be derived by subtraction")


def test_html_table_escapes_and_formats():
    out = html_table(["team", "hours"], [["<R&D>", 3.14159], ["Ops", None]])
    assert "&lt;R&amp;D&gt;" in out and "<td class=num>3.1</td>" in out and "<td class=num>–</td>" in out


def test_sections_come_from_the_providers_given_in_order(org):
    store, pw = org
    first = lambda s, c, p: section("First", "<p>1</p>")  # noqa: E731
    nothing = lambda s, c, p: None  # noqa: E731
    two = lambda s, c, p: [section("Second", "<p>2</p>"), section("Third", "<p>3</p>")]  # noqa: E731
    got = collect_sections(store, Config(), pw, providers=[first, nothing, two])
    assert [x.title for x in got] == ["First", "Second", "Third"]
    assert collect_sections(store, Config(), pw, providers=[]) == []


def test_cli_writes_the_report(org, monkeypatch, tmp_path, capsys):
    """`worklife report` reads the person-weeks (``report.load_person_weeks``) and writes the file."""
    store, pw = org
    db = tmp_path / "org.duckdb"
    store.con.execute(f"ATTACH '{db}' AS f")
    store.con.execute("COPY FROM DATABASE memory TO f")
    store.con.execute("DETACH f")
    import worklife.report

    monkeypatch.setattr(worklife.report, "load_person_weeks", lambda s, c: pw)
    out = tmp_path / "report.html"
    with pytest.raises(SystemExit) as done:
        main(["report", "--db", str(db), "--out", str(out)])
    assert done.value.code in (0, None)
    assert out.exists() and str(out) in capsys.readouterr().out


@pytest.mark.parametrize("args, code, message", [
    pytest.param(["--db", "{tmp}/missing.duckdb", "--out", "{tmp}/r.html"], 1, "no such store", id="missing-db"),
    pytest.param(["--out", "{tmp}/r.html"], 2, "--db", id="no-db-flag"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, args, code, message):
    with pytest.raises(SystemExit) as done:
        main(["report", *[a.format(tmp=tmp_path) for a in args]])
    assert done.value.code == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _fake_validate() -> object:
    """A stand-in for worklife.metrics.validate with one finding of each kind."""
    from types import SimpleNamespace

    findings = SimpleNamespace(
        holiday_weeks=pd.DataFrame({"week": ["2025-W12"], "mean_collaboration_hours": [3.21], "z": [-1.5]}),
        inactive_person_weeks=pd.DataFrame({"person_id": ["user01@example.com"] * 2, "week": ["2025-W10", "2025-W11"]}),
        little_recorded_activity=pd.DataFrame({"person_id": ["user02@example.com"], "mean_collaboration_hours": [1.0]}),
        tz_skew=pd.DataFrame({"source": ["exports/calendars"], "best_shift_hours": [-6], "flagged": [True]}),
        fallbacks=pd.DataFrame({"person_id": ["user01@example.com"], "defaults_used": ["tz"]}),
        exclusions=pd.DataFrame({"what": ["message"], "reason": ["auto message"], "n": [4]}),
    )
    return lambda store, config, metrics=None: findings


def test_validation_section_reports_counts_and_names_no_one(org, monkeypatch):
    store, pw = org
    monkeypatch.setattr(validation, "validate", _fake_validate())
    got = collect_sections(store, Config(), pw, providers=[validation.validation_sections])
    assert [s.title for s in got] == ["Validation"]
    html = got[0].html
    assert "2 person-weeks of 1 people look inactive" in html
    assert "1 people average under 5 collaboration hours a week: little recorded activity" in html
    assert "knowledge" not in html  # a neutral label: nothing is implied about anyone's role
    assert "<td>2025-W12</td>" in html and "<td>exports/calendars</td>" in html and "auto message" in html
    assert "@example.com" not in html


