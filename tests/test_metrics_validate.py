"""Validation report and work-about-work categories on hand-built stores."""

from __future__ import annotations

import pytest
from _metrics_store import finish, meeting, message, person
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import Config
from worklife.metrics.categories import METHOD, work_about_work
from worklife.metrics.validate import format_report, validate
from worklife.store import connect

P = "user99@example.com"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("validate") / "w.duckdb"
    s = connect(path)
    person(s, P, tz="America/New_York")
    ny = person(s, "user01@example.com", tz="America/New_York")
    nozone = person(s, "user02@example.com", tz=None, start=None)
    # A "good" source: e-mail sent 10:00-16:00 New York (15:00-21:00Z in January).
    # A "skewed" source: the same pattern recorded 5 h early (exported in the wrong zone).
    for day in range(13, 18):
        for hour in range(15, 21):
            s.upsert("messages", [
                {"message_key": f"g{day}{hour}", "channel": "email", "sender_id": ny,
                 "sent_utc": __import__("datetime").datetime(2025, 1, day, hour), "is_auto": False,
                 "subject_or_channel": "Weekly status update", "source": "good"},
                {"message_key": f"s{day}{hour}", "channel": "email", "sender_id": P,
                 "sent_utc": __import__("datetime").datetime(2025, 1, day, hour - 5), "is_auto": False,
                 "subject_or_channel": "Design review", "source": "skewed"},
            ])
    meeting(s, "2025-01-13 15:00", "2025-01-13 16:00", ny, {P: "accepted", nozone: "declined"},
            title="Sprint planning")
    meeting(s, "2025-01-14 15:00", "2025-01-14 15:30", ny, {P: "accepted"}, title="Daily standup",
            recurring=True)
    meeting(s, "2025-01-15 15:00", "2025-01-15 16:00", ny, {P: "accepted"}, status="cancelled")
    message(s, "2025-01-15 15:00", ny, channel="chat", subject="#random")
    finish(s)
    s.close()
    return path


@pytest.fixture(scope="module")
def report(db):
    return validate(db, Config())


def test_time_zone_skew_is_flagged_per_source(report):
    skew = report.tz_skew.set_index("source")
    assert bool(skew.loc["skewed", "flagged"]) and skew.loc["skewed", "best_shift_hours"] == 5
    assert not skew.loc["good", "flagged"] and skew.loc["good", "share_in_hours"] == 1.0


def test_fallbacks_name_the_fields_that_used_defaults(report):
    fb = report.fallbacks.set_index("person_id")
    assert "tz" in fb.loc["user02@example.com", "defaults_used"]
    assert "work_start" in fb.loc["user02@example.com", "defaults_used"]
    assert fb.loc["user02@example.com", "tz"] in ("UTC", "Etc/UTC")


def test_exclusions_are_counted_by_reason(report):
    ex = report.exclusions.set_index(["what", "reason"]).n
    assert ex[("meeting attendance", "cancelled")] == 2
    assert ex[("meeting attendance", "declined")] == 1


def test_little_recorded_activity_uses_the_threshold(report):
    assert "user02@example.com" in set(report.little_recorded_activity.person_id)


def test_report_text_and_cli(db, report):
    text = format_report(report)
    assert "Time-zone skew" in text and "skewed" in text
    r = CliRunner().invoke(app, ["metrics", "--db", str(db), "--validate"])
    assert r.exit_code == 0 and "Time-zone skew" in r.output


def test_work_about_work_shares_state_their_method(db):
    df = work_about_work(db, Config())
    shares = df.set_index(["source", "category"]).share
    assert shares[("email", "coordination/status")] == pytest.approx(0.5)
    assert shares[("email", "skilled/work")] == pytest.approx(0.5)
    assert shares[("meetings", "coordination/planning")] == pytest.approx(1 / 1.5)
    assert shares[("chat", "uncategorised")] == 1.0
    assert df.groupby("source").share.sum().round(9).eq(1).all()
    assert "Proxy" in METHOD


def _enron_store(tmp_path):
    """Jeff Skilling's sent mail (two folders of the public Enron Maildir) as a hand-built store."""
    import email.policy
    from datetime import timezone
    from email.parser import BytesHeaderParser
    from email.utils import parsedate_to_datetime

    from conftest import shared_path

    root = shared_path("data", "enron", "skilling-j")
    s = connect(tmp_path / "enron.duckdb")
    me = person(s, "jeff.skilling@enron.com", tz="America/Chicago", start="08:00", end="18:00")
    parser = BytesHeaderParser(policy=email.policy.compat32)
    rows = []
    for folder in ("sent", "sent_items"):
        for f in sorted((root / folder).rglob("*")):
            if not f.is_file():
                continue
            with open(f, "rb") as fh:
                h = parser.parse(fh)
            try:
                sent = parsedate_to_datetime(h["Date"]).astimezone(timezone.utc).replace(tzinfo=None)
            except (TypeError, ValueError):
                continue
            if sent.year < 1990:  # placeholder dates of the corpus
                continue
            rows.append({"message_key": f"{folder}/{f.name}", "message_id": h["Message-ID"],
                         "channel": "email", "sender_id": me, "sent_utc": sent, "is_auto": False,
                         "subject_or_channel": h["Subject"], "source": f"enron/{folder}"})
    s.upsert("messages", rows)
    finish(s)
    s.close()
    return tmp_path / "enron.duckdb"


def test_enron_sent_folder_shows_time_zone_skew(tmp_path):
    db = _enron_store(tmp_path)
    skew = validate(db, Config()).tz_skew.set_index("source")
    old = skew.loc["enron/sent"]
    # Lotus-era "sent" stamps peak at 01:00-12:00 Chicago: whole hours off working hours.
    assert bool(old.flagged) and old.best_shift_hours > 0
    assert old.share_at_best - old.share_in_hours >= 0.2
    # The later Outlook-era "sent_items" lean the other way (peak in the Chicago evening):
    # the two eras disagree, which is what the corpus README warns about.
    assert skew.loc["enron/sent_items", "best_shift_hours"] < 0
