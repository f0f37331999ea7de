"""All the app's data access, in one place: computed once, cached per store file state.

Every page and API call reads through ``AppData``. Each result (person-week table,
findings, boundary pressure, validation …) is read on first use with the public
library API (``worklife.metrics.person_weeks``, ``worklife.policy.check`` …) and kept
until the store file changes (its size or mtime, WAL included). Person-weeks come from
the stored metric results (``worklife metrics`` or the nightly ``--refresh-only`` keeps
them fresh; stale ones are computed in memory, never written by the app, which opens
the store read-only). Results that depend on one person or team are small and cached
with a bound.

Nothing here checks roles: ``worklife.app.access`` decides who may ask for what;
this module only answers.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from worklife.config import Config
from worklife.errors import StoreError
from worklife.privacy.suppression import min_group_size
from worklife.store import Store, connect

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_TEAM = "(no team)"
#: Metrics the app charts: column -> label (hours per person-week).
TREND = {
    "collaboration_hours": "Collaboration", "meeting_hours": "Meetings", "focus_hours": "Focus",
    "after_hours_collaboration_hours": "After hours",
}
_SMALL_CACHE = 256  # per-person / per-team entries kept


def _file_state(path: Path) -> tuple[float, int, float, int]:
    """(mtime, size) of the store and its WAL: changes whenever the store does."""
    def one(p: Path) -> tuple[float, int]:
        try:
            st = p.stat()
            return st.st_mtime, st.st_size
        except FileNotFoundError:
            return 0.0, 0
    return (*one(path), *one(path.with_name(path.name + ".wal")))


class AppData:
    """Cached answers about one store, for the app (thread-safe)."""

    def __init__(self, store_path: str | Path, config: Config):
        self.path = Path(store_path)
        self.config = config
        self.min_group = min_group_size(config)
        self._lock = threading.RLock()
        self._state: tuple | None = None
        self._cache: dict[str, Any] = {}
        self._small: OrderedDict[tuple, Any] = OrderedDict()
        self._computing: dict[Any, threading.Lock] = {}
        self._previous: dict[Any, Any] = {}  # last results before the store changed

    # -- caching --------------------------------------------------------------------------
    def _check_fresh(self) -> None:
        state = _file_state(self.path)
        if state != self._state:
            if self._state is not None:
                log.info("store %s changed; recomputing on demand", self.path)
            self._previous = {**self._previous, **self._cache, **self._small}
            self._cache.clear()
            self._small.clear()
            self._computing.clear()
            self._state = state

    def _key_lock(self, key: Any) -> threading.Lock:
        with self._lock:
            return self._computing.setdefault(key, threading.Lock())

    def cached(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per store state; other results are served meanwhile."""
        with self._lock:
            self._check_fresh()
            if name in self._cache:
                return self._cache[name]
        with self._key_lock(name):  # one computation per name at a time
            with self._lock:
                self._check_fresh()
                if name in self._cache:
                    return self._cache[name]
                state = self._state
            value, fresh = self._compute(name, compute)
            with self._lock:
                if fresh and self._state == state:  # not if the store changed meanwhile
                    self._cache[name] = value
                    self._previous.pop(name, None)
            return value

    def cached_small(self, key: tuple, compute: Callable[[], T]) -> T:
        """Like ``cached`` for per-person / per-team results, keeping the last 256."""
        with self._lock:
            self._check_fresh()
            if key in self._small:
                self._small.move_to_end(key)
                return self._small[key]
        with self._key_lock(key):
            with self._lock:
                if key in self._small:
                    return self._small[key]
                state = self._state
            value, fresh = self._compute(key, compute)
            with self._lock:
                if fresh and self._state == state:
                    self._small[key] = value
                    self._previous.pop(key, None)
                while len(self._small) > _SMALL_CACHE:
                    self._small.popitem(last=False)
            return value

    def _compute(self, key: Any, compute: Callable[[], T]) -> tuple[T, bool]:
        """(value, fresh): while the store cannot be opened (an ingest is writing it), the
        result from before the change, if there is one; else the StoreError."""
        try:
            return compute(), True
        except StoreError:
            with self._lock:
                if key not in self._previous:
                    raise
                log.warning("store %s unavailable; serving the previous %s", self.path, key)
                return self._previous[key], False

    def store(self) -> Store:
        """A read-only connection to the store (close it after use); no progress bars in the server log."""
        store = connect(self.path, read_only=True, create=False)
        store.run("SET enable_progress_bar = false")
        return store

    def warm(self) -> None:
        """Compute the shared results now (the server calls this at start-up)."""
        self.person_weeks()
        self.people()

    # -- people ---------------------------------------------------------------------------
    def people(self) -> pd.DataFrame:
        """Internal people: person_id, email, display_name, team, manager_id, tz, hours, workdays."""
        def load() -> pd.DataFrame:
            with self.store() as s:
                df = s.frame(
                    """SELECT person_id, email, display_name, coalesce(nullif(trim(team), ''), ?) AS team,
                              manager_id, tz, work_start, work_end, workdays, jurisdiction
                       FROM people WHERE coalesce(is_internal, TRUE) ORDER BY person_id""", [NO_TEAM])
            return df
        return self.cached("people", load)

    def aliases(self) -> pd.DataFrame:
        def load() -> pd.DataFrame:
            with self.store() as s:
                return s.frame("SELECT lower(alias) AS alias, person_id FROM person_aliases")
        return self.cached("aliases", load)

    def resolve_person(self, address: str) -> str | None:
        """person_id of an internal person by e-mail, person_id or alias; None if unknown."""
        a = address.strip().lower()
        p = self.people()
        hit = p[(p.person_id.str.lower() == a) | (p.email.fillna("").str.lower() == a)]
        if len(hit):
            return str(hit.person_id.iloc[0])
        al = self.aliases()
        hit = al[al.alias == a]
        ids = set(p.person_id)
        return str(hit.person_id.iloc[0]) if len(hit) and hit.person_id.iloc[0] in ids else None

    def addresses(self, person_id: str) -> set[str]:
        """Every address of a person: person_id, e-mail and aliases (lower-cased)."""
        p = self.people()
        row = p[p.person_id == person_id]
        out = {person_id.lower()}
        if len(row) and isinstance(row.email.iloc[0], str):
            out.add(row.email.iloc[0].lower())
        al = self.aliases()
        out.update(al[al.person_id == person_id].alias)
        return out

    def person(self, person_id: str) -> dict[str, Any] | None:
        p = self.people()
        row = p[p.person_id == person_id]
        return None if row.empty else row.iloc[0].to_dict()

    def team_sizes(self) -> dict[str, int]:
        return self.cached("team_sizes", lambda: self.people().groupby("team").size().astype(int).to_dict())

    def grid(self) -> Any:
        """Which team and org figures may be shown, per week and over all weeks.

        The same small-group and complementary suppression as the report and the
        roll-ups (``worklife.privacy.suppression.protect_grid``): a team hidden only to
        protect a smaller one cannot be recomputed by subtraction from the org figures.
        """
        from worklife.privacy.suppression import protect_grid

        def load() -> Any:
            return protect_grid(self.person_weeks(), "team", "week", self.min_group)
        return self.cached("grid", load)

    def team_shown(self, team: str, week: str | None = None) -> bool:
        """True if ``team``'s aggregates (``week``: that week's) may be published."""
        from worklife.privacy.suppression import ALL, too_small

        if too_small(self.team_sizes().get(team, 0), self.min_group):
            return False
        return self.grid().shows(team, ALL if week is None else week)

    def managed_teams(self, person_id: str) -> list[str]:
        """Teams of a manager's direct reports; their own team when they have none ("(no team)" is none)."""
        p = self.people()
        teams = sorted(set(p[p.manager_id == person_id].team) - {NO_TEAM})
        if teams:
            return teams
        own = p[(p.person_id == person_id) & (p.team != NO_TEAM)].team
        return [str(own.iloc[0])] if len(own) else []

    # -- metrics --------------------------------------------------------------------------
    def _compute_person_weeks(self) -> pd.DataFrame:
        from worklife.metrics.results import person_weeks

        with self.store() as s:
            return person_weeks(s, self.config, update=False)

    def person_weeks(self) -> pd.DataFrame:
        """Every person-week (hours), with the person's team."""
        def load() -> pd.DataFrame:
            pw = self._compute_person_weeks()
            teams = self.people().set_index("person_id")["team"]
            pw = pw.copy()
            pw["team"] = pw["person_id"].map(teams).fillna(NO_TEAM)
            return pw
        return self.cached("person_weeks", load)

    def weeks(self) -> list[str]:
        return sorted(set(self.person_weeks()["week"]))

    def person_rows(self, person_id: str) -> pd.DataFrame:
        pw = self.person_weeks()
        return pw[pw.person_id == person_id].sort_values("week").reset_index(drop=True)

    def group_weeks(self, team: str | None) -> pd.DataFrame:
        """Weekly means per person of the trend metrics for a team (None: the org).

        Columns: week, week_start, people, then ``TREND`` columns and
        ``status_meeting_hours``, ``workweek_span``, ``over_40h_pct`` (% of people). Weeks with
        fewer than ``privacy.min_group_size`` people are left out.
        """
        def load() -> pd.DataFrame:
            pw = self.person_weeks()
            if team is not None:
                pw = pw[pw.team == team]
            cols = [*TREND, "status_meeting_hours", "workweek_span"]
            g = pw.groupby("week", as_index=False).agg(
                week_start=("week_start", "min"), people=("person_id", "nunique"),
                over_40h_pct=("over_40h", "mean"), **{c: (c, "mean") for c in cols})
            g["over_40h_pct"] = g["over_40h_pct"].astype(float) * 100
            from worklife.privacy.suppression import ORG, too_small

            grid = self.grid()
            ok = [not too_small(n, self.min_group) and grid.shows(ORG if team is None else team, str(w))
                  for w, n in zip(g.week, g.people)]
            return g[ok].reset_index(drop=True)
        return self.cached_small(("group_weeks", team), load)

    def team_table(self) -> tuple[pd.DataFrame, dict[str, int]]:
        """Per shown team: people, mean trend metrics, after-hours p90; and the suppressed teams."""
        def load() -> tuple[pd.DataFrame, dict[str, int]]:
            sizes = self.team_sizes()
            shown = [t for t in sizes if self.team_shown(t)]
            pw = self.person_weeks()
            pw = pw[pw.team.isin(shown)]
            g = pw.groupby("team", as_index=False).agg(
                people=("person_id", "nunique"), **{c: (c, "mean") for c in TREND},
                after_hours_p90=("after_hours_collaboration_hours", lambda s: s.quantile(0.9)),
                over_40h_pct=("over_40h", "mean"))
            g["over_40h_pct"] = g["over_40h_pct"].astype(float) * 100
            small = {t: n for t, n in sizes.items() if t not in shown}
            return g.sort_values("after_hours_collaboration_hours", ascending=False).reset_index(drop=True), small
        return self.cached("team_table", load)

    def explain(self, person_id: str, week: str, metric: str | None) -> Any:
        from worklife.metrics.explain import explain

        def load() -> Any:
            with self.store() as s:
                return explain(s, person_id, week, metric, self.config)
        return self.cached_small(("explain", person_id, week, metric), load)

    # -- policy, boundaries, validation -----------------------------------------------------
    def findings(self) -> list[Any]:
        from worklife.policy import check

        def load() -> list[Any]:
            with self.store() as s:
                return check(s, self.config, str(self.config["app.policy"]))
        return self.cached("findings", load)

    def boundary(self) -> dict[str, pd.DataFrame]:
        from worklife.policy import boundary_pressure

        def load() -> dict[str, pd.DataFrame]:
            with self.store() as s:
                return boundary_pressure(s, self.config)
        return self.cached("boundary", load)

    def validation(self) -> dict[str, list[dict]]:
        from worklife.metrics.validate import validate

        def load() -> dict[str, list[dict]]:
            with self.store() as s:
                return validate(s, self.config).as_dict()
        return self.cached("validation", load)

    def savings(self, team: str) -> Any:
        from worklife.digest import estimate_savings

        def load() -> Any:
            with self.store() as s:
                found = estimate_savings(s, self.config, team)
            return found[0] if found else None
        return self.cached_small(("savings", team), load)

    def digest(self, team: str, week: str) -> Any:
        """The team's digest of ``week`` without per-person numbers (outcomes only)."""
        from worklife.digest import build_digest

        def load() -> Any:
            with self.store() as s:
                return build_digest(s, self.config, team, week, datetime.now(UTC), numbers="none")
        return self.cached_small(("digest", team, week), load)

    # -- operations -----------------------------------------------------------------------
    def ingest_runs(self, limit: int = 200) -> pd.DataFrame:
        def load() -> pd.DataFrame:
            with self.store() as s:
                return s.frame(
                    """SELECT source, kind, read, inserted, duplicate, quarantined, started_utc, finished_utc
                       FROM ingest_log ORDER BY finished_utc DESC NULLS LAST, source LIMIT ?""", [limit])
        return self.cached("ingest_runs", load)

    def quarantine_counts(self) -> pd.DataFrame:
        def load() -> pd.DataFrame:
            with self.store() as s:
                return s.frame("""SELECT source, reason, count(*) AS records FROM quarantine
                                        GROUP BY ALL ORDER BY records DESC, source, reason""")
        return self.cached("quarantine", load)

    def guard_messages(self, addresses: set[str], limit: int = 200) -> pd.DataFrame | None:
        """Guard deliveries sent by these addresses (any state), or delivered to them, newest first;
        None without a queue. A copy still held, recalled or dead never reached its recipient,
        so the recipient is not shown it (a recall must leave no trace on their side)."""
        path = str(self.config["app.guard_queue"]).strip()
        if not path or not Path(path).exists():
            return None
        uri = f"file:{Path(path).resolve()}?mode=ro"
        marks = ",".join("?" for _ in addresses)
        with sqlite3.connect(uri, uri=True) as con:
            rows = con.execute(
                f"""SELECT id, sender, recipient, state, mode, due_ms, delivered_ms, urgent_reason
                    FROM deliveries WHERE lower(sender) IN ({marks})
                       OR (lower(recipient) IN ({marks}) AND state = 'delivered')
                    ORDER BY id DESC LIMIT ?""", (*addresses, *addresses, limit)).fetchall()
        df = pd.DataFrame(rows, columns=["id", "sender", "recipient", "state", "mode", "due_ms",
                                         "delivered_ms", "urgent_reason"])
        for c in ("due_ms", "delivered_ms"):
            df[c.replace("_ms", "_utc")] = pd.to_datetime(df[c], unit="ms", utc=True).dt.strftime("%Y-%m-%d %H:%M")
        return df.drop(columns=["due_ms", "delivered_ms"])
