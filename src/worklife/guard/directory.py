"""Who the recipients are: address -> RecipientSchedule.

Sources, in the order the CLI accepts them:

- a worklife store (DuckDB): the ``people`` table plus ``person_aliases``;
- a ``people.csv`` with the people columns (``person_id``, ``email``, ``tz``,
  ``work_start``, ``work_end``, ``workdays``, ``jurisdiction``) and optionally
  ``quiet_hours`` (``12:00-13:00;18:00-19:00``);
- a bare IANA zone: anyone is accepted, with the org default hours in that zone.

Missing fields fall back to the org defaults (``worklife.workcal.resolve_person``).
Personal quiet hours also come from the ``guard.quiet_hours`` setting (address or
person_id -> ranges). A directory built from files re-reads them when they change
(``maybe_reload``), so a recipient who moves zone while a message is held is planned
with the new zone at the next claim.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from worklife.config import Config
from worklife.errors import ConfigError, GuardError, StoreError
from worklife.guard.addresses import domain_allowed
from worklife.guard.schedule import RecipientSchedule, parse_quiet_hours
from worklife.timezones import resolve_zone
from worklife.workcal import resolve_person

log = logging.getLogger(__name__)

PEOPLE_FIELDS = ("person_id", "email", "tz", "work_start", "work_end", "workdays", "jurisdiction")


def _norm(address: str) -> str:
    a = address.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    return a.lower()


def schedules_from_rows(rows: Iterable[dict[str, Any]], config: Config,
                        aliases: Iterable[tuple[str, str]] = ()) -> dict[str, RecipientSchedule]:
    """Index people rows by lower-cased e-mail, person_id and alias."""
    quiet_cfg = {_norm(k): v for k, v in (config["guard.quiet_hours"] or {}).items()}
    by_person: dict[str, RecipientSchedule] = {}
    out: dict[str, RecipientSchedule] = {}
    for row in rows:
        row = {k: (v if v is None else str(v).strip()) for k, v in row.items() if k}
        email = _norm(row.get("email") or "")
        pid = _norm(row.get("person_id") or email)
        if not pid:
            continue
        row["person_id"] = pid
        work = resolve_person(row, config)
        quiet_text = ",".join(t for t in (row.get("quiet_hours"), quiet_cfg.get(pid),
                                          quiet_cfg.get(email)) if t)
        sched = RecipientSchedule(address=email or pid, work=work, quiet=parse_quiet_hours(quiet_text))
        by_person[pid] = sched
        out[pid] = sched
        if email:
            out[email] = sched
    for alias, pid in aliases:
        if _norm(pid) in by_person:
            out[_norm(alias)] = by_person[_norm(pid)]
    return out


def read_people_csv(path: str | Path, config: Config) -> dict[str, RecipientSchedule]:
    """Schedules from a people.csv; ConfigError naming file and line for a bad row."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"email", "person_id"} & set(reader.fieldnames):
                raise ConfigError(f"{p}: a people file needs an email or person_id column")
            rows = []
            for line, row in enumerate(reader, start=2):
                if "tz" not in row and "timezone" in row:
                    row["tz"] = row["timezone"]
                if row.get("tz") and resolve_zone(row["tz"]) is None:
                    raise ConfigError(f"{p}:{line}: unknown time zone {row['tz']!r}")
                rows.append(row)
    except FileNotFoundError:
        raise ConfigError(f"{p}: people file not found") from None
    return schedules_from_rows(rows, config)


def read_store(path: str | Path, config: Config) -> dict[str, RecipientSchedule]:
    """Schedules from a worklife store's ``people`` and ``person_aliases`` (opened read-only)."""
    from worklife.store import connect

    with connect(path, read_only=True, create=False) as store:
        cols = ", ".join(PEOPLE_FIELDS)
        rows = [dict(zip(PEOPLE_FIELDS, r)) for r in store.rows(f"SELECT {cols} FROM people")]
        aliases = store.rows("SELECT alias, person_id FROM person_aliases")
    return schedules_from_rows(rows, config, aliases)


class Directory:
    """Looks recipients up; thread-safe; reloadable when built from files."""

    def __init__(self, schedules: dict[str, RecipientSchedule], config: Config,
                 fallback_tz: str | None = None,
                 loader: Callable[[], dict[str, RecipientSchedule]] | None = None,
                 watch: Iterable[Path] = ()):
        self.config = config
        self.fallback_tz = fallback_tz
        self._schedules = schedules
        self._loader = loader
        self._watch = [Path(p) for p in watch]
        self._stamp = self._mtimes()
        self._lock = threading.Lock()
        self.version = 0
        self.relay_domains: list[str] | None = None  # None: any domain for the fallback zone

    def domains(self) -> set[str]:
        """Domains of the listed e-mail addresses."""
        with self._lock:
            keys = list(self._schedules)
        return {k.rpartition("@")[2] for k in keys if "@" in k}

    @classmethod
    def from_sources(cls, config: Config, store: str | Path | None = None,
                     people: str | Path | None = None, fallback_tz: str | None = None) -> Directory:
        """A directory from a store and/or a people.csv (the csv wins), with an optional zone
        for anyone not listed. With none of them, every recipient is unknown."""
        if fallback_tz is not None and resolve_zone(fallback_tz) is None:
            raise ConfigError(f"unknown time zone {fallback_tz!r}")

        def load() -> dict[str, RecipientSchedule]:
            out: dict[str, RecipientSchedule] = {}
            if store is not None:
                out.update(read_store(store, config))
            if people is not None:
                out.update(read_people_csv(people, config))
            return out

        watch = [Path(p) for p in (store, people) if p is not None]
        return cls(load(), config, resolve_zone(fallback_tz) if fallback_tz else None, load, watch)

    def _mtimes(self) -> tuple[float, ...]:
        return tuple(p.stat().st_mtime if p.exists() else -1.0 for p in self._watch)

    def maybe_reload(self) -> bool:
        """Re-read the sources if a file changed; True when the directory changed."""
        if self._loader is None or self._mtimes() == self._stamp:
            return False
        stamp = self._mtimes()
        try:
            fresh = self._loader()
        except (ConfigError, StoreError, OSError) as exc:
            log.warning("directory reload failed, keeping the previous one: %s", exc)
            return False
        with self._lock:
            self._schedules = fresh
            self._stamp = stamp
            self.version += 1
        log.info("directory reloaded: %d addresses", len(fresh))
        return True

    def replace(self, schedules: dict[str, RecipientSchedule]) -> None:
        """Swap in new schedules (used by tests and by callers that manage people themselves)."""
        with self._lock:
            self._schedules = schedules
            self.version += 1

    def listed(self, address: str) -> RecipientSchedule | None:
        """The schedule of a person listed under ``address`` (e-mail, person_id or alias), else None."""
        with self._lock:
            return self._schedules.get(_norm(address))

    def lookup(self, address: str) -> RecipientSchedule:
        """The schedule of ``address``; GuardError 404 for an unknown recipient, 403 for an
        unlisted one outside ``relay_domains`` (with a fallback zone)."""
        key = _norm(address)
        found = self.listed(key)
        if found is not None:
            return found
        if self.fallback_tz is not None:
            domain = key.rpartition("@")[2]
            if self.relay_domains is not None and not domain_allowed(domain, self.relay_domains):
                raise GuardError(f"relaying to {domain!r} is not allowed (guard.relay_domains)", 403)
            work = resolve_person({"person_id": key, "tz": self.fallback_tz}, self.config)
            return RecipientSchedule(address=key, work=work,
                                     quiet=parse_quiet_hours((self.config["guard.quiet_hours"] or {}).get(key)))
        raise GuardError(f"unknown recipient {address!r}", 404)

    def __len__(self) -> int:
        return len(self._schedules)


def resolve_recipient(arg: str, config: Config, store: str | Path | None = None,
                      people: str | Path | None = None) -> RecipientSchedule:
    """For ``guard next-window``: a person id / e-mail found in the sources, else a bare IANA zone."""
    if store is not None or people is not None:
        try:
            return Directory.from_sources(config, store=store, people=people).lookup(arg)
        except GuardError:
            pass
    zone = resolve_zone(arg)
    if zone is None:
        where = " in the given --db/--people" if (store or people) else " (pass --db or --people)"
        raise ConfigError(f"{arg!r} is neither a known time zone nor a known person{where}")
    work = resolve_person({"person_id": arg, "tz": zone}, config)
    return RecipientSchedule(address=arg, work=work)
