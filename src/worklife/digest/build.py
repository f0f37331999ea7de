"""Collect the facts of one team's week: what shipped, what moved, what is blocked or stale.

Everything is read from the store's ``outcomes`` (plus ``meetings`` and ``messages``
for the numbers); nothing is written. Weeks are ISO weeks in each person's own zone:
for ``2026-W47`` a person in New York is covered from Monday 00:00 to the next Monday
00:00 New York time. Events after ``now`` are never counted (there is no hidden clock:
``now`` is a parameter).

Outcome people resolve at read time too, so an alias ingested after the outcomes still
counts: ``outcomes.person_id`` is matched to ``people.person_id``, ``people.email``,
``person_aliases.alias``, or for ``github:``/``jira:`` ids the bare login or id as an
alias (a people file's ``aliases`` column) or a unique ``people.display_name``.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from worklife.config import Config
from worklife.digest.numbers import ACTIVITY, COLLABORATION, Numbers, metrics_numbers, quick_numbers
from worklife.digest.work import ProjectWork, collect, counts
from worklife.errors import ConfigError, WorklifeError
from worklife.privacy.suppression import min_group_size as configured_min_group
from worklife.store import Store
from worklife.workcal import WorkSchedule, resolve_person

log = logging.getLogger(__name__)

COMMIT = "commit"
OPEN_STATES = ("open", "blocked")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Fact:
    """One outcome event or open item, with the reference it links to (url, else ref)."""

    kind: str
    ref: str
    title: str | None
    url: str | None
    at_utc: datetime  # aware, UTC; for open items the last activity
    state: str | None
    project: str | None
    idle_days: float | None = None  # open items: days since the last activity, at as_of

    @property
    def link(self) -> str:
        return self.url or self.ref


@dataclass(frozen=True)
class CommitGroup:
    """A person's commits of the week in one project (repository)."""

    project: str
    commits: tuple[Fact, ...]


@dataclass(frozen=True)
class PersonDigest:
    person_id: str
    display_name: str
    email: str | None
    tz: str
    week_start: date  # the local Monday
    start_utc: datetime  # local Monday 00:00, as UTC
    end_utc: datetime  # the next local Monday 00:00, or ``now`` if sooner, as UTC
    shipped: tuple[Fact, ...]
    commits: tuple[CommitGroup, ...]
    moved: tuple[Fact, ...]
    blocked: tuple[Fact, ...]
    stale: tuple[Fact, ...]
    numbers: Numbers | None  # None when built with numbers="none"


@dataclass(frozen=True)
class Digest:
    """A team's week. ``now`` is the instant the digest was built for (aware UTC)."""

    team: str
    week: str
    now: datetime
    stale_days: int
    people: tuple[PersonDigest, ...]
    numbers: Numbers | None  # team totals (hours summed, shares pooled); None without numbers
    work: tuple[ProjectWork, ...] = ()  # the team's work items by project (worklife.digest.work)
    changes: dict[str, int] | None = None  # items per change this week (work.counts)
    previous: dict[str, int] | None = None  # the same for the week before (None if not built)
    min_group_size: int = 10  # team figures are shown only for at least this many people
    person: str | None = None  # a personal digest: only this person's section and own figures

    def count(self, section: str) -> int:
        """Number of facts in a section (shipped, commits, moved, blocked, stale) over the team."""
        if section == "commits":
            return sum(len(g.commits) for p in self.people for g in p.commits)
        return sum(len(getattr(p, section)) for p in self.people)


def parse_week(week: str) -> tuple[int, int]:
    """'2026-W47' -> (2026, 47); ConfigError for anything else."""
    m = _WEEK.match(week.strip())
    if not m:
        raise ConfigError(f"invalid week {week!r}; expected ISO YYYY-Www, e.g. 2026-W47")
    year, wk = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, wk, 1)
    except ValueError:
        raise ConfigError(f"invalid week {week!r}: {year} has no week {wk}") from None
    return year, wk


def local_week_utc(tz: str, year: int, week: int) -> tuple[date, datetime, datetime]:
    """The local Monday of ISO week ``year-Wweek`` in ``tz``, and the week's [start, end) in UTC."""
    monday = date.fromisocalendar(year, week, 1)
    zone = ZoneInfo(tz)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    nxt = monday + timedelta(days=7)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return monday, start.astimezone(UTC), end.astimezone(UTC)


def _naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


RESOLVED_OUTCOMES = """
    SELECT o.*, coalesce(p.person_id, pe.person_id, a.person_id, b.person_id, d.person_id, o.person_id) AS pid
    FROM outcomes o
    LEFT JOIN people p ON p.person_id = o.person_id
    LEFT JOIN (SELECT lower(email) AS email, any_value(person_id) AS person_id FROM people
               WHERE email IS NOT NULL GROUP BY 1) pe ON pe.email = lower(o.person_id)
    LEFT JOIN person_aliases a ON a.alias = lower(o.person_id)
    LEFT JOIN person_aliases b ON o.person_id SIMILAR TO '(github|jira):.*'
          AND b.alias = regexp_replace(lower(o.person_id), '^(github|jira):', '')
    LEFT JOIN (SELECT lower(display_name) AS dn, any_value(person_id) AS person_id FROM people
               WHERE display_name IS NOT NULL GROUP BY 1 HAVING count(*) = 1) d
           ON o.person_id SIMILAR TO '(github|jira):.*'
          AND d.dn = regexp_replace(lower(o.person_id), '^(github|jira):', '')
    WHERE o.kind <> 'pr_commit'
"""


def team_people(store: Store, config: Config, team: str) -> list[tuple[dict, WorkSchedule]]:
    """The internal people of ``team`` with their resolved calendars; WorklifeError if none."""
    rows = store.arrow("SELECT * FROM people WHERE team = ? AND is_internal ORDER BY person_id", [team]).to_pylist()
    if not rows:
        teams = [r[0] for r in store.rows(
            "SELECT DISTINCT team FROM people WHERE team IS NOT NULL ORDER BY 1")]
        raise WorklifeError(
            f"no people in team {team!r}; teams in the store: {', '.join(teams) or 'none (ingest a people file)'}")
    return [(r, resolve_person(r, config)) for r in rows]


NUMBER_SOURCES = ("auto", "metrics", "quick", "none")


def metrics_available() -> bool:
    """Whether the metric engine (``worklife.metrics.compute``) is installed."""
    try:
        from worklife.metrics import compute  # noqa: F401
    except ImportError:
        return False
    return True


def build_digest(store: Store, config: Config, team: str, week: str, now: datetime,
                 numbers: str = "auto", person: str | None = None, compare: bool = True) -> Digest:
    """Build ``team``'s digest for ISO ``week`` (``YYYY-Www``) as known at ``now`` (aware).

    ``numbers``: ``"metrics"`` (the metric engine), ``"quick"`` (the digest's own query,
    see ``worklife.digest.numbers``), ``"none"``, or ``"auto"``: metrics when installed.
    ``person`` (a person id or e-mail of the team) makes it that person's own digest.
    ``compare``: also count the week before, for "since last week".
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if numbers not in NUMBER_SOURCES:
        raise ConfigError(f"numbers must be one of {', '.join(NUMBER_SOURCES)}, not {numbers!r}")
    if numbers == "auto":
        numbers = "metrics" if metrics_available() else "quick"
    now = now.astimezone(UTC)
    year, wk = parse_week(week)
    members = team_people(store, config, team)
    if person is not None:
        person = _member(members, person, team)
    stale_days = int(config["digest.stale_days"])
    shipped_kinds = [str(k) for k in config["digest.shipped_kinds"]]

    windows: dict[str, tuple[date, datetime, datetime]] = {}
    for row, sched in members:
        monday, start, end = local_week_utc(sched.tz, year, wk)
        windows[row["person_id"]] = (monday, start, min(end, now))
    if all(start >= end for _, start, end in windows.values()):
        raise WorklifeError(f"week {week} has not started at {now.isoformat()} for anyone in {team!r}")
    with store.registered("_dw", pa.table({
        "person_id": list(windows),
        "w0": [_naive(w[1]) for w in windows.values()],
        "w1": [_naive(w[2]) for w in windows.values()],
    })):
        events, open_items = _week_rows(store)
    work = collect(events, open_items, store, shipped_kinds, stale_days, min(w[1] for w in windows.values()),
                   max(w[2] for w in windows.values()))
    previous = _previous_counts(store, config, team, year, wk, now, numbers) if compare else None

    if numbers == "metrics":
        figures = metrics_numbers(store, config, list(windows), f"{year}-W{wk:02d}")
    elif numbers == "quick":
        figures = quick_numbers(store, config, [s for _, s in members], {p: (w[1], w[2]) for p, w in windows.items()})
    else:
        figures = {}
    empty = Numbers.empty(COLLABORATION if numbers == "metrics" else ACTIVITY)

    by_person: dict[str, list[tuple]] = defaultdict(list)
    for e in events:
        by_person[e[0]].append(e)
    open_by_person: dict[str, list[tuple]] = defaultdict(list)
    for o in open_items:
        open_by_person[o[0]].append(o)

    people = []
    for row, sched in members:
        pid = row["person_id"]
        monday, start, end = windows[pid]
        shipped, commits, moved = _classify(by_person.get(pid, []), shipped_kinds)
        blocked: list[Fact] = []
        stale: list[Fact] = []
        for _, kind, ref, title, url, last_at, state, project, idle_s in open_by_person.get(pid, []):
            fact = Fact(kind, ref, title, url, _aware(last_at), state, project, round(idle_s / 86400, 1))
            if state == "blocked":
                blocked.append(fact)
            elif idle_s >= stale_days * 86400:
                stale.append(fact)
        listed = {f.ref for f in blocked + stale}
        moved = [f for f in moved if f.ref not in listed]  # shown once, under blocked/stale
        people.append(PersonDigest(
            person_id=pid, display_name=row.get("display_name") or pid, email=row.get("email"),
            tz=sched.tz, week_start=monday, start_utc=start, end_utc=end,
            shipped=tuple(shipped), commits=tuple(commits), moved=tuple(moved),
            blocked=tuple(blocked), stale=tuple(stale), numbers=None if numbers == "none" else figures.get(pid, empty),
        ))
    team_numbers = None if numbers == "none" else Numbers.pool([p.numbers for p in people if p.numbers])
    log.info("digest %s %s: %d people, %d events, %d open items", team, week, len(people), len(events), len(open_items))
    return Digest(team=team, week=f"{year}-W{wk:02d}", now=now, stale_days=stale_days,
                  people=tuple(people), numbers=team_numbers, work=tuple(work), changes=counts(work),
                  previous=previous, min_group_size=configured_min_group(config), person=person)


def personal_digests(d: Digest) -> list[Digest]:
    """Each member's own digest (with an e-mail address), from one team digest: same facts, own figures."""
    return [replace(d, person=p.person_id) for p in d.people if p.email]


def _member(members: list[tuple[dict, WorkSchedule]], person: str, team: str) -> str:
    """The person_id of ``person`` (id or e-mail) in ``team``; WorklifeError otherwise."""
    want = person.strip().lower()
    for row, _ in members:
        if want in (str(row["person_id"]).lower(), str(row.get("email") or "").lower()):
            return str(row["person_id"])
    raise WorklifeError(f"{person!r} is not in team {team!r}")


def _previous_counts(store: Store, config: Config, team: str, year: int, wk: int, now: datetime,
                     numbers: str) -> dict[str, int] | None:
    """The week before's work counts, as its digest would have shown them at that week's end."""
    monday = date.fromisocalendar(year, wk, 1) - timedelta(days=7)
    y, w, _ = monday.isocalendar()
    try:
        prev = build_digest(store, config, team, f"{y}-W{w:02d}", now, numbers="none", compare=False)
    except WorklifeError:
        return None
    return prev.changes


def _week_rows(store: Store) -> tuple[list[tuple], list[tuple]]:
    """The team's events in their week windows (``_dw``) and the open items they own."""
    events = store.rows(f"""
            WITH r AS ({RESOLVED_OUTCOMES})
            SELECT w.person_id, r.kind, coalesce(r.ref, r.outcome_key), r.title, r.url, r.at_utc,
                   r.state, r.project
            FROM _dw w JOIN r ON r.pid = w.person_id AND r.at_utc >= w.w0 AND r.at_utc < w.w1
            ORDER BY w.person_id, r.at_utc, r.kind LIKE '%\\_updated' ESCAPE '\\' DESC, r.kind, r.ref
            """)
    open_items = store.rows(f"""
            WITH r AS (SELECT * FROM ({RESOLVED_OUTCOMES}) WHERE ref IS NOT NULL AND kind <> '{COMMIT}'),
            items AS (
                SELECT ref, arg_max(state, at_utc) AS state, max(at_utc) AS last_at,
                       arg_max(title, at_utc) AS title, arg_max(url, at_utc) AS url,
                       arg_max(project, at_utc) AS project, arg_max(kind, at_utc) AS kind,
                       bool_and(kind LIKE '%\\_opened' ESCAPE '\\') AS only_opened
                FROM r GROUP BY ref),
            owners AS (
                SELECT DISTINCT r.ref, r.pid FROM r JOIN items i USING (ref)
                WHERE i.only_opened OR r.kind NOT LIKE '%\\_opened' ESCAPE '\\')
            SELECT w.person_id, i.kind, i.ref, i.title, i.url, max(r.at_utc) AS seen, i.state,
                   i.project, epoch(w.w1) - epoch(max(r.at_utc)) AS idle_s
            FROM items i JOIN owners o USING (ref) JOIN _dw w ON w.person_id = o.pid
            JOIN r ON r.ref = i.ref AND r.at_utc < w.w1
            WHERE i.state IN ('open', 'blocked')
            GROUP BY w.person_id, i.kind, i.ref, i.title, i.url, i.state, i.project, w.w1
            ORDER BY 1, seen, 3""")
    return events, open_items


def _classify(rows: list[tuple], shipped_kinds: list[str]) -> tuple[list[Fact], list[CommitGroup], list[Fact]]:
    """Split one person's events of the week into shipped, commits by project, and moved.

    An item shipped this week is not also listed as moved; other items appear once in
    "moved", as their latest event of the week.
    """
    shipped: list[Fact] = []
    commits: dict[str, list[Fact]] = defaultdict(list)
    latest: dict[str, Fact] = {}
    for _, kind, ref, title, url, at, state, project in rows:
        fact = Fact(kind, ref, title, url, _aware(at), state, project)
        if kind == COMMIT:
            commits[project or "(no project)"].append(fact)
        elif kind in shipped_kinds:
            if (kind, ref) not in {(f.kind, f.ref) for f in shipped}:
                shipped.append(fact)
        else:
            latest[ref] = fact  # rows are in time order: the last one wins
    done = {f.ref for f in shipped}
    moved = sorted((f for r, f in latest.items() if r not in done), key=lambda f: (f.at_utc, f.ref))
    groups = [CommitGroup(p, tuple(fs)) for p, fs in sorted(commits.items())]
    return shipped, groups, moved
