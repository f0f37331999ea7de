"""Who is measured, and each person's zone from the best evidence (run after every ingest).

    people_infer.finish(store, config)       # zones from mail offsets, defaults, is_measured
    people_infer.describe(store, config)     # the loud-defaults lines the CLI prints

Who is measured (``people.is_measured``, the reason in ``people.measured_why``):

- with a people file in the store: its (internal) rows, ``measured_why = 'people-file'``;
- without one: the owners of the mailboxes and calendars (``'owner'``), and the
  addresses with activity of their own: mail or chat they sent that is not automatic
  (``'sent'``), meetings they organise (``'organised'``) — internal addresses only,
  unless nothing in the store is internal (a mailing-list archive);
- everyone else is a contact (``'contact'``): still a recipient, with no person-weeks.
- ``ingest.measure = "internal"`` also measures every internal address, ``"all"`` every
  address (``'setting'``).

Zones (``people.tz`` and ``people.tz_source``), strongest first: ``people-file``,
``slack`` (users.json), ``calendar`` (X-WR-TIMEZONE of a calendar one owns, the TZIDs
of events one organises), ``mail-offsets`` (an IANA zone that agrees with the UTC
offsets of the mail one sent, across DST changes), else ``default`` (``tz`` stays
empty; ``defaults.tz`` applies). A mail source where every sender shows the same
offsets has had its dates normalised by its exporter: its offsets are not evidence.
Working hours are never inferred from activity: they come from the people file or
the defaults.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import pyarrow as pa

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.store import Store
from worklife.timezones import resolve_zone

log = logging.getLogger(__name__)

TZ_SOURCES = ("people-file", "slack", "calendar", "mail-offsets", "default")  # strongest first
MEASURE_MODES = ("active", "internal", "all")
MIN_OFFSET_MESSAGES = 3  # sent mails with a written offset needed to infer a zone
MIN_FIT = 0.9  # share of a sender's offsets the zone must explain
NORMALISED_MIN_SENDERS = 3  # a source with this many senders, all on one zone's offsets, is normalised
NORMALISED_FIT = 0.98

# Zones preferred when several explain the same offsets (most populous first per offset).
PREFERRED_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Halifax", "America/St_Johns", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "America/Mexico_City", "America/Bogota", "Europe/London",
    "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Athens", "Europe/Helsinki",
    "Europe/Istanbul", "Europe/Moscow", "Africa/Johannesburg", "Africa/Lagos", "Africa/Cairo",
    "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok",
    "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul", "Australia/Perth", "Australia/Adelaide",
    "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland",
)


def _rank(tz_source: str | None) -> int:
    """Strength of a zone source: 0 strongest; unknown or empty weakest."""
    return TZ_SOURCES.index(tz_source) if tz_source in TZ_SOURCES else len(TZ_SOURCES)


# -- zones -------------------------------------------------------------------------------


def set_zones(store: Store, zones: list[tuple[str, str, str]]) -> None:
    """Give each (person_id, tz, tz_source) its zone unless a stronger source already gave one.

    A zone already stored without a source (an older store) is left as it is, except by a
    people file. One statement in the engine, whatever the number of people.
    """
    if not zones:
        return
    data = pa.table({"pid": [z[0] for z in zones], "tz": [z[1] for z in zones], "src": [z[2] for z in zones]})
    order = "[" + ", ".join(f"'{x}'" for x in TZ_SOURCES) + "]"
    with store.registered("_zones", data):
        store.run(f"""
            UPDATE people SET tz = z.tz, tz_source = z.src
            FROM (SELECT DISTINCT ON (pid) * FROM _zones) z
            WHERE people.person_id = z.pid AND (
              people.tz IS NULL OR z.src = 'people-file'
              OR (people.tz_source IS NOT NULL
                  AND coalesce(list_position({order}, people.tz_source), 99) >= list_position({order}, z.src)))""")


def upgrade_zones(store: Store, data: pa.Table) -> None:
    """Rows of a non-authoritative people batch with ``tz_source`` (Slack) overwrite weaker zones."""
    if "tz_source" not in data.column_names or "tz" not in data.column_names:
        return
    cols = (data.column(c).to_pylist() for c in ("person_id", "tz", "tz_source"))
    set_zones(store, [(p, tz, src) for p, tz, src in zip(*cols) if p and tz and src])


@lru_cache(maxsize=1)
def candidate_zones() -> tuple[str, ...]:
    """Preferred zones first, then every other canonical Area/City zone, sorted."""
    rest = sorted(z for z in available_timezones()
                  if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))
    return PREFERRED_ZONES + tuple(z for z in rest if z not in PREFERRED_ZONES)


def fit_zone(pairs: Counter[tuple[datetime, int]], min_fit: float = MIN_FIT) -> tuple[str, float] | None:
    """The first candidate zone whose offset at each instant equals the one observed, on at
    least ``min_fit`` of the weight; (zone, share explained) or None.

    ``pairs`` maps (UTC instant, naive, rounded to the hour) -> count, by offset seconds.
    """
    total = sum(pairs.values())
    if not total:
        return None
    items = sorted(pairs.items(), key=lambda kv: -kv[1])[:400]
    total = sum(n for _, n in items)
    budget = (1 - min_fit) * total
    for name in candidate_zones():
        zone = ZoneInfo(name)
        missed = 0
        for (t, off), n in items:
            if int(zone.utcoffset(t).total_seconds()) != off:  # type: ignore[union-attr]
                missed += n
                if missed > budget:
                    break
        else:
            return name, 1 - missed / total
    return None


_OFFSET_MAIL = ("channel = 'email' AND sender_id IS NOT NULL AND NOT is_auto AND sent_offset_s IS NOT NULL")


def normalised_sources(store: Store, sources: list[str] | None = None) -> dict[str, str]:
    """Mail sources whose senders (at least three) all show one zone's offsets: source -> zone.

    ``sources`` limits the check to those (the sources of a run); None checks all.
    """
    rows = store.rows(
        f"SELECT source FROM messages WHERE {_OFFSET_MAIL} GROUP BY source "
        f"HAVING count(DISTINCT sender_id) >= ?", [NORMALISED_MIN_SENDERS])
    out = {}
    for (source,) in rows:
        if sources is not None and source not in sources:
            continue
        pairs = Counter({(h, int(off)): n for h, off, n in store.rows(
            f"SELECT date_trunc('hour', sent_utc), sent_offset_s, count(*) FROM messages "
            f"WHERE {_OFFSET_MAIL} AND source = ? GROUP BY ALL", [source])})
        fit = fit_zone(pairs, NORMALISED_FIT)
        if fit is not None:
            out[source] = fit[0]
    return out


def zones_from_mail(store: Store, run_sources: list[str] | None = None) -> list[str]:
    """Set ``mail-offsets`` zones where nothing stronger is known; return notes about the
    sources of this run (``run_sources``; None: every source) whose dates look normalised."""
    skip = normalised_sources(store)
    notes = [f"{src}: every sender's Date offsets match {zone}: the exporter normalised the dates, "
             f"so they say nothing about where people are; set zones in a people file"
             for src, zone in sorted(skip.items()) if run_sources is None or src in run_sources]
    with store.registered("_skip", pa.table({"source": pa.array(list(skip), pa.string())})):
        rows = store.rows(
            f"""SELECT sender_id, date_trunc('hour', sent_utc), sent_offset_s, count(*) FROM messages
                WHERE {_OFFSET_MAIL} AND source NOT IN (SELECT source FROM _skip)
                  AND sender_id IN (SELECT person_id FROM people
                                    WHERE tz IS NULL OR tz_source IN ('mail-offsets', 'default'))
                GROUP BY ALL ORDER BY 1""")
    per_sender: dict[str, Counter] = {}
    for sender, hour, off, n in rows:
        per_sender.setdefault(sender, Counter())[(hour, int(off))] += n
    found = []
    for sender, pairs in per_sender.items():
        if sum(pairs.values()) < MIN_OFFSET_MESSAGES or {off for _, off in pairs} == {0}:
            continue  # too little, or +0000 throughout: a UTC clock, not a place
        fit = fit_zone(pairs)
        if fit is not None:
            found.append((sender, fit[0], "mail-offsets"))
    set_zones(store, found)
    if found:
        log.info("zones of %d people inferred from the offsets of the mail they sent", len(found))
    return notes


def apply_calendar_zones(store: Store, owner_zones: dict[str, str], organiser_zones: dict[str, str]) -> None:
    """Calendar evidence: an owner's X-WR-TIMEZONE, else the zone an organiser's events use most."""
    found = []
    for pid, tz in {**organiser_zones, **owner_zones}.items():
        zone = resolve_zone(tz)
        if zone and zone not in ("UTC", "Etc/UTC", "Etc/GMT"):
            found.append((pid, zone, "calendar"))
    set_zones(store, found)


# -- who is measured ---------------------------------------------------------------------


def classify(store: Store, config: Config) -> None:
    """Set ``is_measured`` and ``measured_why`` of every people row (see the module docstring)."""
    mode = str(config.get("ingest.measure", "active") or "active")
    if mode not in MEASURE_MODES:
        raise ConfigError(f"ingest.measure must be one of {', '.join(MEASURE_MODES)}, not {mode!r}")
    has_file = store.scalar("SELECT count(*) FROM people WHERE measured_why = 'people-file'") > 0
    any_internal = store.scalar("SELECT count(*) FROM people WHERE is_internal") > 0
    widen = {"active": "FALSE", "internal": "coalesce(p.is_internal, TRUE)", "all": "TRUE"}[mode]
    internal_ok = "coalesce(p.is_internal, TRUE)" if any_internal else "TRUE"
    sticky = "WHEN p.measured_why IN ('people-file', 'owner') THEN p.measured_why"
    if has_file:
        measured = f"CASE WHEN p.measured_why = 'people-file' THEN coalesce(p.is_internal, TRUE) ELSE {widen} END"
        why = f"CASE {sticky} WHEN {widen} THEN 'setting' ELSE 'contact' END"
    else:
        measured = f"p.measured_why = 'owner' OR (a.active IS NOT NULL AND {internal_ok}) OR {widen}"
        why = (f"CASE {sticky} WHEN a.active IS NOT NULL AND {internal_ok} THEN a.active "
               f"WHEN {widen} THEN 'setting' ELSE 'contact' END")
    store.run(f"""UPDATE people SET is_measured = x.m, measured_why = x.w FROM (
          WITH act AS (SELECT sender_id AS pid, 'sent' AS active FROM messages
                       WHERE NOT is_auto AND sender_id IS NOT NULL
                       UNION ALL SELECT organizer_id, 'organised' FROM meetings WHERE organizer_id IS NOT NULL),
               a AS (SELECT pid, max(active) AS active FROM act GROUP BY pid)
          SELECT p.person_id, coalesce(({measured}), FALSE) AS m, ({why}) AS w
          FROM people p LEFT JOIN a ON a.pid = p.person_id) x
        WHERE people.person_id = x.person_id""")


def changed_rows(store: Store, table: str, data: pa.Table) -> int:
    """How many rows of ``data`` exist in ``table`` (same key) with some other value."""
    from worklife.store import TABLES

    key = TABLES[table][1]
    derived = ("source", "tz_source", "measured_why", "is_measured")  # where from, what ingest decided
    cols = [c for c in data.column_names if c not in key and c not in derived]
    if not cols or data.num_rows == 0:
        return 0
    with store.registered("_changed", data):
        on = " AND ".join(f"t.{k} = d.{k}" for k in key)
        # an empty zone in the file does not undo a zone found from evidence (kept_zones)
        diff = " OR ".join(
            f"((d.tz IS NOT NULL OR t.tz_source = 'people-file') AND t.tz IS DISTINCT FROM d.tz)"
            if c == "tz" and table == "people" else f"t.{c} IS DISTINCT FROM d.{c}" for c in cols)
        return store.scalar(
            f"SELECT count(*) FROM (SELECT DISTINCT ON ({', '.join(key)}) * FROM _changed) d "
            f"JOIN {table} t ON {on} WHERE {diff}")


def kept_zones(store: Store, data: pa.Table) -> list[tuple[str, str, str]]:
    """Zones found from evidence for people-file rows that give no zone (restored after the upsert)."""
    if "tz" not in data.column_names:
        return []
    empty = [p for p, tz in zip(data.column("person_id").to_pylist(), data.column("tz").to_pylist()) if not tz]
    if not empty:
        return []
    with store.registered("_empty", pa.table({"pid": pa.array(empty, pa.string())})):
        return [tuple(r) for r in store.rows(  # type: ignore[misc]
            "SELECT person_id, tz, tz_source FROM people WHERE person_id IN (SELECT pid FROM _empty) "
            "AND tz IS NOT NULL AND tz_source IN ('slack', 'calendar', 'mail-offsets')")]


def mark_people_file_rows(rows: list[dict]) -> None:
    """Rows of a people file: measured as such; their zone, when given, is the people file's."""
    has_tz = any("tz" in r for r in rows)
    for r in rows:
        r["measured_why"] = "people-file"
        if has_tz:
            r["tz_source"] = "people-file" if r.get("tz") else None


def record_owner(store: Store, person_id: str, email: str | None, source: str, internal: bool = True) -> None:
    """The owner of a mailbox or calendar is a person: a people row, ``measured_why = 'owner'``."""
    store.run(
        """INSERT INTO people (person_id, email, is_internal, source, measured_why, is_measured)
           VALUES (?, ?, ?, ?, 'owner', TRUE)
           ON CONFLICT (person_id) DO UPDATE SET
             measured_why = CASE WHEN people.measured_why = 'people-file' THEN people.measured_why
                                 ELSE 'owner' END,
             is_internal = people.is_internal OR excluded.is_internal""",
        [person_id, email if email and "@" in email else None, internal, source])


def ensure_person(store: Store, person_id: str, email: str | None, source: str, internal: bool) -> None:
    """A people row for an address seen only in a calendar (an organiser), if it has none."""
    store.run(
        "INSERT INTO people (person_id, email, is_internal, source) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [person_id, email if email and "@" in email else None, internal, source])


def finish(store: Store, config: Config, run_sources: list[str] | None = None) -> list[str]:
    """After an ingest run: zones from mail, ``default`` for the rest, who is measured; notes
    about the run's sources (``run_sources``)."""
    notes = zones_from_mail(store, run_sources)
    store.run("UPDATE people SET tz_source = 'default' WHERE tz IS NULL")
    store.run("UPDATE people SET tz_source = 'people-file' WHERE tz IS NOT NULL AND tz_source IS NULL "
                      "AND measured_why = 'people-file'")
    classify(store, config)
    return notes


# -- loud defaults -----------------------------------------------------------------------


def describe(store: Store, config: Config) -> list[str]:
    """Lines for the ingest summary: who is measured, and how many use a default zone, hours
    or jurisdiction, with how to set them."""
    rows = store.row(
        """SELECT count(*), count(*) FILTER (WHERE NOT coalesce(is_measured, TRUE)),
                  count(*) FILTER (WHERE coalesce(is_measured, TRUE) AND tz IS NULL),
                  count(*) FILTER (WHERE coalesce(is_measured, TRUE) AND (work_start IS NULL OR work_end IS NULL
                                    OR workdays IS NULL)),
                  count(*) FILTER (WHERE coalesce(is_measured, TRUE) AND jurisdiction IS NULL)
           FROM people""")
    total, contacts, no_tz, no_hours, no_jur = rows
    measured = total - contacts
    if not total:
        return []
    by_source = dict(store.rows(
        "SELECT coalesce(tz_source, 'unknown'), count(*) FROM people WHERE coalesce(is_measured, TRUE) "
        "GROUP BY 1"))
    zones = ", ".join(f"{k} {by_source[k]:,}" for k in (*TZ_SOURCES, "unknown") if by_source.get(k))
    lines = [f"people: {measured:,} measured, {contacts:,} contacts (not measured: receive-only addresses, "
             f"external authors, people outside the people file)" + (f"; zones from {zones}" if zones else "")]
    if not measured:
        lines.append("nobody is measured: no owner, no internal sender or organiser (git authors and "
                     "external addresses are contacts); pass --owner, a people file (--people), or set "
                     "ingest.measure in worklife.toml")
    how = "set them in a people file (`worklife ingest --people-template`) or in worklife.toml [defaults]"
    if no_tz:
        lines.append(f"defaults: {no_tz:,} of {measured:,} measured people use the default zone "
                     f"{config['defaults.tz']}; {how}")
    if no_hours:
        lines.append(f"defaults: {no_hours:,} of {measured:,} use default working hours "
                     f"{config['defaults.work_start']}-{config['defaults.work_end']} {config['defaults.workdays']} "
                     f"(never inferred from activity); {how}")
    if no_jur:
        jur = config["defaults.jurisdiction"] or "none: no public holidays, no right-to-disconnect rules"
        lines.append(f"defaults: {no_jur:,} of {measured:,} use the default jurisdiction ({jur}); {how}")
    return lines
