"""The team's week as work items: what shipped, started, moved, is blocked, stale or reopened.

A **work item** is one pull request, issue, task, or a commit that belongs to no pull
request. Every outcome of the team-week lands in exactly one item:

- a commit linked to a pull request (``pr_commit`` rows written by the git adapter:
  squash merges ``… (#N)``, ``Merge pull request #N``, or the PR's own head commits) is
  folded under that pull request; a pull request with commits this week that did not
  merge this week is "in progress";
- ``digest.shipped_kinds`` events make an item **shipped**; ``*_opened`` **started**;
  other activity **moved** (its state now is shown);
- **reopened**: open now, with a closing event recorded before its latest activity,
  and activity this week;
- **blocked** / **stale**: open items the team owns (docs/digest.md), whatever their activity;
- **carried over**: the item's first recorded event is before the week began.

People of an item are the team members credited with its events or folded commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from worklife.store import Store

PR_LINK = "pr_commit"
NO_PROJECT = "(no project)"
CLOSE_KINDS = ("issue_closed", "task_closed", "pr_closed", "issue_not_planned", "pr_merged")
CHANGES = ("shipped", "reopened", "started", "in_progress", "moved", "blocked", "stale", "commit")
CHANGE_TITLE = {"shipped": "Shipped", "reopened": "Reopened", "started": "Started", "in_progress": "In progress",
                "moved": "Moved", "blocked": "Blocked", "stale": "Stale", "commit": "Other commits"}


@dataclass(frozen=True)
class Commit:
    sha: str
    title: str
    url: str | None
    at_utc: datetime
    person_id: str

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass
class Item:
    """One outcome of the week (mutable while it is being collected)."""

    ref: str
    kind: str  # pr, issue, task, commit, or the outcome kind for anything else
    title: str
    url: str | None
    project: str
    change: str  # one of CHANGES
    at_utc: datetime  # the latest event of the week (open items: the last activity)
    state: str | None = None
    people: list[str] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    idle_days: float | None = None
    carried: bool = False  # first recorded before the week began
    untitled: bool = False  # a pull request known only from its commits: ``title`` is its latest commit's

    @property
    def short(self) -> str | None:
        """The 7-character hash of a lone commit; None for other items."""
        return self.ref[:7] if self.kind == "commit" else None

    def credit(self, person: str) -> None:
        if person not in self.people:
            self.people.append(person)


def item_kind(kind: str) -> str:
    head = kind.split("_", 1)[0]
    return head if head in ("pr", "issue", "task", "commit") else kind


@dataclass(frozen=True)
class ProjectWork:
    project: str
    items: tuple[Item, ...]

    def of(self, change: str) -> list[Item]:
        return [i for i in self.items if i.change == change]


def collect(events: list[tuple], open_items: list[tuple], store: Store, shipped_kinds: list[str],
            stale_days: int, week_start: datetime, now: datetime) -> list[ProjectWork]:
    """Work items from the week's events and the open items (rows of ``build_digest``'s queries).

    ``events``: (person, kind, ref, title, url, at, state, project); ``open_items``:
    (person, kind, ref, title, url, last_at, state, project, idle_s). ``week_start``:
    the earliest start of the team's week windows (aware UTC); rows after ``now`` are not read.
    """
    items: dict[str, Item] = {}
    commits = [e for e in events if e[1] == "commit"]
    links = _links(store, [e[2] for e in commits])
    prs = _pr_facts(store, sorted(set(links.values())), now)
    for person, kind, ref, title, url, at, state, project in events:
        if kind == "commit":
            continue
        at = _aware(at)
        change = ("shipped" if kind in shipped_kinds else "started" if kind.endswith("_opened")
                  else "reopened" if kind.endswith("_reopened") and state in ("open", "blocked") else "moved")
        it = items.get(ref)
        if it is None:
            it = items[ref] = Item(ref, item_kind(kind), title or ref, url, _project(project, ref), change, at, state)
        elif CHANGES.index(change) < CHANGES.index(it.change):
            it.change = change
        it.at_utc = max(it.at_utc, at)
        it.state = state or it.state
        it.title = title or it.title
        it.url = url or it.url
        it.credit(person)
    for person, _, sha, title, url, at, _, project in commits:
        c = Commit(sha, title or sha[:7], url, _aware(at), person)
        pr = links.get(sha)
        if pr is None:
            it = items.setdefault(sha, Item(sha, "commit", c.title, url, project or NO_PROJECT, "commit", c.at_utc))
        else:
            info = prs.get(pr, {})
            it = items.get(pr)
            if it is None:
                it = items[pr] = Item(pr, "pr", info.get("title") or c.title, info.get("url"),
                                      info.get("project") or project or NO_PROJECT, "in_progress", c.at_utc,
                                      info.get("state"), untitled=not info.get("title"))
            if it.untitled and c.at_utc >= it.at_utc:
                it.title = c.title
            it.commits.append(c)
            it.at_utc = max(it.at_utc, c.at_utc)
        it.credit(person)
    for ref, info in prs.items():  # merged this week by someone outside the team: the team's work shipped
        it = items.get(ref)
        if it is not None and it.change == "in_progress" and info.get("merged_at") is not None \
                and _aware(info["merged_at"]) >= week_start:
            it.change = "shipped"
    _reopened(store, items)
    for person, kind, ref, title, url, last_at, state, project, idle_s in open_items:
        idle = round(idle_s / 86400, 1)
        if state != "blocked" and idle_s < stale_days * 86400:
            continue
        change = "blocked" if state == "blocked" else "stale"
        it = items.get(ref)
        if it is None:
            it = items[ref] = Item(ref, item_kind(kind), title or ref, url, _project(project, ref), change,
                                   _aware(last_at), state)
        it.change, it.idle_days, it.state = change, idle, state
        it.credit(person)
    _carried(store, items, week_start)
    by_project: dict[str, list[Item]] = defaultdict(list)
    for it in items.values():
        it.commits.sort(key=lambda c: (c.at_utc, c.sha))
        by_project[it.project].append(it)
    return [ProjectWork(p, tuple(sorted(its, key=lambda i: (CHANGES.index(i.change), i.at_utc, i.ref))))
            for p, its in sorted(by_project.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _project(project: str | None, ref: str) -> str:
    """The item's project; for ``owner/repo#12`` without one, ``owner/repo``."""
    if project:
        return project
    return ref.rsplit("#", 1)[0] if "#" in ref and "/" in ref else NO_PROJECT


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _links(store: Store, shas: list[str]) -> dict[str, str]:
    """Commit hash -> the pull request it belongs to (``pr_commit`` rows)."""
    if not shas:
        return {}
    rows = store.rows(
        f"SELECT source_ref, min(ref) FROM outcomes WHERE kind = '{PR_LINK}' AND list_contains(?, source_ref) GROUP BY 1",
        [shas])
    return dict(rows)


def _pr_facts(store: Store, refs: list[str], now: datetime) -> dict[str, dict]:
    """Title, link and project of pull requests from any row naming them; their state as of ``now``.

    A title is not news, so one recorded later (the squash commit's) names the work early;
    a state is: a merge after ``now`` does not count.
    """
    if not refs:
        return {}
    rows = store.rows(f"""
        SELECT ref, arg_max(title, at_utc) FILTER (WHERE title IS NOT NULL),
               arg_max(url, at_utc) FILTER (WHERE url IS NOT NULL),
               arg_max(state, at_utc) FILTER (WHERE kind <> '{PR_LINK}' AND state IS NOT NULL AND at_utc <= $now),
               any_value(project), max(at_utc) FILTER (WHERE kind = 'pr_merged' AND at_utc <= $now)
        FROM outcomes WHERE list_contains($refs, ref) GROUP BY ref""",
        {"now": now.astimezone(UTC).replace(tzinfo=None), "refs": refs})
    return {r[0]: {"title": r[1], "url": r[2], "state": r[3], "project": r[4], "merged_at": r[5]} for r in rows}


def _reopened(store: Store, items: dict[str, Item]) -> None:
    """Open items with a close recorded before their latest activity of the week."""
    open_refs = [r for r, it in items.items() if it.state in ("open", "blocked") and it.change in ("moved", "started")]
    if not open_refs:
        return
    closes = dict(store.rows(
        "SELECT ref, max(at_utc) FROM outcomes WHERE list_contains(?, ref) AND list_contains(?, kind) GROUP BY ref",
        [open_refs, list(CLOSE_KINDS)]))
    for ref, closed_at in closes.items():
        if _aware(closed_at) < items[ref].at_utc:
            items[ref].change = "reopened"


def _carried(store: Store, items: dict[str, Item], week_start: datetime) -> None:
    refs = [r for r, it in items.items() if it.kind != "commit"]
    if not refs:
        return
    first = dict(store.rows(
        "SELECT ref, min(at_utc) FROM outcomes WHERE list_contains(?, ref) GROUP BY ref", [refs]))
    for ref, at in first.items():
        if at is not None and _aware(at) < week_start:
            items[ref].carried = True
        elif items[ref].change == "in_progress":
            items[ref].change = "started"  # a pull request first seen this week


def counts(work: list[ProjectWork]) -> dict[str, int]:
    """Items per change over all projects (commits not in a pull request under ``commit``)."""
    out = {c: 0 for c in CHANGES}
    for p in work:
        for it in p.items:
            out[it.change] += 1
    out["carried_open"] = sum(1 for p in work for it in p.items
                              if it.carried and it.change in ("blocked", "stale", "in_progress", "moved", "reopened"))
    out["carried_shipped"] = sum(1 for p in work for it in p.items if it.carried and it.change == "shipped")
    return out


def person_items(work: list[ProjectWork], person: str) -> list[Item]:
    """The items a person is credited with, their commits only (folded commits of others left out)."""
    out = []
    for p in work:
        for it in p.items:
            if person in it.people:
                out.append(replace(it, commits=[c for c in it.commits if c.person_id == person]))
    return out
