"""`worklife check` and `worklife boundaries` give the same answer on Spark as on DuckDB.

The policy SQL is written once (DuckDB) and transpiled to Spark SQL by sqlglot
(``worklife.policy.sql``). A synthetic organisation of 48 people x 4 weeks across the
European daylight-saving change of 30 March 2025, with people moved to Portugal (contact
prohibited) and Chile (12 h disconnection) and a few planted cases (an after-hours reply,
an urgent incident ping, a 12-hour day under the French preset), is checked under a
charter with quiet hours, manager contact, reply rule and an on-call week: every finding
(rule, person, week, count, samples, values) and every boundary table must be equal.
Skips when Java or pyspark is missing. 1–2.5 minutes on a 2-core machine, by its load.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from worklife.config import Config
from worklife.policy import boundary_pressure, check_report, load_policy, open_db, sender_view
from worklife.store import Store, connect
from worklife.synth import generate, load_into_store

pytestmark = [pytest.mark.spark, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("Spark needs Java (no `java` on PATH)", allow_module_level=True)
pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'worklife[spark]'")

CHARTER = """\
preset = "auto"
manager_contact = true
reply_expected = true
urgent_patterns = ["\\\\bincident\\\\b"]
[quiet_hours]
start = "20:00"
end = "08:00"
[[on_call]]
person = "{on_call}"
from = "2025-03-24T00:00:00Z"
to = "2025-03-31T00:00:00Z"
"""


def _utc(day: str, hhmm: str, tz: str) -> datetime:
    local = datetime.fromisoformat(f"{day} {hhmm}").replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _message(store: Store, key: str, sender: str, to: str, at: datetime, subject: str = "Status",
             in_reply_to: str | None = None) -> None:
    store.upsert("messages", [{
        "message_key": key, "message_id": f"<{key}@example.com>", "channel": "email", "sender_id": sender,
        "sent_utc": at, "thread_id": None, "in_reply_to": in_reply_to, "subject_or_channel": subject,
        "is_auto": False, "source": "test", "source_ref": None}])
    store.upsert("message_recipients", [{"message_key": key, "person_id": to, "kind": "to"}])


def _plant(store: Store) -> None:
    """Move people to PT / CL / FR and add an after-hours reply, an urgent ping and a long day."""
    con = store.con
    ids = [r[0] for r in con.execute("SELECT person_id FROM people ORDER BY person_id").fetchall()]
    con.execute("UPDATE people SET jurisdiction = 'PT' WHERE person_id IN (SELECT unnest(?))", [ids[0::3]])
    con.execute("UPDATE people SET jurisdiction = 'CL' WHERE person_id IN (SELECT unnest(?))", [ids[1::6]])
    con.execute("UPDATE people SET jurisdiction = 'FR' WHERE person_id IN (SELECT unnest(?))", [ids[2::6]])
    tz = dict(con.execute("SELECT person_id, tz FROM people").fetchall())
    a, b, c = ids[0], ids[3], ids[2]  # two in PT, one in FR
    _message(store, "plant-late", a, b, _utc("2025-03-19", "22:15", tz[b]))
    _message(store, "plant-reply", b, a, _utc("2025-03-19", "22:40", tz[b]), "Re: Status",
             in_reply_to="<plant-late@example.com>")
    _message(store, "plant-urgent", a, b, _utc("2025-03-20", "23:05", tz[b]), "incident: db down")
    for key, t0, t1 in (("plant-m1", "07:00", "13:00"), ("plant-m2", "13:30", "19:30")):
        store.upsert("meetings", [{
            "meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": _utc("2025-04-02", t0, tz[c]),
            "end_utc": _utc("2025-04-02", t1, tz[c]), "all_day": False, "status": "confirmed",
            "transp": "opaque", "show_as": None, "organizer_id": c, "title": "Planning", "is_recurring": False,
            "source": "test", "source_ref": None}])
        store.upsert("meeting_attendees", [
            {"meeting_key": key, "person_id": p, "response": "accepted", "role": None,
             "is_organizer": p == c, "source": "test"} for p in (c, a)])


@pytest.fixture(scope="module")
def org(tmp_path_factory, spark):
    """The store, the charter, and a Spark PolicyDb over the store's tables exported as Parquet
    (what ``worklife check --db DIR --engine spark`` reads)."""
    from worklife.metrics.spark import write_parquet

    store = connect(":memory:")
    load_into_store(generate(people=48, weeks=4, seed=3, start=date(2025, 3, 10)), store)
    _plant(store)
    on_call = store.con.execute("SELECT min(person_id) FROM people WHERE jurisdiction = 'PT'").fetchone()[0]
    root = tmp_path_factory.mktemp("policy")
    (root / "policy.toml").write_text(CHARTER.format(on_call=on_call), encoding="utf-8")
    db = open_db(write_parquet(store.con, root / "tables"), "spark", spark.sparkContext.master)
    yield store, load_policy(root / "policy.toml"), db
    db.close()
    store.close()


def test_check_finds_the_same_on_spark_as_on_duckdb(org):
    store, policy, spark = org
    duck = check_report(store, Config(), policy)
    on_spark = check_report(spark, Config(), policy)
    rules = {f.rule for f in duck.findings}
    # The fixture exercises the contact, reply, charter, rest and hours rules.
    assert {"rtd.contact", "rtd.reply_expected", "charter.quiet_hours", "charter.manager_contact",
            "wt.daily_rest", "wt.max_daily_hours"} <= rules
    assert on_spark.findings == duck.findings
    assert on_spark.meta == {**duck.meta, "engine": "spark"}


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_boundary_tables_are_the_same_on_spark(org):
    store, _, spark = org
    duck = boundary_pressure(store, Config())
    on_spark = boundary_pressure(spark, Config())
    assert list(on_spark) == list(duck)
    assert len(duck["by_sender"]) > 0 and duck["by_sender"]["off_hours_contacts"].sum() > 0
    for key in duck:
        _same(on_spark[key], duck[key])


@pytest.mark.parametrize("window", [None, ("2025-03-24", "2025-03-31")], ids=["all-data", "dst-week"])
def test_sender_view_is_the_same_on_spark(org, window):
    """(Reuses the contact table the boundary test built on the same PolicyDb.)"""
    store, _, spark = org
    span = {} if window is None else {
        "start": datetime.fromisoformat(window[0]).replace(tzinfo=timezone.utc),
        "end": datetime.fromisoformat(window[1]).replace(tzinfo=timezone.utc)}
    sender = store.con.execute("SELECT min(person_id) FROM people WHERE jurisdiction = 'PT'").fetchone()[0]
    duck = sender_view(store, Config(), sender, **span)
    assert duck.off_hours_messages > 0
    assert sender_view(spark, Config(), sender, **span) == duck


def test_a_store_is_staged_as_parquet_for_spark(org, spark):
    """`--db store.duckdb --engine spark`: the store's tables are copied to Parquet for Spark."""
    store, _, _ = org
    db = open_db(store, "spark", spark.sparkContext.master)
    try:
        counts = db.rows("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM meeting_attendees)")
    finally:
        db.close()
    assert counts == store.con.execute(
        "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM meeting_attendees)").fetchall()
