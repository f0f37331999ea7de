"""Every output command on the real public data in ../shared/data, as a new user runs them.

Each dataset is ingested first with no people file, then with a small people file
written here; then metrics (by person, team, org), explain, boundaries, check, report,
report --person and export-viva run. Every run must end without a traceback, with the
documented exit code (0 ok, 1 nothing to show / job failed, 2 bad usage), and some
values are checked against numbers worked out by hand from the raw files:

- notmuch-default: cworth@cworth.org sent 12 messages, all in 2009-W47 (Date: -0800):
  09:13 and 12:19 on Tue 17 Nov, ten between 01:42 and 03:31 on Wed 18 Nov. With 5-minute
  e-mail blocks that is 3,466 s of e-mail (the blocks at 02:19:26 and 02:22:12 overlap by
  134 s). On UTC 09-17 the two Tuesday ones (17:13, 20:19 UTC) are after hours: 600 s; on
  America/Los_Angeles 09-17 the ten Wednesday ones are: 3,000 - 134 = 2,866 s.
- olake Slack export: user U0AQHEXPAUQ (users.json tz Asia/Bangkok) wrote 33 messages.
- machbar calendar (X-WR-TIMEZONE Europe/Berlin): in 2019-W11 the one meeting with two
  invitees is "Montessori Schulklasse", Thu 14 Mar 07:30-13:30 UTC = 08:30-14:30 CET:
  6 h of meetings, 0.5 h of it before a 09:00 start (the 33.5 h HACKademy is too long to count).
- enron skilling-j: jeff.skilling@enron.com's e-mails sent equal the distinct non-automatic
  messages he sent in the store (an independent count).

Skips when ../shared is absent. The enron mailbox (~4k files) is ingested once per module.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from worklife.cli import main

# ../shared beside the repository; WORKLIFE_SHARED overrides it (e.g. from a git worktree).
DATA = Path(os.environ.get("WORKLIFE_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data (real public data) is absent")

NOTMUCH = DATA / "mail" / "notmuch-default"
SLACK = DATA / "slack" / "olake-export"
MACHBAR = DATA / "ical" / "recurring-ical-events" / "machbar_16_feb_2019.ics"
ENRON = DATA / "enron" / "skilling-j"
GIT = DATA / "git" / "httpx.git"
CWORTH = "cworth@cworth.org"
SLACKER = "u0aqhexpauq"
ALICE = "alice@example.com"
SKILLING = "jeff.skilling@enron.com"


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(*args: object) -> Run:
    """Run ``worklife ARGS`` in-process; any exception other than a clean exit fails the test."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as done:
            code = int(done.code or 0)
    run = Run(code, out.getvalue(), err.getvalue())
    assert "Traceback" not in run.out + run.err, run.err
    return run


def ok(*args: object) -> Run:
    run = cli(*args)
    assert run.code == 0, f"worklife {' '.join(map(str, args))} -> {run.code}: {run.err}"
    return run


def ingest(db: Path, *sources: object, **flags: object) -> Path:
    extra = [x for k, v in flags.items() for x in (f"--{k}", v)]
    ok("ingest", *sources, "--db", db, *extra)
    return db


def people_file(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def metrics_csv(db: Path, *args: object) -> pd.DataFrame:
    run = ok("metrics", "--db", db, "--format", "csv", *args)
    return pd.read_csv(io.StringIO(run.out))


def zone_of(db: Path, person: str) -> str | None:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT tz FROM people WHERE person_id = ?", [person]).fetchall()
    return row[0][0] if row else None


def others_named(page: str, db: Path, me: str) -> list[str]:
    """Person ids and e-mails of the store other than ``me`` that appear in ``page`` as whole words."""
    body = re.sub(r'<script[^>]*id="plotly-js".*?</script>', "", page, count=1, flags=re.DOTALL)
    with duckdb.connect(str(db), read_only=True) as con:
        ids = {v for r in con.execute("SELECT person_id, email FROM people").fetchall() for v in r if v}
    return sorted(i for i in ids - {me}
                  if len(i) > 3 and re.search(rf"(?<![\w.@-]){re.escape(i)}(?![\w.@-])", body))


def every_output_command(tmp: Path, db: Path, person: str, week: str) -> dict[str, Run]:
    """The output commands of a store with a measured ``person``; each must exit 0."""
    runs = {
        "team": ok("metrics", "--db", db, "--by", "team"),
        "org": ok("metrics", "--db", db, "--by", "org", "--format", "json"),
        "explain": ok("explain", "--db", db, "--person", person, "--week", week),
        "boundaries": ok("boundaries", "--db", db),
        "check": ok("check", "--db", db, "--policy", "auto"),
        "assume": ok("check", "--db", db, "--assume", "FR", "--format", "json"),
        "report": ok("report", "--db", db, "--out", tmp / "report.html"),
        "personal": ok("report", "--db", db, "--person", person, "--out", tmp / "me.html"),
        "viva": ok("export-viva", "--db", db, "--out", tmp / "viva.csv"),
    }
    bad = cli("explain", "--db", db, "--person", person, "--week", "2001-43")
    assert bad.code == 2 and "bad week format, use YYYY-Www" in bad.err
    assert others_named((tmp / "me.html").read_text(encoding="utf-8"), db, person) == []
    assert "PersonId" in (tmp / "viva.csv").read_text(encoding="utf-8").splitlines()[0]
    return runs


# -- notmuch-default: one mailbox, --owner -------------------------------------------------

@pytest.fixture(scope="module")
def notmuch(tmp_path_factory) -> Path:
    return ingest(tmp_path_factory.mktemp("nm") / "w.duckdb", NOTMUCH, owner=CWORTH)


def test_notmuch_without_people_file(notmuch, tmp_path):
    pw = metrics_csv(notmuch, "--person", CWORTH)
    w47 = pw.set_index("week").loc["2009-W47"]
    assert w47.emails_sent == 12
    assert w47.email_hours == pytest.approx(3466 / 3600, abs=1e-9)
    expected = {"UTC": 600, "Etc/UTC": 600, None: 600, "America/Los_Angeles": 2866}
    tz = zone_of(notmuch, CWORTH)
    assert tz in expected, f"unexpected zone {tz}"
    assert w47.after_hours_email_hours == pytest.approx(expected[tz] / 3600, abs=1e-9)
    runs = every_output_command(tmp_path, notmuch, CWORTH, "2009-W47")
    assert "without a jurisdiction not checked" in runs["check"].out.replace("\n", " ")
    assert json.loads(runs["assume"].out)["meta"]["people_checked"] >= 1


def test_notmuch_explain_keeps_to_the_week(notmuch):
    from worklife.config import Config
    from worklife.metrics.explain import explain

    ex = explain(notmuch, CWORTH.upper(), "2009-W47", None, Config())
    days = pd.to_datetime(ex.messages["sent_local"].str[4:14])
    assert len(ex.messages) and days.between("2009-11-16", "2009-11-22").all()
    assert (ex.messages.loc[ex.messages.role == "sent", "status"] == "counted").sum() == 12


def test_notmuch_empty_results_say_why(notmuch):
    nobody = cli("metrics", "--db", notmuch, "--person", "nobody@example.com")
    assert nobody.code == 1 and "no person 'nobody@example.com'" in nobody.err
    later = cli("metrics", "--db", notmuch, "--from", "2020-01-01")
    assert later.code == 1 and "no week between 2020-01-01" in later.err
    backwards = cli("metrics", "--db", notmuch, "--from", "2020-01-02", "--to", "2020-01-01")
    assert backwards.code == 2


def test_notmuch_with_people_file_and_alias(tmp_path):
    people = people_file(tmp_path / "people.csv", [{
        "email": CWORTH, "tz": "America/Los_Angeles", "work_start": "09:00", "work_end": "17:00",
        "workdays": "Mon-Fri", "jurisdiction": "US-CA", "aliases": "carl@example.com"}])
    db = ingest(tmp_path / "w.duckdb", NOTMUCH, owner=CWORTH, people=people)
    w47 = metrics_csv(db, "--person", "carl@example.com").set_index("week").loc["2009-W47"]
    assert w47.after_hours_email_hours == pytest.approx(2866 / 3600, abs=1e-9)
    runs = every_output_command(tmp_path, db, CWORTH, "2009-W47")
    assert "zone America/Los_Angeles" in runs["explain"].out
    check = runs["check"].out.replace("\n", " ")
    assert "1 in jurisdictions without a preset not checked" in check
    assert check.count("US-CA") <= 2  # one summary line, not a row per person
    assert "working hours" not in runs["team"].err  # no loud default: the people file set them
    alias = ok("explain", "--db", db, "--person", "carl@example.com", "--week", "2009-W47")
    assert alias.out.startswith(CWORTH)


# -- olake Slack export --------------------------------------------------------------------

@pytest.fixture(scope="module")
def slack(tmp_path_factory) -> Path:
    return ingest(tmp_path_factory.mktemp("slack") / "w.duckdb", SLACK)


def test_slack_without_people_file(slack, tmp_path):
    pw = metrics_csv(slack, "--person", SLACKER)
    assert pw.chats_sent.sum() == 33
    assert zone_of(slack, SLACKER) == "Asia/Bangkok"
    week = pw.loc[pw.chats_sent.idxmax(), "week"]
    runs = every_output_command(tmp_path, slack, SLACKER, week)
    assert "zone Asia/Bangkok" in runs["explain"].out
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No meetings: no heat-map of meeting time." in page
    assert "fig-heatmap-meetings" not in page
    assert "use the default working hours" in runs["team"].err


def test_slack_roll_ups_and_check_summary(slack):
    team = metrics_csv(slack, "--by", "team")
    assert set(team["team"]) == {"(no team)"}
    found = json.loads(ok("check", "--db", slack, "--policy", "auto", "--format", "json").out)
    notes = [f for f in found["findings"] if f["rule"] == "person.no_jurisdiction"]
    people = found["meta"]["people_no_jurisdiction"]
    # the 38 members who wrote (the 600-odd who only read are contacts, not checked); one line, not one per person
    assert people == 38 and len(notes) == 1 and notes[0]["count"] == people
    assert f"{people:,} people have no jurisdiction" in notes[0]["message"]


# -- one public calendar, its owner named ------------------------------------------------

def test_calendar_without_people_file(tmp_path):
    db = ingest(tmp_path / "w.duckdb", MACHBAR, owner=ALICE)
    run = cli("metrics", "--db", db, "--person", ALICE)
    if run.code == 1:  # this build makes no people row for an .ics owner: it must say so
        assert "no person" in run.err
        assert cli("metrics", "--db", db).code == 1
        assert "no measured person" in cli("metrics", "--db", db).err
        ok("report", "--db", db, "--out", tmp_path / "r.html")
        return
    assert run.code == 0, run.err
    w11 = metrics_csv(db, "--person", ALICE).set_index("week").loc["2019-W11"]
    before_nine = {"Europe/Berlin": 0.5, "UTC": 1.5, "Etc/UTC": 1.5}  # 07:30 UTC start
    assert (w11.meeting_hours, w11.after_hours_meeting_hours) == (6.0, before_nine[zone_of(db, ALICE)])
    every_output_command(tmp_path, db, ALICE, "2019-W11")


def test_calendar_with_people_file(tmp_path):
    people = people_file(tmp_path / "people.csv", [{
        "email": ALICE, "tz": "Europe/Berlin", "work_start": "09:00", "work_end": "17:00",
        "workdays": "Mon-Fri", "jurisdiction": "DE"}])
    db = ingest(tmp_path / "w.duckdb", MACHBAR, owner=ALICE, people=people)
    w11 = metrics_csv(db, "--person", ALICE).set_index("week").loc["2019-W11"]
    assert (w11.meeting_hours, w11.after_hours_meeting_hours) == (6.0, 0.5)
    runs = every_output_command(tmp_path, db, ALICE, "2019-W11")
    assert "one person" in runs["report"].out  # a one-person store gets the personal report
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "fig-personal-weeks" in page and "Suppressed" not in page
    assert "1 people checked (DE: 1)" in runs["check"].out.replace("\n", " ")


# -- a store with nothing measurable -------------------------------------------------------

def test_empty_store(tmp_path):
    from worklife.store import connect

    db = tmp_path / "w.duckdb"
    connect(db).close()
    for args in (["metrics"], ["metrics", "--by", "team"], ["metrics", "--by", "org"]):
        run = cli(*args, "--db", db)
        assert run.code == 1 and "is empty" in run.err
    report = ok("report", "--db", db, "--out", tmp_path / "r.html")
    assert "no person-weeks" in report.out
    assert "no meetings or messages" in (tmp_path / "r.html").read_text(encoding="utf-8")
    ok("check", "--db", db, "--policy", "auto")
    ok("boundaries", "--db", db)
    assert ok("check", "--list-presets").out.count("FR") >= 1


def test_git_history_alone(tmp_path):
    """Commits are outcomes, not activity: metrics has nothing to show and says why."""
    db = tmp_path / "w.duckdb"
    run = cli("ingest", GIT, "--kind", "git", "--db", db)
    if run.code != 0:
        # The stored clone has no refs/ folder, so git itself refuses it ("not a git
        # repository"): ingest must fail in one line naming the source.
        assert run.code == 1 and f"{GIT}: git log failed" in run.err
        return
    metrics = cli("metrics", "--db", db)
    assert metrics.code == 1 and "no meetings or messages" in metrics.err
    ok("report", "--db", db, "--out", tmp_path / "r.html")


# -- enron skilling-j: ~4k files, ingested once ------------------------------------------------

@pytest.fixture(scope="module")
def enron(tmp_path_factory) -> Path:
    return ingest(tmp_path_factory.mktemp("enron") / "w.duckdb", ENRON)


def test_enron_person_commands(enron, tmp_path):
    pw = metrics_csv(enron, "--person", SKILLING)
    with duckdb.connect(str(enron), read_only=True) as con:
        sent = con.execute("SELECT count(DISTINCT message_key) FROM messages WHERE sender_id = ? "
                           "AND channel = 'email' AND NOT coalesce(is_auto, FALSE)", [SKILLING]).fetchall()[0][0]
    assert sent > 0 and pw.emails_sent.sum() == sent
    week = pw.loc[pw.emails_sent.idxmax(), "week"]
    ok("explain", "--db", enron, "--person", SKILLING, "--week", week)
    ok("boundaries", "--db", enron, "--me", SKILLING)
    ok("check", "--db", enron, "--assume", "FR")
    ok("report", "--db", enron, "--person", SKILLING, "--out", tmp_path / "me.html")
    assert others_named((tmp_path / "me.html").read_text(encoding="utf-8"), enron, SKILLING) == []
    part = metrics_csv(enron, "--person", SKILLING, "--from", "2001-01-01", "--to", "2001-01-31")
    assert list(part.week) == ["2001-W01", "2001-W02", "2001-W03", "2001-W04", "2001-W05"]


def test_enron_org_outputs(enron, tmp_path):
    """The whole mailbox's report (roll-ups are exercised on the smaller datasets)."""
    run = ok("report", "--db", enron, "--out", tmp_path / "r.html")
    assert "People:" in run.out and "use the default time zone" in run.err.replace("\n", " ")
