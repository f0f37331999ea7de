"""The SQL working-time classification agrees with a plain zoneinfo + holidays reference."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worklife.config import Config
from worklife.policy._localtime import localize, prepare
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets
from worklife.workcal import is_public_holiday

PEOPLE = [  # (zone, jurisdiction, start, end, workdays)
    ("Europe/Lisbon", "PT", "09:00", "17:00", "Mon-Fri"),
    ("America/New_York", "CA-ON", "08:30", "16:30", "Mon-Fri"),
    ("Australia/Sydney", "AU-NSW", "10:00", "18:30", "Mon-Fri"),
    ("Asia/Jerusalem", "", "09:00", "17:00", "Sun-Thu"),
]
DAYS = {"Mon-Fri": {0, 1, 2, 3, 4}, "Sun-Thu": {6, 0, 1, 2, 3}}


def reference(t: datetime, zone: str, jur: str, start: str, end: str, days: str) -> bool:
    local = t.astimezone(ZoneInfo(zone))
    sod = local.hour * 3600 + local.minute * 60 + local.second
    h0, m0 = map(int, start.split(":"))
    h1, m1 = map(int, end.split(":"))
    return (local.weekday() in DAYS[days] and not is_public_holiday(jur, local.date())
            and h0 * 3600 + m0 * 60 <= sod < h1 * 3600 + m1 * 60)


instants = st.lists(st.integers(0, 2 * 366 * 86400 - 1), min_size=1, max_size=60)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seconds=instants)
def test_sql_classification_matches_reference(seconds):
    store = connect(":memory:")
    try:
        store.upsert("people", [{"person_id": f"user{i:02d}@example.com", "tz": z, "jurisdiction": j,
                                 "work_start": s, "work_end": e, "workdays": d, "is_internal": True}
                                for i, (z, j, s, e, d) in enumerate(PEOPLE)])
        t0 = datetime(2024, 1, 1)
        rows = [{"outcome_key": f"c{i}-{k}", "person_id": f"user{i:02d}@example.com",
                 "at_utc": t0 + timedelta(seconds=sec), "kind": "commit"}
                for k, sec in enumerate(seconds) for i in range(len(PEOPLE))]
        store.upsert("outcomes", rows)
        refresh_tz_offsets(store)
        prepare(store, Config())
        got = store.con.execute(
            f"SELECT outcome_key, is_work FROM ({localize('SELECT * FROM outcomes', 'person_id', 'at_utc', '')})"
        ).fetchall()
        by_key = {r["outcome_key"]: r for r in rows}
        for key, is_work in got:
            r = by_key[key]
            i = int(r["person_id"][4:6])
            assert is_work == reference(r["at_utc"].replace(tzinfo=timezone.utc), *PEOPLE[i]), (key, r["at_utc"])
        assert len(got) == len(rows)
    finally:
        store.close()


def test_policy_and_metrics_classify_every_contact_the_same_way():
    """One semantics: the policy SQL helper agrees with worklife.metrics.localtime on the synth org."""
    import pytest

    localtime = pytest.importorskip("worklife.metrics.localtime")
    synth = pytest.importorskip("worklife.synth")
    import ibis

    store = connect(":memory:")
    try:
        synth.load_into_store(synth.generate(people=48, weeks=5, seed=2), store)
        people = store.con.execute("SELECT * FROM people").df()
        span = store.data_span_utc()
        cal = localtime.LocalCalendar.build(people, store.con.sql("SELECT * FROM tz_offsets").to_arrow_table(),
                                            span[0].date(), span[1].date(), Config())
        store.con.execute("CREATE OR REPLACE TEMP TABLE pol_in AS SELECT m.message_key, r.person_id, m.sent_utc "
                          "FROM messages m JOIN message_recipients r USING (message_key)")
        backend = ibis.duckdb.from_connection(store.con)
        backend.create_table("pol_metrics_loc", cal.locate(backend.table("pol_in"), at="sent_utc"),
                             temp=True, overwrite=True)
        prepare(store, Config())
        mine = localize("SELECT * FROM pol_in", "person_id", "sent_utc", "")
        n, differ = store.con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE x.is_working <> y.is_work) FROM pol_metrics_loc x "
            f"JOIN ({mine}) y USING (message_key, person_id)").fetchone()
        assert n > 1000 and differ == 0
    finally:
        store.close()
