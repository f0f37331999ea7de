"""Activity by local hour × weekday, computed in DuckDB (no per-row Python).

Each internal person's activity is placed on their **own** local wall clock by joining
``tz_offsets`` (UTC instant ``t`` is local ``t + utc_offset_s`` of the row whose
``[valid_from_utc, valid_to_utc)`` contains ``t``), so a DST change inside a week
moves the person's activity by the right hour from that instant on.

Two measures per (weekday, hour) cell, weekday 0 = Monday, hour 0..23 local:

- ``messages_sent``: non-automatic e-mail and chat messages sent (count);
- ``meeting_hours``: each person's qualifying meeting time (``worklife.rules.meetings``,
  docs/metrics.md: not
  cancelled, not free/transparent, not all-day, 0 < duration <= ``meeting_max_hours``,
  at least ``meeting_min_people`` attendees, person did not decline), as the union of
  their meetings (overlaps counted once), split at offset changes and at local clock
  hours; hours.

People whose zone is missing or unknown use ``defaults.tz``.
"""

from __future__ import annotations

import logging

import pandas as pd

from worklife.config import Config
from worklife.rules.meetings import meeting_rule
from worklife.store import Store

log = logging.getLogger(__name__)

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

_SQL = """
WITH zones AS (SELECT DISTINCT tz FROM tz_offsets),
person AS (
    SELECT p.person_id,
           CASE WHEN p.tz IN (SELECT tz FROM zones) THEN p.tz ELSE $default_tz END AS tz
    FROM people p
    WHERE coalesce(p.is_internal, TRUE) AND ($only IS NULL OR p.person_id = $only)
),
-- Each person's offset periods. Materialised so the engine joins events on person_id
-- first; left to itself DuckDB range-joins every event with every zone's periods.
person_offsets AS MATERIALIZED (
    SELECT p.person_id, o.valid_from_utc, o.valid_to_utc, o.utc_offset_s
    FROM person p JOIN tz_offsets o ON o.tz = p.tz
),
sent AS (
    SELECT m.sent_utc + to_seconds(o.utc_offset_s) AS local_t
    FROM messages m
    JOIN person_offsets o ON o.person_id = m.sender_id
         AND m.sent_utc >= o.valid_from_utc AND m.sent_utc < o.valid_to_utc
    WHERE NOT coalesce(m.is_auto, FALSE)
),
sent_cells AS (
    SELECT isodow(local_t) - 1 AS weekday, hour(local_t) AS hour, count(*) AS messages_sent
    FROM sent GROUP BY ALL
),
att AS (
    SELECT DISTINCT q.person_id, q.start_utc AS s, q.end_utc AS e
    FROM ($qualifying) q
    JOIN person p ON p.person_id = q.person_id
),
marked AS (
    SELECT *, CASE WHEN s <= max(e) OVER (PARTITION BY person_id ORDER BY s, e
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   THEN 0 ELSE 1 END AS starts_island
    FROM att
),
islands AS (
    SELECT *, sum(starts_island) OVER (PARTITION BY person_id ORDER BY s, e
                                       ROWS UNBOUNDED PRECEDING) AS island
    FROM marked
),
merged AS (
    SELECT person_id, min(s) AS s, max(e) AS e FROM islands GROUP BY person_id, island
),
pieces AS (
    SELECT greatest(m.s, o.valid_from_utc) + to_seconds(o.utc_offset_s) AS ls,
           least(m.e, o.valid_to_utc) + to_seconds(o.utc_offset_s) AS le
    FROM merged m
    JOIN person_offsets o ON o.person_id = m.person_id AND o.valid_from_utc < m.e AND o.valid_to_utc > m.s
),
slots AS (
    SELECT ls, le,
           unnest(generate_series(date_trunc('hour', ls), le - INTERVAL 1 MICROSECOND,
                                  INTERVAL 1 HOUR)) AS h
    FROM pieces WHERE le > ls
),
meeting_cells AS (
    SELECT isodow(h) - 1 AS weekday, hour(h) AS hour,
           sum(epoch(least(le, h + INTERVAL 1 HOUR)) - epoch(greatest(ls, h))) / 3600.0 AS meeting_hours
    FROM slots GROUP BY ALL
),
grid AS (
    SELECT d.weekday, h.hour
    FROM range(7) AS d(weekday) CROSS JOIN range(24) AS h(hour)
)
SELECT g.weekday::INTEGER AS weekday, g.hour::INTEGER AS hour,
       coalesce(s.messages_sent, 0)::BIGINT AS messages_sent,
       coalesce(m.meeting_hours, 0.0)::DOUBLE AS meeting_hours
FROM grid g
LEFT JOIN sent_cells s ON s.weekday = g.weekday AND s.hour = g.hour
LEFT JOIN meeting_cells m ON m.weekday = g.weekday AND m.hour = g.hour
ORDER BY weekday, hour
"""


def activity_heatmap(store: Store, config: Config, person_id: str | None = None) -> pd.DataFrame:
    """168 rows (weekday 0=Mon..6, hour 0..23 local): ``messages_sent``, ``meeting_hours``.

    Computed in one DuckDB query over the whole store (or one ``person_id``: the
    personal report); every cell is present (zeros where nothing happened). Requires
    ``tz_offsets`` to cover the people's zones (``worklife.timezones.refresh_tz_offsets``,
    run by ingest).
    """
    params = {
        "only": person_id,
        "default_tz": str(config["defaults.tz"]),
    }
    sql = _SQL.replace("$qualifying", meeting_rule(config).qualifying_attendance_sql())
    df = store.frame(sql, params)
    log.debug("heat-map: %d messages, %.1f meeting hours", df.messages_sent.sum(), df.meeting_hours.sum())
    return df


def heatmap_matrix(cells: pd.DataFrame, measure: str) -> list[list[float]]:
    """The 7 × 24 matrix (rows Monday..Sunday, columns hour 0..23) of one measure."""
    wide = cells.pivot(index="weekday", columns="hour", values=measure)
    wide = wide.reindex(index=range(7), columns=range(24), fill_value=0)
    return wide.fillna(0).astype(float).values.tolist()
