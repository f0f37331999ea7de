"""The async status digest: a synthetic team's week, built by hand, then read back as facts."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from worklife import ingest
from worklife.cli import app
from worklife.config import Config
from worklife.digest import build_digest as _build_digest
from worklife.digest import (
    estimate_savings,
    message_payload,
    render,
    send_http,
)
from worklife.errors import ConfigError, GuardError, WorklifeError
from worklife.report.savings_section import savings_section, savings_sections
from worklife.store import connect


def build_digest(*args, numbers: str = "quick", **kw):
    """A digest with the quick numbers (one query) unless a test asks for the metric engine."""
    return _build_digest(*args, numbers=numbers, **kw)


WEEK = "2026-W47"  # Monday 16 – Sunday 22 November 2026
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
FIX = Path(__file__).parent / "fixtures" / "digest"

P1, P2, P3, P4 = (f"user0{i}@example.com" for i in range(1, 5))
PEOPLE = [  # person, zone, team, jurisdiction
    (P1, "Europe/Paris", "alpha", "FR"),
    (P2, "America/New_York", "alpha", "US"),
    (P3, "Asia/Tokyo", "alpha", "JP"),
    (P4, "Europe/London", "beta", "GB"),
]


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def outcome(person: str, kind: str, ref: str, at: str, state: str | None = None, project: str | None = None,
            title: str | None = None) -> dict:
    return {"outcome_key": f"{kind}:{ref}:{person}", "person_id": person, "at_utc": t(at).replace(tzinfo=None),
            "kind": kind, "ref": ref, "title": title or f"Title of {ref}", "project": project, "state": state,
            "url": f"https://tracker.example.com/{ref}", "source": "test"}


# What the digest of alpha for 2026-W47 must list as shipped (person, kind, ref), and only that.
PLANTED_SHIPPED = {
    (P1, "task_closed", "T-10"), (P1, "pr_merged", "o/r#1"),
    (P1, "commit", "c1"), (P1, "commit", "c2"), (P1, "commit", "c3"),
    (P2, "issue_closed", "o/r#2"),       # Sunday 22:00 in New York, already Monday in UTC
    (P3, "pr_merged", "o/r#3"),          # Monday 00:30 in Tokyo, still Sunday in UTC
}
OUTCOMES = [
    outcome(P1, "task_closed", "T-10", "2026-11-17T09:00:00", "closed"),
    outcome(P1, "pr_merged", "o/r#1", "2026-11-18T14:00:00", "merged"),
    outcome(P1, "pr_opened", "o/r#1", "2026-11-12T14:00:00", "merged"),   # last week: not moved
    outcome(P1, "commit", "c1", "2026-11-16T09:00:00", project="o/r"),
    outcome(P1, "commit", "c2", "2026-11-17T13:00:00", project="o/r"),
    outcome(P1, "commit", "c3", "2026-11-19T10:00:00", project="o/docs"),
    outcome(P1, "commit", "c0", "2026-11-13T10:00:00", project="o/r"),     # W46
    outcome(P2, "issue_closed", "o/r#2", "2026-11-23T03:00:00", "closed"),
    outcome(P2, "commit", "c9", "2026-11-16T04:00:00", project="o/r"),     # Sunday 23:00 NY: W46
    outcome(P3, "pr_merged", "o/r#3", "2026-11-15T15:30:00", "merged"),
    outcome(P3, "task_closed", "T-30", "2026-11-22T15:30:00", "closed"),   # Monday 00:30 Tokyo: W48
    outcome(P4, "pr_merged", "o/r#4", "2026-11-18T10:00:00", "merged"),   # another team
    # open items: moved, stale, blocked
    outcome(P1, "task_updated", "T-11", "2026-11-20T10:00:00", "open", title="Moved this week"),
    outcome(P1, "task_updated", "T-12", "2026-11-10T10:00:00", "open", title="Quiet for 12 days"),
    outcome(P1, "task_updated", "T-13", "2026-11-17T10:00:00", "open", title="Quiet for 5.5 days"),
    outcome(P2, "issue_updated", "o/r#5", "2026-11-01T10:00:00", "blocked", title="Waiting on vendor"),
    outcome(P2, "issue_updated", "o/r#6", "2026-10-01T10:00:00", "closed", title="Closed long ago"),
    outcome(P3, "pr_opened", "o/r#7", "2026-11-18T02:00:00", "open", title="Opened this week"),
]


def meeting(key: str, start: str, end: str, attendees: dict[str, str], title: str = "Design review",
            recurring: bool = False, status: str = "confirmed") -> tuple[dict, list[dict]]:
    m = {"meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": t(start).replace(tzinfo=None),
         "end_utc": t(end).replace(tzinfo=None), "all_day": False, "status": status, "transp": "opaque",
         "title": title, "is_recurring": recurring, "series_id": key.split("@")[0] if recurring else None}
    return m, [{"meeting_key": key, "person_id": p, "response": r, "is_organizer": r == "organizer"}
               for p, r in attendees.items()]


MEETINGS = [
    # Tuesday 10:00–11:00 and 10:30–11:30 Paris; P2 declines the second one.
    meeting("m1", "2026-11-17T09:00:00", "2026-11-17T10:00:00", {P1: "organizer", P2: "accepted"}),
    meeting("m2", "2026-11-17T09:30:00", "2026-11-17T10:30:00", {P1: "organizer", P2: "declined"}),
    meeting("m3", "2026-11-18T12:00:00", "2026-11-18T13:00:00", {P1: "accepted", P3: "organizer"},
            status="cancelled"),
] + [  # a daily standup, 15 minutes, Monday to Friday of weeks 46 and 47, P1 + P2 (+ P4 of beta on Fridays)
    meeting(f"standup@{d:%Y%m%d}", f"{d:%Y-%m-%d}T08:45:00", f"{d:%Y-%m-%d}T09:00:00",
            {P1: "organizer", P2: "accepted", **({P4: "accepted"} if d.weekday() == 4 else {})},
            title="Daily Standup", recurring=True)
    for d in (datetime(2026, 11, 9) + timedelta(days=i) for i in range(12)) if d.weekday() < 5
]


@pytest.fixture
def store():
    s = connect()
    s.upsert("people", [{"person_id": p, "email": p, "display_name": f"Test Person 0{i + 1}", "tz": tz,
                         "team": team, "jurisdiction": j} for i, (p, tz, team, j) in enumerate(PEOPLE)])
    s.upsert("outcomes", OUTCOMES)
    s.upsert("meetings", [m for m, _ in MEETINGS])
    s.upsert("meeting_attendees", [a for _, att in MEETINGS for a in att])
    s.upsert("messages", [
        {"message_key": "e1", "channel": "email", "sender_id": P1, "sent_utc": datetime(2026, 11, 17, 21, 0),
         "is_auto": False},  # 22:00 Paris: after hours
        {"message_key": "e2", "channel": "email", "sender_id": P1, "sent_utc": datetime(2026, 11, 17, 13, 0),
         "is_auto": False},
        {"message_key": "e3", "channel": "email", "sender_id": P1, "sent_utc": datetime(2026, 11, 17, 23, 0),
         "is_auto": True},   # an auto-reply is not activity
    ])
    yield s
    s.close()


def by_person(d) -> dict[str, object]:
    return {p.person_id: p for p in d.people}


def test_digest_lists_exactly_the_outcomes_planted_for_the_week(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW)
    listed = {(p.person_id, f.kind, f.ref) for p in d.people for f in p.shipped}
    listed |= {(p.person_id, c.kind, c.ref) for p in d.people for g in p.commits for c in g.commits}
    assert listed == PLANTED_SHIPPED
    assert [p.person_id for p in d.people] == [P1, P2, P3]  # beta's P4 is not in alpha's digest


def test_weeks_are_iso_weeks_in_each_persons_own_zone(store):
    people = by_person(build_digest(store, Config(), "alpha", WEEK, NOW))
    assert people[P3].start_utc == t("2026-11-15T15:00:00")  # Monday 00:00 in Tokyo
    assert people[P2].start_utc == t("2026-11-16T05:00:00")  # Monday 00:00 in New York
    assert str(people[P1].week_start) == "2026-11-16"


def test_commits_are_grouped_by_project(store):
    p1 = by_person(build_digest(store, Config(), "alpha", WEEK, NOW))[P1]
    assert [(g.project, [c.ref for c in g.commits]) for g in p1.commits] == [("o/docs", ["c3"]), ("o/r", ["c1", "c2"])]


def test_moved_stale_and_blocked(store):
    people = by_person(build_digest(store, Config(), "alpha", WEEK, NOW))
    assert [f.ref for f in people[P1].moved] == ["T-13", "T-11"]
    assert [f.ref for f in people[P3].moved] == ["o/r#7"]
    assert [(f.ref, f.idle_days) for f in people[P1].stale] == [("T-12", 12.5)]  # at the end of the local week
    assert [f.ref for f in people[P2].blocked] == ["o/r#5"]
    assert people[P2].stale == ()  # blocked items are listed once, and closed items never


@pytest.mark.parametrize("stale_days, stale", [(7, ["T-12"]), (5, ["T-12", "T-13"]), (30, [])],
                         ids=["default-7", "5-days", "30-days"])
def test_stale_threshold_is_configurable(store, stale_days, stale):
    d = build_digest(store, Config({"digest.stale_days": stale_days}), "alpha", WEEK, NOW)
    assert [f.ref for f in by_person(d)[P1].stale] == stale


def test_now_is_explicit_and_nothing_after_it_counts(store):
    d = build_digest(store, Config(), "alpha", WEEK, datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    p1 = by_person(d)[P1]
    assert [f.ref for f in p1.shipped] == ["T-10"]  # o/r#1 merged at 14:00, after "now"
    assert [c.ref for g in p1.commits for c in g.commits] == ["c1", "c2"]
    with pytest.raises(ValueError):
        build_digest(store, Config(), "alpha", WEEK, datetime(2026, 11, 23, 8, 0))  # naive


def test_numbers_meeting_load_and_after_hours_share(store):
    people = by_person(build_digest(store, Config(), "alpha", WEEK, NOW))
    n1, n2 = people[P1].numbers, people[P2].numbers
    # P1: m1 ∪ m2 = 1.5 h (overlap counted once), 5 standups × 0.25 h; the cancelled m3 does not count.
    assert (n1.meeting_hours, n1.status_meeting_hours, n1.meetings) == (2.75, 1.25, 7)
    # P1 activity: 2 e-mails sent (one at 22:00 local), 3 commits, 7 meeting starts; the auto-reply is ignored.
    assert (n1.total, n1.after_hours, n1.basis) == (12, 1, "activity instants")
    # P2 declined m2; New York mornings (04:00, 03:45) are after hours.
    assert (n2.meeting_hours, n2.meetings, n2.total, n2.after_hours) == (2.25, 6, 6, 6)


def test_metric_engine_numbers_agree_on_meeting_load(store):
    pytest.importorskip("worklife.metrics", reason="the metric engine is not in this tree")
    from worklife.timezones import refresh_tz_offsets

    refresh_tz_offsets(store)
    quick = by_person(build_digest(store, Config(), "alpha", WEEK, NOW))
    engine = by_person(build_digest(store, Config(), "alpha", WEEK, NOW, numbers="metrics"))
    for pid in (P1, P2, P3):
        q, m = quick[pid].numbers, engine[pid].numbers
        assert (m.meeting_hours, m.status_meeting_hours, m.meetings) == (q.meeting_hours, q.status_meeting_hours, q.meetings)
        assert m.basis == "collaboration hours"
    assert engine[P2].numbers.after_hours_share == 1.0  # every New York meeting is before 09:00 local


def test_numbers_can_be_left_out(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW, numbers="none")
    assert d.numbers is None and all(p.numbers is None for p in d.people)
    assert "after-hours" not in render(d, "md")


@pytest.mark.parametrize("week", ["2026-47", "2026-W54", "W47"], ids=["no-W", "no-such-week", "no-year"])
def test_bad_week_is_a_config_error(store, week):
    with pytest.raises(ConfigError):
        build_digest(store, Config(), "alpha", week, NOW)


def test_unknown_team_names_the_teams_there_are(store):
    with pytest.raises(WorklifeError, match="alpha, beta"):
        build_digest(store, Config(), "gamma", WEEK, NOW)


def test_markdown_links_every_fact_to_its_source(store):
    text = render(build_digest(store, Config(), "alpha", WEEK, NOW), "md")
    for _, _, ref in PLANTED_SHIPPED:
        if not ref.startswith("c"):
            assert f"[Title of {ref}](https://tracker.example.com/{ref})" in text
        else:
            assert f"- [`{ref}`](https://tracker.example.com/{ref}) Title of {ref}" in text  # hash beside title
    assert "### o/r" in text and "### o/docs" in text
    assert "Test Person 04" not in text


def test_long_sections_are_cut_and_counted(store):
    store.upsert("outcomes", [outcome(P2, "task_closed", f"Z-{i}", "2026-11-19T15:00:00", "closed") for i in range(5)])
    d = build_digest(store, Config(), "alpha", WEEK, NOW)
    assert len(by_person(d)[P2].shipped) == 6  # the digest keeps every fact ...
    text = render(d, "md", limit=2)             # ... the rendering links the first two, names the rest
    work = text.split("## People")[0]
    shipped = work.split("### (no project)")[1].split("**Shipped**")[1].split("**")[0]
    assert shipped.count("](https://tracker.example.com/") == 2
    assert "and 4 more in `(no project)`:" in work
    assert all(f"Title of Z-{i}" in work for i in range(5))  # no title dropped
    full = render(d, "md", limit=2, full=True).split("## People")[0]
    assert full.count("](https://tracker.example.com/Z-") == 5


def test_html_escapes_titles(store):
    store.upsert("outcomes", [outcome(P1, "task_closed", "T-99", "2026-11-19T09:00:00", "closed",
                                      title="<script>alert(1)</script>")])
    html = render(build_digest(store, Config(), "alpha", WEEK, NOW), "html")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_eml_is_a_readable_message_to_the_team(store):
    raw = render(build_digest(store, Config(), "alpha", WEEK, NOW), "eml", sender="digest@example.com")
    msg = email.message_from_string(raw, policy=policy.default)
    assert msg["To"] == f"{P1}, {P2}, {P3}"
    assert msg["Subject"] == "[worklife] alpha digest 2026-W47: 4 shipped, 1 started, 1 blocked, 1 stale"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


# -- savings ----------------------------------------------------------------------------------
def test_savings_counts_status_meeting_person_hours_per_month(store):
    (alpha,) = estimate_savings(store, Config(), team="alpha")
    first = datetime(2026, 11, 9, 8, 45)  # first standup starts
    last = datetime(2026, 11, 20, 9, 0)   # last standup ends: the observed calendar span
    span_days = (last - first).total_seconds() / 86400
    person_hours = 10 * 0.25 * 2  # 10 standups, P1 and P2 (P4 is in beta)
    per_month = person_hours / (span_days / (365.25 / 12))
    assert alpha.series[0].label == "standup"  # titles are not shown unless privacy.keep_titles
    assert alpha.series[0].occurrences == 10 and alpha.series[0].attendees == 2
    assert alpha.person_hours_per_month == pytest.approx(per_month, abs=0.01)
    assert alpha.cost_per_month == pytest.approx(per_month * 75, abs=1)


def test_the_report_collects_the_savings_section(store):
    from worklife.report.sections import collect_sections

    (sec,) = collect_sections(store, Config({"privacy.min_group_size": 3}), None, providers=[savings_sections])
    assert sec.title == "Status meetings the digest could replace" and sec.anchor == "digest-savings"
    assert "<h3>alpha</h3>" in sec.html and "<h2>" not in sec.html  # the report adds the heading
    assert "<h3>beta</h3>" not in sec.html and "1 team(s) with fewer than 3 people" in sec.html


def test_savings_section_is_html_next_to_the_digest(store):
    html = savings_section(store, Config({"metrics.hourly_cost": 100.0, "privacy.min_group_size": 1}))
    assert "<h3>alpha</h3>" in html and "<h3>beta</h3>" in html
    assert "worklife digest --team alpha" in html
    assert "100 USD per person-hour" in html
    eur = savings_section(store, Config({"digest.currency": "EUR", "privacy.min_group_size": 1}))
    assert "75 EUR per person-hour" in eur and " EUR</td>" in eur  # every cost carries its currency
    assert "Inputs: meetings detected as status-like" in html and "What this cannot know" in html


# -- delivery through the guard's HTTP API ------------------------------------------------------
def test_send_http_posts_the_guard_contract(store):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["authorization"]
        seen["json"] = json.loads(request.content)
        return httpx.Response(202, json={"ok": True, "ids": [1, 2, 3], "replayed": False, "deliveries": []})

    d = build_digest(store, Config(), "alpha", WEEK, NOW)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    answer = send_http(d, "http://guard.test/", "s3cret", "digest@example.com", client=client)
    assert answer["ids"] == [1, 2, 3]
    assert seen["url"] == "http://guard.test/messages" and seen["auth"] == "Bearer s3cret"
    body = seen["json"]
    assert body["recipients"] == [P1, P2, P3] and body["sender"] == "digest@example.com"
    assert body["idempotency_key"] == "digest:alpha:2026-W47"
    assert body["subject"].startswith("[worklife] alpha digest") and "## People" in body["body"]


def test_a_refusal_by_the_guard_is_a_guard_error_with_its_message(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW)
    client = httpx.Client(transport=httpx.MockTransport(
        lambda r: httpx.Response(401, json={"ok": False, "error": "invalid token", "status": 401})))
    with pytest.raises(GuardError, match="invalid token"):
        send_http(d, "http://guard.test", "wrong", "digest@example.com", client=client)


def test_html_and_eml_are_sent_as_mime(store):
    d = build_digest(store, Config(), "alpha", WEEK, NOW)
    payload = message_payload(d, "digest@example.com", mime=True)
    assert "body" not in payload and "multipart/alternative" in payload["raw"]


# -- CLI --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "w.duckdb"
    with connect(path) as s:
        s.upsert("people", [{"person_id": f"user0{i}@example.com", "email": f"user0{i}@example.com",
                             "display_name": f"Test Person 0{i}", "team": "platform", "tz": tz}
                            for i, tz in [(1, "Europe/Paris"), (2, "America/New_York"), (3, "Europe/London")]])
        ingest.run([FIX / n for n in ("aliases.csv", "github_issues.json", "github_pulls.json",
                                      "jira_search.json", "jira_export.csv", "outcomes.csv")], s, Config())
    return path


def test_cli_digest_of_the_fixtures(db, tmp_path):
    out = tmp_path / "d.md"
    r = CliRunner().invoke(app, ["digest", "--db", str(db), "--team", "platform", "--week", WEEK,
                                 "--now", "2026-11-23T08:00:00Z", "--numbers", "quick", "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    for link in ("[Retry uploads on HTTP 503](https://github.com/example-org/widgets/pull/101) (#101)",  # issues API
                 "](https://github.com/example-org/api/pull/7) (#7)",                         # GitHub pulls API
                 "[Upload fails behind proxy](https://github.com/example-org/widgets/issues/95)",  # 00:30 Paris
                 "[Rotate storage credentials](https://example-org.atlassian.net/browse/PLAT-11) (PLAT-11)",  # Jira
                 "- Write the on-call runbook (PLAT-21)",                                     # Jira CSV: no site
                 "### example-org/runbooks"):                                                 # outcomes CSV
        assert link in text
    assert "#90" not in text  # merged in an earlier week


@pytest.mark.parametrize("args, code", [
    (["--week", "2026-47"], 2), (["--format", "pdf"], 2), (["--send"], 2), (["--team", "nope"], 1),
], ids=["bad-week", "bad-format", "send-without-guard", "unknown-team"])
def test_cli_errors_are_one_line_with_an_exit_code(db, args, code):
    base = {"--team": "platform", "--week": WEEK}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = ["digest", "--db", str(db), "--now", "2026-11-23T08:00:00Z", "--numbers", "quick"]
    for flag, value in base.items():
        argv += [flag, value]
    if args == ["--send"]:
        argv.append("--send")
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output


def test_aliases_ingested_after_the_outcomes_still_resolve(tmp_path):
    with connect(tmp_path / "late.duckdb") as s:
        s.upsert("people", [{"person_id": p, "email": p, "display_name": f"Test Person 0{i}", "team": "platform",
                             "tz": "Europe/Paris"} for i, p in ((1, P1), (2, P2), (3, P3))])
        ingest.run([FIX / "github_issues.json", FIX / "jira_export.csv"], s, Config())
        assert s.con.execute("SELECT count(*) FROM outcomes WHERE person_id = 'github:tp-user01'").fetchone()[0] > 0
        before = build_digest(s, Config(), "platform", WEEK, NOW)
        # Jira CSV carries display names only: a unique people.display_name is enough.
        assert [f.ref for f in by_person(before)[P3].shipped] == ["PLAT-21"]
        assert by_person(before)[P1].shipped == ()
        ingest.run([FIX / "aliases.csv"], s, Config())
        after = build_digest(s, Config(), "platform", WEEK, NOW)
        assert [f.ref for f in by_person(after)[P1].shipped] == ["example-org/widgets#95", "example-org/widgets#101"]


def test_a_bare_login_alias_from_the_people_file_resolves_github_ids(store):
    store.upsert("person_aliases", [{"alias": "tp-user03", "person_id": P3, "kind": "alias"}])
    store.upsert("outcomes", [outcome("github:tp-user03", "pr_merged", "o/r#77", "2026-11-18T03:00:00", "merged")])
    d = build_digest(store, Config(), "alpha", WEEK, NOW)
    assert [f.ref for f in by_person(d)[P3].shipped] == ["o/r#3", "o/r#77"]
