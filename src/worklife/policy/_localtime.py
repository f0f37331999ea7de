"""Local-time building blocks in SQL: each person's calendar as temp tables, and a
``localize`` SQL fragment that classifies an instant as working time or not.

Follows docs/metrics.md exactly (the rule is ``worklife.rules.worktime``): the local time of instant ``t`` (UTC) for a person is
``t + utc_offset_s`` of the ``tz_offsets`` row of the person's zone in force at ``t``;
``t`` is working time iff its local date is a workday (weekday in the person's
``workdays`` and not a public holiday of their jurisdiction) and
``work_start <= local time of day < work_end`` (seconds, local wall clock).

``prepare(store, config)`` registers, where the policy SQL runs (``worklife.policy.sql``):
- ``pol_sched``: one row per person (resolved with org defaults): person_id, tz,
  work_start_s, work_end_s, mask ('1111100', Monday first), jurisdiction, team, level,
  manager_id, is_internal, is_measured (False: a contact, checked only as a recipient), defaults_used;
- ``pol_holidays``: (jurisdiction, day) for the data span;
- ``pol_tz``: ``tz_offsets`` plus generated rows for any zone it lacks.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pyarrow as pa

from worklife.config import Config
from worklife.policy.sql import PolicyDb, as_db
from worklife.rules import worktime
from worklife.store import Store
from worklife.timezones import tz_offsets_table
from worklife.workcal import holiday_rows, resolve_person

log = logging.getLogger(__name__)


def prepare(store: Store | PolicyDb, config: Config) -> int:
    """Register pol_sched, pol_holidays and pol_tz where the policy SQL runs; return the people count.

    ``store`` is a Store (its DuckDB connection) or a ``PolicyDb`` (DuckDB or Spark); the
    people and zone lists are read on the driver (``db.store``), the tables go to the engine.
    """
    db = as_db(store)
    has_measured = "is_measured" in db.store.columns("people")
    people = db.store.arrow(
        "SELECT person_id, tz, work_start, work_end, workdays, jurisdiction, team, level, manager_id, is_internal, "
        + ("coalesce(is_measured, TRUE)" if has_measured else "TRUE") + " AS is_measured FROM people"
    )
    rows = people.to_pylist()
    cols: dict[str, list] = {k: [] for k in (
        "person_id", "tz", "work_start_s", "work_end_s", "mask", "jurisdiction", "team", "level",
        "manager_id", "is_internal", "is_measured", "defaults_used")}
    for row in rows:  # one Python step per person (people is small), never per event
        s = resolve_person(row, config)
        cols["person_id"].append(s.person_id)
        cols["tz"].append(s.tz)
        cols["work_start_s"].append(s.work_start_s)
        cols["work_end_s"].append(s.work_end_s)
        cols["mask"].append(worktime.workday_mask(s.workdays))
        cols["jurisdiction"].append((s.jurisdiction or "").strip().upper())
        cols["team"].append(row.get("team"))
        cols["level"].append(row.get("level"))
        cols["manager_id"].append(row.get("manager_id"))
        cols["is_internal"].append(bool(row.get("is_internal", True)))
        cols["is_measured"].append(bool(row.get("is_measured", True)))  # contacts: recipients only
        cols["defaults_used"].append(",".join(s.defaults_used))
    sched = pa.table(cols, schema=pa.schema([
        ("person_id", pa.string()), ("tz", pa.string()), ("work_start_s", pa.int32()),
        ("work_end_s", pa.int32()), ("mask", pa.string()), ("jurisdiction", pa.string()),
        ("team", pa.string()), ("level", pa.string()), ("manager_id", pa.string()),
        ("is_internal", pa.bool_()), ("is_measured", pa.bool_()), ("defaults_used", pa.string())]))
    db.load("pol_sched", sched)
    db.built["pol_sched"] = sched  # the driver's copy (run_check reads the people list from it)

    span = db.store.data_span_utc()
    start = (span[0].date() if span else date(2000, 1, 1)) - timedelta(days=2)
    end = (span[1].date() if span else date(2000, 1, 1)) + timedelta(days=2)
    hol = holiday_rows(set(cols["jurisdiction"]), start, end)
    holidays = pa.table({"jurisdiction": pa.array([h[0] for h in hol], pa.string()),
                         "day": pa.array([h[1] for h in hol], pa.date32())})
    db.load("pol_holidays", holidays, "DISTINCT jurisdiction, day")

    have = {r[0] for r in db.store.rows("SELECT DISTINCT tz FROM tz_offsets")}
    missing = sorted(set(cols["tz"]) - have)
    tz_sql = "SELECT tz, valid_from_utc, valid_to_utc, utc_offset_s FROM tz_offsets"
    if missing:
        log.info("tz_offsets lacks %d zone(s); generating them for this run", len(missing))
        extra = tz_offsets_table(missing, start - timedelta(days=400), end + timedelta(days=400))
        db.load("pol_tz_extra", extra, "tz, valid_from_utc, valid_to_utc, utc_offset_s")
        tz_sql += " UNION ALL SELECT tz, valid_from_utc, valid_to_utc, utc_offset_s FROM pol_tz_extra"
    db.temp("pol_tz", tz_sql, reuse=False)
    return len(rows)


def localize(rel: str, person: str, t: str, prefix: str) -> str:
    """SQL selecting ``rel``'s rows plus ``{prefix}local_ts``, ``{prefix}local_date``,
    ``{prefix}is_work`` (working time per docs/metrics.md) for person column ``person``
    at UTC instant column ``t``. Rows whose person is not in ``people`` are dropped."""
    p = prefix
    holiday = ("EXISTS (SELECT 1 FROM pol_holidays h "
               "WHERE h.jurisdiction = x.__jur AND h.day = CAST(x.__lts AS DATE))")
    return f"""
    SELECT x.* EXCLUDE (__lts, __ws, __we, __mask, __jur),
      x.__lts AS {p}local_ts,
      CAST(x.__lts AS DATE) AS {p}local_date,
      {worktime.working_sql('x.__lts', 'x.__ws', 'x.__we', 'x.__mask', holiday)} AS {p}is_work
    FROM (
      SELECT r.*, r.{t} + to_seconds(o.utc_offset_s) AS __lts, s.work_start_s AS __ws,
             s.work_end_s AS __we, s.mask AS __mask, s.jurisdiction AS __jur
      FROM ({rel}) r
      JOIN pol_sched s ON s.person_id = r.{person}
      ASOF JOIN pol_tz o ON o.tz = s.tz AND r.{t} >= o.valid_from_utc
    ) x"""


def workday_sql(local_date: str, mask: str, jurisdiction: str) -> str:
    """SQL boolean: ``local_date`` (DATE) is a workday for a person with ``mask``/``jurisdiction``."""
    holiday = f"EXISTS (SELECT 1 FROM pol_holidays h WHERE h.jurisdiction = {jurisdiction} AND h.day = {local_date})"
    return worktime.workday_sql(local_date, mask, holiday)
