"""When is a message delivered? next_window, with expected instants worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worklife.config import Config
from worklife.errors import GuardError
from worklife.guard.clock import ManualClock, to_ms
from worklife.guard.directory import Directory, resolve_recipient
from worklife.guard.intake import GuardPolicy, enqueue
from worklife.guard.queue import Queue
from worklife.guard.schedule import (
    RecipientSchedule,
    day_windows,
    local_to_utc,
    next_window,
    parse_quiet_hours,
)
from worklife.workcal import resolve_person


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def person(tz: str, quiet: str = "", **fields: str) -> RecipientSchedule:
    work = resolve_person({"person_id": "user07@example.com", "tz": tz, **fields}, Config())
    return RecipientSchedule("user07@example.com", work, parse_quiet_hours(quiet))


CASES = [
    # Fri 2026-03-06 18:00 Paris (CET, UTC+1) = 17:00Z, after hours; Sat/Sun off;
    # Mon 2026-03-09 09:00 CET = 08:00Z.
    pytest.param(person("Europe/Paris", jurisdiction="FR"), utc(2026, 3, 6, 17), utc(2026, 3, 9, 8),
                 id="friday-18h-paris-to-monday-09h"),
    # Inside the window: Wed 2026-03-04 10:00 CET = 09:00Z is delivered at once.
    pytest.param(person("Europe/Paris"), utc(2026, 3, 4, 9), utc(2026, 3, 4, 9), id="inside-window-passes"),
    # The end is exclusive: Wed 17:00 CET = 16:00Z -> Thu 09:00 CET = 08:00Z.
    pytest.param(person("Europe/Paris"), utc(2026, 3, 4, 16), utc(2026, 3, 5, 8), id="at-window-end-next-day"),
    # DST gap, Paris: Sun 2026-03-29 clocks jump 02:00 CET -> 03:00 CEST at 01:00Z. A window
    # starting at 02:30 does not exist that day: it starts at the first instant after the gap,
    # 03:00 CEST = 01:00Z. (Sent Sat 23:00Z = Sun 00:00 CET.)
    pytest.param(person("Europe/Paris", work_start="02:30", workdays="Mon-Sun"), utc(2026, 3, 28, 23),
                 utc(2026, 3, 29, 1), id="dst-gap-paris-0230-starts-0300"),
    # DST gap, New York: Sun 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z; sent 01:00 EST = 06:00Z;
    # the 02:30 window starts at 03:00 EDT = 07:00Z.
    pytest.param(person("America/New_York", work_start="02:30", workdays="Mon-Sun"), utc(2026, 3, 8, 6),
                 utc(2026, 3, 8, 7), id="dst-gap-new-york-0230-starts-0300"),
    # The day after the gap is normal: sent Sun 18:00 EDT = 22:00Z -> Mon 02:30 EDT (UTC-4) = 06:30Z.
    pytest.param(person("America/New_York", work_start="02:30", workdays="Mon-Sun"), utc(2026, 3, 8, 22),
                 utc(2026, 3, 9, 6, 30), id="after-gap-normal-day-edt"),
    # DST fold, New York: Sun 2026-11-01 01:00-02:00 happens twice (EDT then EST). A window
    # starting 01:30 takes the first occurrence, 01:30 EDT (UTC-4) = 05:30Z, not 06:30Z.
    # (Sent 00:00 EDT = 04:00Z.)
    pytest.param(person("America/New_York", work_start="01:30", workdays="Mon-Sun"), utc(2026, 11, 1, 4),
                 utc(2026, 11, 1, 5, 30), id="dst-fold-first-occurrence"),
    # Sent in the repeated hour after the first 01:30 (06:00Z = 01:00 EST, second pass):
    # the window is open (it began at 05:30Z and runs to 17:00 EST = 22:00Z).
    pytest.param(person("America/New_York", work_start="01:30", workdays="Mon-Sun"), utc(2026, 11, 1, 6),
                 utc(2026, 11, 1, 6), id="dst-fold-window-open-in-second-pass"),
    # Asia/Kolkata UTC+05:30: Mon 2026-03-02 02:00Z = 07:30 IST -> 09:00 IST = 03:30Z.
    pytest.param(person("Asia/Kolkata"), utc(2026, 3, 2, 2), utc(2026, 3, 2, 3, 30), id="kolkata-plus-0530"),
    # Asia/Kathmandu UTC+05:45: Mon 2026-03-02 00:00Z = 05:45 NPT -> 09:00 NPT = 03:15Z.
    pytest.param(person("Asia/Kathmandu"), utc(2026, 3, 2, 0), utc(2026, 3, 2, 3, 15), id="kathmandu-plus-0545"),
    # Kathmandu after hours: Mon 17:30 NPT = 11:45Z -> Tue 09:00 NPT = Tue 03:15Z.
    pytest.param(person("Asia/Kathmandu"), utc(2026, 3, 2, 11, 45), utc(2026, 3, 3, 3, 15),
                 id="kathmandu-evening-to-next-morning"),
    # FR public holiday: Tue 2026-07-14 (Fête nationale). Mon 13 July 18:00 CEST (UTC+2) = 16:00Z
    # -> Tue is a holiday -> Wed 15 July 09:00 CEST = 07:00Z.
    pytest.param(person("Europe/Paris", jurisdiction="FR"), utc(2026, 7, 13, 16), utc(2026, 7, 15, 7),
                 id="fr-14-july-holiday-skipped"),
    # Without the FR jurisdiction, 14 July is a normal Tuesday: 09:00 CEST = 07:00Z.
    pytest.param(person("Europe/Paris"), utc(2026, 7, 13, 16), utc(2026, 7, 14, 7), id="no-jurisdiction-no-holiday"),
    # Quiet hours 12:00-14:00: Wed 2026-03-04 12:30 CET = 11:30Z -> 14:00 CET = 13:00Z.
    pytest.param(person("Europe/Paris", quiet="12:00-14:00"), utc(2026, 3, 4, 11, 30), utc(2026, 3, 4, 13),
                 id="quiet-hours-lunch"),
    # Quiet hours covering the start of the day: 09:00-10:30 -> Thu 10:30 CET = 09:30Z (sent Wed 18:00 CET).
    pytest.param(person("Europe/Paris", quiet="09:00-10:30"), utc(2026, 3, 4, 17), utc(2026, 3, 5, 9, 30),
                 id="quiet-hours-morning"),
    # Sun-Thu week (Asia/Jerusalem, UTC+2 in winter): Fri 2026-01-09 10:00Z -> Sun 09:00 IST = 07:00Z.
    pytest.param(person("Asia/Jerusalem", workdays="Sun-Thu"), utc(2026, 1, 9, 10), utc(2026, 1, 11, 7),
                 id="sun-thu-week"),
]


@pytest.mark.parametrize(("schedule", "sent", "expected"), CASES)
def test_next_window(schedule: RecipientSchedule, sent: datetime, expected: datetime) -> None:
    assert next_window(schedule, sent) == expected


def test_result_is_utc_aware_and_naive_input_is_refused() -> None:
    got = next_window(person("Asia/Kolkata"), utc(2026, 3, 2, 2))
    assert got.utcoffset().total_seconds() == 0
    with pytest.raises(ValueError, match="naive"):
        next_window(person("Asia/Kolkata"), datetime(2026, 3, 2, 2))


def test_gap_and_fold_rules_of_local_to_utc() -> None:
    # 02:30 does not exist in Paris on 2026-03-29: the transition instant 01:00Z (03:00 CEST).
    assert local_to_utc("Europe/Paris", datetime(2026, 3, 29).date(), 2 * 3600 + 1800) == utc(2026, 3, 29, 1)
    # 02:30 exists twice in Paris on 2026-10-25: first occurrence, 02:30 CEST = 00:30Z.
    assert local_to_utc("Europe/Paris", datetime(2026, 10, 25).date(), 2 * 3600 + 1800) == utc(2026, 10, 25, 0, 30)


def test_fall_back_day_window_is_one_hour_longer() -> None:
    # 09:00-17:00 New York on the fall-back day has no DST effect (the change is at 02:00);
    # a 00:00-08:00 window covers 9 real hours (the 01:00 hour twice).
    (start, end), = day_windows(person("America/New_York", work_start="00:00", work_end="08:00",
                                       workdays="Mon-Sun"), datetime(2026, 11, 1).date())
    assert (end - start).total_seconds() == 9 * 3600


def test_no_workdays_is_a_clear_error() -> None:
    with pytest.raises(GuardError, match="no working window"):
        next_window(person("UTC", workdays="Mon", quiet="00:00-24:00"), utc(2026, 3, 2))


def test_zone_change_while_held_is_replanned_at_claim(tmp_path) -> None:
    """A recipient in New York moves to Tokyo while a message waits for them."""
    config = Config()
    directory = Directory({}, config)
    ny = person("America/New_York")
    directory.replace({"user07@example.com": ny})
    clock = ManualClock(utc(2026, 3, 6, 22))  # Fri 17:00 EST: just after hours
    with Queue(tmp_path / "q.sqlite") as queue:
        (mid,) = enqueue(queue, "sender01@example.com", ["user07@example.com"], "Plan", "Body",
                         directory=directory, now=clock.now())
        # Planned for Mon 2026-03-09 09:00 EDT (DST began Sun 8 March; UTC-4) = 13:00Z.
        assert queue.get(mid)["due_ms"] == to_ms(utc(2026, 3, 9, 13))
        directory.replace({"user07@example.com": person("Asia/Tokyo")})
        clock.set(utc(2026, 3, 9, 13))  # due by the old plan: 22:00 JST in Tokyo, outside hours
        from worklife.guard.delivery import Deliverer

        deliverer = Deliverer(queue, directory, GuardPolicy.from_config(config), clock, "127.0.0.1:9")
        report = deliverer.run_once()
        assert report.rescheduled == 1 and report.delivered == 0
        # Re-held until Tue 2026-03-10 09:00 JST (UTC+9) = 00:00Z, in the new zone.
        row = queue.get(mid)
        assert (row["state"], row["due_ms"], row["tz"]) == ("held", to_ms(utc(2026, 3, 10, 0)), "Asia/Tokyo")


def test_resolve_recipient_accepts_a_zone_or_a_person(tmp_path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("person_id,email,tz,work_start,work_end\nuser07@example.com,user07@example.com,"
                      "Asia/Kathmandu,08:00,16:00\n")
    assert resolve_recipient("Asia/Kolkata", Config()).tz == "Asia/Kolkata"
    found = resolve_recipient("USER07@example.com", Config(), people=people)
    assert (found.tz, found.work.work_start_s) == ("Asia/Kathmandu", 8 * 3600)


# -- invariants (hypothesis) -------------------------------------------------------------
ZONES = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe",
         "America/St_Johns", "Pacific/Chatham", "UTC"]


@st.composite
def schedules(draw) -> RecipientSchedule:
    start = draw(st.integers(0, 47)) * 1800
    end = draw(st.integers(start // 1800 + 1, 48)) * 1800
    hhmm = lambda s: f"{s // 3600:02d}:{s % 3600 // 60:02d}"
    quiet = ""
    if draw(st.booleans()):
        q0 = draw(st.integers(start // 900, end // 900)) * 900
        quiet = f"{hhmm(q0)}-{hhmm(min(q0 + draw(st.integers(1, 8)) * 900, 86400))}"
    return person(draw(st.sampled_from(ZONES)), quiet=quiet, work_start=hhmm(start), work_end=hhmm(end),
                  workdays=draw(st.sampled_from(["Mon-Fri", "Sun-Thu", "Mon-Sun", "Sat"])),
                  jurisdiction=draw(st.sampled_from(["", "FR", "US", "IN"])))


@settings(max_examples=150, deadline=None)
@given(schedules(), st.integers(0, 365 * 86400))
def test_next_window_is_the_start_of_the_next_open_instant(schedule, offset_s):
    at = utc(2026, 1, 1) + timedelta(seconds=offset_s)
    try:
        got = next_window(schedule, at)
    except GuardError:  # quiet hours may swallow the whole day: no window at all
        assert not any(day_windows(schedule, (at + timedelta(days=d)).date()) for d in range(8))
        return
    assert got >= at
    assert next_window(schedule, got) == got  # the answer is inside a window
    if got > at:  # ... and it is where a window starts: one second earlier was closed
        assert next_window(schedule, got - timedelta(seconds=1)) == got
