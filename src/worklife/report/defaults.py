"""Loud defaults: how many measured people fall back to the configured zone, hours or jurisdiction.

Without a people file every person gets ``defaults.tz``, ``defaults.work_start`` –
``defaults.work_end`` on ``defaults.workdays`` and ``defaults.jurisdiction``; their
after-hours figures are then only as right as those defaults. ``metrics``, ``report``
and ``explain`` say so with ``default_notes``. A zone counts as a default when
``people.tz_source = 'default'`` (stores written after issue 14) or, in older stores,
when ``people.tz`` is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worklife.config import Config
from worklife.store import Store, as_store

HOW_TO_SET = ("set them per person in a people file (`worklife ingest people.csv --db ...`; columns "
              "person_id, tz, work_start, work_end, workdays, jurisdiction; docs/ingest.md) or for "
              "everyone in worklife.toml [defaults] (docs/report.md)")


@dataclass(frozen=True)
class DefaultCounts:
    """Measured internal people in the store and how many use each configured default."""

    people: int
    tz: int
    hours: int
    jurisdiction: int


def default_counts(store: Store | Any, person_ids: list[str] | None = None) -> DefaultCounts:
    """Count internal people (or only ``person_ids``) whose zone, hours or jurisdiction is a default."""
    store = as_store(store)
    cols = store.columns("people")
    if not cols:
        return DefaultCounts(0, 0, 0, 0)
    blank = "nullif(trim({c}), '') IS NULL"
    tz_default = ("coalesce(tz_source = 'default', " + blank.format(c="tz") + ")"
                  if "tz_source" in cols else blank.format(c="tz"))
    hours = " OR ".join(blank.format(c=c) for c in ("work_start", "work_end", "workdays"))
    where = "coalesce(is_internal, TRUE)"
    if "is_measured" in cols:  # contacts (receive-only addresses) get no person-weeks: not counted
        where += " AND coalesce(is_measured, TRUE)"
    params: list[Any] = []
    if person_ids is not None:
        where += " AND list_contains(?, person_id)"
        params.append(list(person_ids))
    row = store.row(
        f"""SELECT count(*), count(*) FILTER (WHERE {tz_default}), count(*) FILTER (WHERE {hours}),
                   count(*) FILTER (WHERE {blank.format(c='jurisdiction')})
            FROM people WHERE {where}""", params)
    return DefaultCounts(*(int(v) for v in row))


def default_notes(counts: DefaultCounts, config: Config) -> list[str]:
    """One sentence naming each default in use (with its value), then how to set them; [] if none."""
    if counts.people == 0:
        return []
    n = counts.people
    parts = []
    if counts.tz:
        parts.append(f"{counts.tz:,} of {n:,} people use the default time zone ({config['defaults.tz']})")
    if counts.hours:
        parts.append(f"{counts.hours:,} of {n:,} use the default working hours ({config['defaults.work_start']}–"
                     f"{config['defaults.work_end']}, {config['defaults.workdays']})")
    if counts.jurisdiction:
        jur = str(config["defaults.jurisdiction"] or "")
        what = f"the default jurisdiction ({jur})" if jur else "no jurisdiction (no public holidays, not checked by `worklife check`)"
        parts.append(f"{counts.jurisdiction:,} of {n:,} have {what}")
    if not parts:
        return []
    return ["; ".join(parts) + ": after-hours figures depend on these — " + HOW_TO_SET + "."]
