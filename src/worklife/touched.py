"""Which person-days each store write touches, for incremental metrics (docs/metrics.md).

``Store.upsert`` and ``Store.insert`` call ``record`` with the incoming rows before they
are written; it appends (person_id, lo_s, hi_s: UTC epoch seconds; one row per person and
UTC day of the start, see ``_ROW_GROUP``) rows to ``metric_touched`` for
every row that is new or, when the write overwrites, changed — with the *old* days of a
changed row too (a meeting that moved touches its old and its new week). Who is touched:

- a meeting (new or changed): each attendee already stored, on its days;
- an attendee row: new → every attendee of the meeting (the invitee count changed),
  changed response → that attendee; on the meeting's days;
- a message: its sender and its stored recipients, on its sending day;
- a recipient row: that recipient, on the message's sending day;
- an outcome: its person, on its day.

Nothing is recorded until metrics have stored results (table ``metric_state`` exists):
the first ``metrics`` run computes everything anyway. People-file changes (zone, hours,
workdays, holidays) are not recorded here: the metrics compare each person's resolved
schedule with the one their stored results were computed from.
"""

from __future__ import annotations

import duckdb

TOUCHED_DDL = """CREATE TABLE IF NOT EXISTS metric_touched (
    seq BIGINT NOT NULL, person_id VARCHAR NOT NULL, lo_s BIGINT NOT NULL, hi_s BIGINT NOT NULL)"""
SEQ_DDL = "CREATE SEQUENCE IF NOT EXISTS metric_touched_seq"
#: time range meaning "all the time" (a person's rows moved wholesale, e.g. relinked)
ALL_TIME = (-10**12, 10**12)

_KEYS = {
    "meetings": ("meeting_key",), "meeting_attendees": ("meeting_key", "person_id"),
    "messages": ("message_key",), "message_recipients": ("message_key", "person_id", "kind"),
    "outcomes": ("outcome_key",),
}


def _day(col: str) -> str:
    """Epoch seconds of a TIMESTAMP column (SQL)."""
    return f"CAST(floor(epoch({col})) AS BIGINT)"


def active(con: duckdb.DuckDBPyConnection) -> bool:
    """True when metrics results are stored in this database (then writes are recorded)."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'metric_state' "
        "AND schema_name = 'main' AND NOT temporary").fetchall()[0][0])


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SEQ_DDL)
    con.execute(TOUCHED_DDL)


def _changed(batch: str, table: str, cols: list[str], update: bool, which: str) -> str:
    """SQL selecting rows of ``batch`` (which='new') or of ``table`` (which='old') that change."""
    key = _KEYS[table]
    on = " AND ".join(f"t.{k} = b.{k}" for k in key)
    differs = " OR ".join(f"t.{c} IS DISTINCT FROM b.{c}" for c in cols if c not in key) or "FALSE"
    if which == "old":
        return f"SELECT t.* FROM {batch} b JOIN {table} t ON {on} WHERE {differs}"
    cond = f"t.{key[0]} IS NULL" + (f" OR {differs}" if update else "")
    return f"SELECT b.* FROM {batch} b LEFT JOIN {table} t ON {on} WHERE {cond}"


def _touched_sql(table: str, batch: str, rows: str) -> str:
    """(person_id, lo_s, hi_s) touched by ``rows`` (a SELECT over one table's columns)."""
    if table == "meetings":
        return (f"SELECT a.person_id, {_day('m.start_utc')}, {_day('m.end_utc')} FROM ({rows}) m "
                "JOIN meeting_attendees a ON a.meeting_key = m.meeting_key")
    if table == "messages":
        d = _day("m.sent_utc")
        return (f"SELECT m.sender_id, {d}, {d} FROM ({rows}) m WHERE m.sender_id IS NOT NULL "
                f"UNION ALL SELECT r.person_id, {d}, {d} FROM ({rows}) m "
                "JOIN message_recipients r ON r.message_key = m.message_key")
    if table == "message_recipients":
        d = _day("m.sent_utc")
        return (f"SELECT r.person_id, {d}, {d} FROM ({rows}) r "
                "JOIN messages m ON m.message_key = r.message_key")
    if table == "outcomes":
        d = _day("o.at_utc")
        return f"SELECT o.person_id, {d}, {d} FROM ({rows}) o WHERE o.person_id IS NOT NULL"
    raise ValueError(table)


def _attendee_sql(batch: str, new_rows: str, changed_rows: str | None) -> str:
    """Attendee rows: a new one touches the whole meeting, a changed response its person."""
    days = f"{_day('m.start_utc')}, {_day('m.end_utc')}"
    sql = (f"SELECT p.person_id, {days} FROM (SELECT DISTINCT meeting_key FROM ({new_rows})) n "
           "JOIN meetings m ON m.meeting_key = n.meeting_key "
           "JOIN (SELECT meeting_key, person_id FROM meeting_attendees "
           f"      UNION SELECT meeting_key, person_id FROM {batch}) p ON p.meeting_key = n.meeting_key")
    if changed_rows is not None:
        sql += (f" UNION ALL SELECT c.person_id, {days} FROM ({changed_rows}) c "
                "JOIN meetings m ON m.meeting_key = c.meeting_key")
    return sql


def record(con: duckdb.DuckDBPyConnection, table: str, batch: str, update: bool,
           assume_new: bool = False) -> None:
    """Record the person-days that writing ``batch`` (a table or view name) into ``table`` touches.

    Call before the write. ``update``: the write overwrites existing rows (then their old
    values are touched too). ``assume_new``: every row is new (bulk inserts).
    """
    if table not in _KEYS or not active(con):
        return
    cols = [r[0] for r in con.execute(f"DESCRIBE {batch}").fetchall()]
    if assume_new:
        new_rows, old_rows = f"SELECT * FROM {batch}", None
    else:
        new_rows = _changed(batch, table, cols, update, "new")
        old_rows = _changed(batch, table, cols, update, "old") if update else None
    if table == "meeting_attendees":
        changed = None
        if old_rows is not None:
            changed = _changed(batch, table, cols, False, "old")  # present rows that differ
        # new keys touch the whole meeting; for present-and-changed rows only the person
        key_new = f"SELECT b.* FROM {batch} b ANTI JOIN meeting_attendees t " \
                  "ON t.meeting_key = b.meeting_key AND t.person_id = b.person_id"
        sql = _attendee_sql(batch, new_rows if assume_new else key_new, changed)
    else:
        parts = [_touched_sql(table, batch, new_rows)]
        if old_rows is not None:
            parts.append(_touched_sql(table, batch, old_rows))
        sql = " UNION ALL ".join(f"({p})" for p in parts)
    ensure(con)
    con.execute(f"INSERT INTO metric_touched SELECT nextval('metric_touched_seq'), * FROM "
                f"(SELECT person_id, min(lo_s), max(hi_s) FROM ({sql}) x(person_id, lo_s, hi_s) "
                f"WHERE person_id IS NOT NULL GROUP BY person_id, {_ROW_GROUP})")


#: One ``metric_touched`` row per person and UTC day of the start (the earliest start, the
#: latest end): the local days the metrics derive from it (``incremental.touched_days``) are
#: exactly those of the rows it stands for. Each of those rows' local day range ends at least
#: on the day its UTC start day reaches widened by the chat/e-mail slack and the zone's largest
#: offset, and begins at most a day after that day narrowed the other way: the ranges overlap
#: or adjoin, so their union is the one range from the earliest start to the latest end. A row
#: ending before it starts, a negative slack, or a start before 1970 (``//`` truncates: two UTC
#: days share a row) can only widen it: more recomputed, never less. Per hour, as before, a
#: year of 10,000 people wrote 632,000 rows for a week; per day 50,000, planned from in a
#: third of the time (docs/performance.md, pass 9).
_ROW_GROUP = "lo_s // 86400"


def record_relink(con: duckdb.DuckDBPyConnection, relink: str) -> None:
    """Before addresses are relinked to people (``relink`` has columns old, new): touch
    all the time of each new person, and the meetings an old address attended (their
    invitee counts may change when two addresses become one person)."""
    if not active(con):
        return
    ensure(con)
    lo, hi = ALL_TIME
    con.execute(f"""INSERT INTO metric_touched SELECT nextval('metric_touched_seq'), * FROM (
        SELECT DISTINCT * FROM (
          SELECT new, {lo}, {hi} FROM {relink}
          UNION ALL
          SELECT a2.person_id, {_day('m.start_utc')}, {_day('m.end_utc')} FROM {relink} r
          JOIN meeting_attendees a ON a.person_id = r.old
          JOIN meetings m ON m.meeting_key = a.meeting_key
          JOIN meeting_attendees a2 ON a2.meeting_key = a.meeting_key) x)""")
