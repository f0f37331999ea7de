"""The synthetic organisation: deterministic, real formats, and what it says it planted."""

from __future__ import annotations

import email.parser
import json
import subprocess
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pandas as pd
import pytest
import recurring_ical_events
from typer.testing import CliRunner

from worklife.cli import app
from worklife.errors import ConfigError
from worklife.store import connect
from worklife.synth import generate, load_into_store, write
from worklife.synth.write_ics import reference_event, reference_master, vevent, vevent_master

PEOPLE, WEEKS, SEED = 48, 3, 3
START = date(2025, 3, 17)  # three weeks holding the European and the southern DST changes


@pytest.fixture(scope="module")
def org():
    return generate(PEOPLE, WEEKS, SEED, START)


@pytest.fixture(scope="module")
def out(org, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth")
    write(org, path, ground_truth=False)
    return path


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "git" not in p.relative_to(root).parts[:1]}


def test_same_seed_gives_identical_files(out, tmp_path):
    write(generate(PEOPLE, WEEKS, SEED, START), tmp_path, ground_truth=False)
    assert _files(tmp_path) == _files(out)
    head = [subprocess.run(["git", "rev-parse", "main"], cwd=d / "git", capture_output=True, text=True).stdout
            for d in (tmp_path, out)]
    assert head[0] == head[1] and len(head[0].strip()) == 40


def test_other_seed_gives_other_data(org):
    other = generate(PEOPLE, WEEKS, SEED + 1, START)
    assert not other.messages["sent_utc"].equals(org.messages["sent_utc"])
    assert not other.meetings["start_utc"].equals(org.meetings["start_utc"])


@pytest.mark.parametrize("people, start, match", [(10, date(2025, 3, 3), "at least 48"),
                                                  (60, date(2025, 3, 4), "Monday")],
                         ids=["too-few-people", "start-not-monday"])
def test_bad_arguments_raise_a_clear_error(people, start, match):
    with pytest.raises(ConfigError, match=match):
        generate(people, 2, 0, start)


def test_people_csv_has_the_documented_columns_and_zones(out, org):
    people = pd.read_csv(out / "people.csv", dtype=str, keep_default_na=False)
    assert list(people.columns) == ["person_id", "email", "display_name", "tz", "work_start", "work_end",
                                    "workdays", "manager_id", "team", "level", "jurisdiction"]
    assert people["display_name"].str.match(r"^Test Person \d+$").all()
    assert people["person_id"].str.endswith("@example.com").all()
    assert {"Asia/Kolkata", "Australia/Sydney", "Europe/Paris", "America/Los_Angeles"} <= set(people["tz"])
    missing = org.planted["defaults_used"]
    assert set(people.loc[people["tz"] == "", "person_id"]) == {p for p, f in missing.items() if "tz" in f}


def test_all_required_zones_appear_at_200_people():
    org = generate(200, 1, 0)
    zones = set(org.people["tz"].dropna())
    assert {"Asia/Kolkata", "Asia/Kathmandu", "Europe/Paris", "Europe/Lisbon", "Europe/Madrid",
            "Europe/Brussels", "Europe/Dublin", "Europe/Berlin", "America/Toronto", "America/Los_Angeles",
            "Australia/Sydney", "America/Santiago", "America/Bogota",
            "America/Argentina/Buenos_Aires"} <= zones
    sizes = org.people.groupby("team").size()
    assert sizes.between(8, 15).all()


def _window(org):
    start = datetime(org.start.year, org.start.month, org.start.day, tzinfo=timezone.utc) - timedelta(days=8)
    return start, start + timedelta(days=7 * org.weeks + 16)


def test_every_calendar_parses_and_expands_to_the_generated_occurrences(out, org):
    lo, hi = _window(org)
    expected = org.meeting_attendees.merge(org.meetings[["meeting_key", "uid", "start_utc", "status"]],
                                           on="meeting_key")
    for path in sorted((out / "calendars").glob("*.ics")):
        owner = path.stem + "@example.com"
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        assert str(cal["X-WR-CALNAME"]) == owner
        tzids = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
        used = {ev["DTSTART"].params["TZID"] for ev in cal.walk("VEVENT") if "TZID" in ev["DTSTART"].params}
        assert used <= tzids
        occurrences = recurring_ical_events.of(cal).between(lo, hi)
        got = Counter((str(ev["UID"]), _epoch(ev["DTSTART"].dt), str(ev["STATUS"]).lower()) for ev in occurrences)
        mine = expected.loc[expected["person_id"] == owner]
        assert got == Counter(zip(mine["uid"], mine["start_utc"], mine["status"])), path.name


def test_fast_vevent_matches_the_icalendar_reference(org):
    names = dict(zip(org.people["person_id"], org.people["display_name"]))
    att = org.meeting_attendees.loc[org.meeting_attendees["response"] != "organizer"]
    by_key = att.groupby("meeting_key")[["person_id", "response"]].apply(lambda d: list(d.itertuples(index=False, name=None)))
    m = org.meetings
    rows = list(m.loc[~m["is_recurring"]].head(40).itertuples()) + list(m.loc[m["override"]].head(20).itertuples())
    rows += list(m.loc[m["all_day"]].head(3).itertuples())
    for row in rows:
        fast = icalendar.Event.from_ical(vevent(row, by_key.get(row.meeting_key, []), names))
        ref = icalendar.Event.from_ical(reference_event(row, by_key.get(row.meeting_key, []), names).to_ical())
        for prop in ("UID", "SUMMARY", "STATUS", "TRANSP", "DTSTART", "DTEND", "RECURRENCE-ID", "ORGANIZER"):
            if prop in ref:
                assert fast.decoded(prop) == ref.decoded(prop), (row.meeting_key, prop)
        assert [str(a) for a in fast.get("ATTENDEE", [])] == [str(a) for a in ref.get("ATTENDEE", [])]
    for s in org.series.head(10).itertuples():
        fast = icalendar.Event.from_ical(vevent_master(s, names))
        ref = icalendar.Event.from_ical(reference_master(s, names).to_ical())
        for prop in ("DTSTART", "DTEND", "RRULE", "UID"):
            assert fast.decoded(prop) == ref.decoded(prop)
        assert fast.to_ical().count(b"EXDATE") == ref.to_ical().count(b"EXDATE")
        if "EXDATE" in ref:
            assert [d.dt for d in fast["EXDATE"].dts] == [d.dt for d in ref["EXDATE"].dts]


def test_series_have_exdates_overrides_and_cross_dst(org):
    m = org.meetings
    assert (org.series["exdates"].map(len) > 0).any()
    assert (m["override"] & (m["start_utc"] != m["recurrence_id"].map(_rid))).any()  # moved occurrence
    local_hours = {(row.uid, datetime.fromtimestamp(row.start_utc, ZoneInfo(row.tz)).hour)
                   for row in m.loc[m["is_recurring"] & ~m["override"]].itertuples()}
    utc_hours = m.loc[m["is_recurring"] & ~m["override"]].groupby("uid")["start_utc"].apply(
        lambda s: len({(t % 86400) // 3600 for t in s}))
    assert (utc_hours > 1).any()  # same local time, different UTC hour across a DST change
    assert len(local_hours) > 0


def _epoch(value) -> int:
    """DTSTART as UTC seconds; an all-day date counts from 00:00 UTC (the canonical convention)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return int(value.timestamp())


def _rid(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()) if text else -1


def test_calendar_has_every_kind_of_event(org):
    m, a = org.meetings, org.meeting_attendees
    dur = m["end_utc"] - m["start_utc"]
    assert (m["status"] == "cancelled").any() and (m["transp"] == "transparent").any()
    assert m["all_day"].any() and (dur > 8 * 3600).any() and (dur > 3600).any()
    assert (a.groupby("meeting_key").size() >= 9).any()
    assert {"declined", "tentative", "accepted", "needs-action", "organizer"} <= set(a["response"])
    assert org.planted["midnight_meeting"]["meeting_key"] in set(m["meeting_key"])
    dst = org.planted["dst_meeting"]
    assert dst["hours"] == 2.0  # 01:00-04:00 wall clock on the spring-forward night


def test_maildir_holds_each_email_once_with_local_dates(out, org):
    parser = email.parser.BytesHeaderParser()
    files = sorted((out / "mail" / "cur").iterdir())
    mail = org.messages.loc[org.messages["channel"] == "email"].set_index("message_id")
    assert len(files) == len(mail)
    tz = dict(zip(org.people["person_id"], org.people["tz"].fillna("UTC")))
    seen = set()
    for path in files[:400]:
        msg = parser.parsebytes(path.read_bytes())
        mid = msg["Message-ID"].strip("<>")
        seen.add(mid)
        row = mail.loc[mid]
        when = parsedate_to_datetime(msg["Date"])
        assert int(when.timestamp()) == row["sent_utc"]
        assert when.utcoffset() == datetime.fromtimestamp(row["sent_utc"], ZoneInfo(tz[row["sender_id"]])).utcoffset()
        assert (msg["Auto-Submitted"] == "auto-replied") == bool(row["is_auto"])
        if isinstance(row["in_reply_to"], str):
            assert msg["In-Reply-To"] == f"<{row['in_reply_to']}>"
    assert len(seen) == min(400, len(files))


def test_mbox_format_writes_one_file_per_iso_week(org, tmp_path):
    from worklife.synth.write_mail import write_mbox
    import mailbox
    n = write_mbox(org, tmp_path)
    boxes = sorted(tmp_path.glob("*.mbox"))
    assert boxes and all(p.name.startswith("2025-W") for p in boxes)
    assert sum(len(mailbox.mbox(str(p))) for p in boxes) == n


def test_slack_export_layout(out, org):
    slack = out / "slack"
    users = json.loads((slack / "users.json").read_text())
    assert {u["profile"].get("email") for u in users if not u["is_bot"]} == set(org.people["email"])
    channels = json.loads((slack / "channels.json").read_text())
    assert any(c["name"] == "general" for c in channels)
    dms = json.loads((slack / "dms.json").read_text())
    assert dms and all(len(d["members"]) == 2 for d in dms)
    msgs = [m for p in slack.glob("*/*.json") for m in json.loads(p.read_text())]
    canonical = [m for m in msgs if m.get("subtype") != "channel_join"]
    assert len(canonical) == int((org.messages["channel"] == "chat").sum())
    assert any("thread_ts" in m and m["thread_ts"] != m["ts"] for m in canonical)
    assert any(m.get("subtype") == "bot_message" for m in canonical)


def test_git_repository_has_every_commit_with_local_offsets(out, org):
    log = subprocess.run(["git", "log", "--format=%H %ae %at %ai"], cwd=out / "git",
                         capture_output=True, text=True, check=True).stdout.split("\n")
    rows = [line.split(" ", 3) for line in log if line]
    assert len(rows) == len(org.commits)
    by_hash = org.commits.set_index("outcome_key")
    for h, ae, at, ai in rows[:200]:
        c = by_hash.loc[h]
        assert ae == c["person_id"] and int(at) == c["at_utc"]
        off = int(c["offset_s"])
        assert ai.endswith(f"{'+' if off >= 0 else '-'}{abs(off) // 3600:02d}{abs(off) % 3600 // 60:02d}")


def test_load_into_store_writes_canonical_rows(org):
    store = connect(":memory:")
    counts = load_into_store(org, store)
    assert counts["meetings"] == len(org.meetings)
    assert counts["messages"] == len(org.messages)
    assert counts["message_recipients"] == len(org.all_recipients())
    keys = store.con.execute("SELECT count(*) FROM meetings WHERE meeting_key <> uid || '|' || recurrence_id").fetchall()
    assert keys[0][0] == 0
    assert set(r[0] for r in store.con.execute("SELECT DISTINCT response FROM meeting_attendees").fetchall()) <= {
        "accepted", "tentative", "declined", "needs-action", "organizer"}
    assert set(r[0] for r in store.con.execute("SELECT DISTINCT kind FROM message_recipients").fetchall()) == {
        "to", "cc", "bcc", "channel-member"}
    assert store.count("tz_offsets") > 0  # a read between two loads must not block the next upsert
    nulls = store.con.execute("SELECT count(*) FILTER (WHERE in_reply_to IS NULL), "
                              "count(*) FILTER (WHERE in_reply_to = 'nan' OR thread_id = 'nan') FROM messages").fetchall()
    assert nulls[0][0] > 0 and nulls[0][1] == 0  # missing values are NULL, never the text 'nan'
    assert load_into_store(org, store)["messages"] == 0  # idempotent


def test_cli_synth_writes_files_and_reports(tmp_path):
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "o"), "--people", "48", "--weeks", "1",
                                      "--mail-format", "mbox", "--no-ground-truth"])
    assert result.exit_code == 0, result.output
    assert "48 people" in result.output
    assert (tmp_path / "o" / "people.csv").exists() and not (tmp_path / "o" / "ground_truth.parquet").exists()


@pytest.mark.parametrize("args, code", [(["--people", "5"], 1), (["--start", "March"], 2),
                                        (["--mail-format", "pst"], 2)],
                         ids=["too-few-people", "bad-date", "bad-mail-format"])
def test_cli_synth_errors_are_one_line(tmp_path, args, code):
    from worklife.cli import main
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--out", str(tmp_path / "o"), *args])
    assert exc.value.code == code
