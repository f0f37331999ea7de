"""Round trip: calendars written with the icalendar library come back as the expected instants.

Hypothesis generates single and weekly events in zones of both hemispheres; the expected
occurrences are computed independently with zoneinfo (local wall time + 7 days per
week, then to UTC), so DST changes inside a series are covered.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worklife.config import Config
from worklife.ingest import ics
from worklife.ingest.base import IngestContext

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "Asia/Kolkata",
         "America/Sao_Paulo", "Europe/London", "Asia/Tokyo", "UTC"]

event = st.fixed_dictionaries({
    "zone": st.sampled_from(ZONES),
    "day": st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    "minute_of_day": st.integers(0, 24 * 4 - 1).map(lambda q: q * 15),
    "minutes": st.integers(1, 16).map(lambda q: q * 15),
    "weeks": st.one_of(st.none(), st.integers(1, 30)),  # None: a single event
})


def calendar(events: list[dict]) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//worklife round trip//EN")
    cal.add("version", "2.0")
    for i, e in enumerate(events):
        start = datetime.combine(e["day"], datetime.min.time(), ZoneInfo(e["zone"])) + \
            timedelta(minutes=e["minute_of_day"])
        ev = icalendar.Event()
        ev.add("uid", f"ev{i}@example.com")
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(minutes=e["minutes"]))
        ev.add("summary", f"Event {i}")
        if e["weeks"] is not None:
            ev.add("rrule", {"freq": "weekly", "count": e["weeks"]})
        cal.add_component(ev)
    return cal.to_ical()


def expected(events: list[dict]) -> set[tuple]:
    out = set()
    utc = timezone.utc
    for i, e in enumerate(events):
        zone = ZoneInfo(e["zone"])
        first = datetime.combine(e["day"], datetime.min.time()) + timedelta(minutes=e["minute_of_day"])
        for k in range(e["weeks"] or 1):
            local = first + timedelta(weeks=k)  # wall clock, then placed in the zone
            start = local.replace(tzinfo=zone).astimezone(utc).replace(tzinfo=None)
            end = (local + timedelta(minutes=e["minutes"])).replace(tzinfo=zone).astimezone(utc).replace(tzinfo=None)
            rid = "" if e["weeks"] is None else start.strftime("%Y-%m-%dT%H:%M:%SZ")
            out.add((f"ev{i}@example.com", rid, start, end))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=1, max_size=8))
@example(events=[  # a weekly 02:30 series whose second week falls into Berlin's spring-forward gap
    {"zone": "Europe/Berlin", "day": date(2025, 3, 23), "minute_of_day": 150, "minutes": 30, "weeks": 3},
    {"zone": "Australia/Sydney", "day": date(2025, 3, 30), "minute_of_day": 135, "minutes": 60, "weeks": 2},
])
def test_generated_calendars_round_trip_to_the_expected_utc_instants(tmp_path: Path, events):
    path = tmp_path / "generated.ics"
    path.write_bytes(calendar(events))
    ctx = IngestContext(config=Config(), window=(date(2023, 1, 1), date(2028, 12, 31)))
    got = set()
    for batch in ics.read(path, ctx):
        assert batch.quarantine == []
        got |= {(m["uid"], m["recurrence_id"], m["start_utc"], m["end_utc"]) for m in batch.rows["meetings"]}
    assert got == expected(events)
