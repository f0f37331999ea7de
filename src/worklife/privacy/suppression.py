"""Primary and complementary (secondary) suppression of published group figures.

Every group figure worklife publishes (a mean, share or count over the people of a
team, an org, a week) is, together with its number of people, a *sum* over those
people. Sums published side by side form linear equations: the org-week total minus
the visible team-weeks is the sum of the hidden team-weeks. So hiding the small groups
(primary suppression, fewer than ``privacy.min_group_size`` people) is not enough.

``protect`` takes the cells (their people) and the equations that link them (a parent
cell is the disjoint union of its children: an org-week of its team-weeks, a team over
the whole period of its weeks) and returns the cells to hide so that:

1. no shown cell covers fewer than ``min_size`` people (primary);
2. for every equation whose parent is known, the children the reader does not know
   together cover no one or at least ``min_size`` distinct people (complementary);
3. "known" includes what a reader derives: a parent whose children are all known, a
   single unknown child of a known parent (repeated until nothing new is derived).

When an equation breaks rule 2 the smallest shown child of it is hidden as well (the
"next-smallest group", as Viva Glint does); when it has no shown child left, its parent
is withheld. This repeats until no equation breaks a rule (a heuristic in the spirit of
tau-ARGUS' hypercube method: it may hide more than an optimal pattern, never less than
the rules require). ``protect_grid`` applies it to the usual two-level table (groups x
periods with group totals, period totals and a grand total). docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

ORG = "\x00org"  # group key of the whole population in ``protect_grid``
ALL = "\x00all"  # period key of the whole time span in ``protect_grid``


@dataclass(frozen=True)
class Equation:
    """``parent`` = disjoint union of ``children`` (of person-periods); cells are hashable keys."""

    parent: Hashable
    children: tuple[Hashable, ...]


@dataclass
class _State:
    people: Mapping[Hashable, int]
    equations: Sequence[Equation]
    min_size: int
    union: Callable[[Collection[Hashable]], int]
    hidden: set[Hashable] = field(default_factory=set)
    index: dict[Hashable, list[Equation]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for eq in self.equations:
            for c in (eq.parent, *eq.children):
                self.index.setdefault(c, []).append(eq)


def protect(people: Mapping[Hashable, int], equations: Sequence[Equation], min_size: int,
            members: Mapping[Hashable, frozenset] | None = None) -> frozenset[Hashable]:
    """The cells to hide (primary and complementary); see the module docstring.

    ``people``: distinct people per cell. ``members``: the people (ids) of each cell, to
    count distinct people of a set of cells that overlap (the weeks of one team); without
    it the children of an equation are taken as disjoint and their counts are added.
    """
    union = _union_of(people, members)
    st = _State(people, equations, min_size, union,
                {c for c, n in people.items() if 0 < n < min_size})
    for _ in range(len(people) + 1):
        known = _known(st)
        bad = _violations(st, known)
        if not bad:
            leak = _closure_leak(st, known)
            if leak is None:
                break
            _withhold_smallest_total(st, leak, known)
            continue
        progress = False
        for eq in bad:
            if progress:  # an earlier fix of this round may have settled it
                known = _known(st)
            if _leaks(st, eq, known):
                progress = _hide_one(st, eq, known) or progress
            elif _block_leaks(st, eq, known):  # withhold the total that makes the block known
                if eq.parent not in st.hidden:
                    _hide(st, eq.parent, known)
                    progress = True
                else:
                    progress = _hide_one(st, eq, known) or progress
        if not progress:  # cannot happen for equations of sums; be safe: hide all involved
            st.hidden.update(c for eq in bad for c in (eq.parent, *eq.children))
    return frozenset(st.hidden)


def _union_of(people: Mapping[Hashable, int],
              members: Mapping[Hashable, frozenset] | None) -> Callable[[Collection[Hashable]], int]:
    if members is None:
        return lambda cells: sum(int(people[c]) for c in cells)
    return lambda cells: len(frozenset().union(*(members[c] for c in cells))) if cells else 0


def _known(st: _State) -> dict[Hashable, Equation | None]:
    """Cells a reader knows, each with the equation it was derived by (None: shown)."""
    known: dict[Hashable, Equation | None] = {c: None for c in st.people if c not in st.hidden}
    changed = True
    while changed:
        changed = False
        for eq in st.equations:
            unknown = [c for c in eq.children if c not in known]
            if eq.parent in known and len(unknown) == 1:
                known[unknown[0]] = eq
                changed = True
            elif eq.parent not in known and not unknown:
                known[eq.parent] = eq
                changed = True
    return known


def _leaks(st: _State, eq: Equation, known: dict[Hashable, Equation | None]) -> bool:
    """Whether ``eq`` lets a reader learn a sum over 1..min_size-1 people."""
    for c in (eq.parent, *eq.children):  # a small hidden cell derived by this equation
        if known.get(c, None) is eq and c in st.hidden and 0 < st.people.get(c, 0) < st.min_size:
            return True
    unknown = [c for c in eq.children if c not in known]  # known total minus known parts
    return eq.parent in known and bool(unknown) and 0 < st.union(unknown) < st.min_size


def _block_leaks(st: _State, eq: Equation, known: dict[Hashable, Equation | None]) -> bool:
    """Whether the unknown parts of ``eq``, subtracted from other equations, leave a small sum.

    A known total with several unknown parts is a known *block* (a team's hidden weeks).
    When the other equations holding those parts (the weeks' org totals) have disjoint
    unknown sets covering the block, their union minus the block is known too: it must
    not cover 1..min_size-1 people.
    """
    if eq.parent not in known:
        return False
    block = frozenset(c for c in eq.children if c not in known)
    if len(block) < 2:
        return False
    covers: dict[int, frozenset] = {}
    for c in block:
        for f in st.index.get(c, ()):
            if f is not eq and f.parent in known and c in f.children and id(f) not in covers:
                covers[id(f)] = frozenset(x for x in f.children if x not in known)
    if not covers:
        return False
    union = frozenset().union(*covers.values())
    if sum(len(u) for u in covers.values()) != len(union) or not block <= union:
        return False
    rest = union - block
    return bool(rest) and 0 < st.union(rest) < st.min_size


def _closure_leak(st: _State, known: dict[Hashable, Equation | None],
                  cap: int = 20000) -> list[Equation] | None:
    """Equations whose known blocks combine into a small known sum, or None.

    Blocks: the unknown parts of each equation with a known total; the disjoint union
    of the blocks covering another block (the weeks of a team's hidden weeks); and,
    repeatedly, a block minus a block inside it. A new block over 1..min_size-1 people
    is a leak; its provenance (the equations used) is returned. Bounded by ``cap`` blocks.
    """
    blocks: dict[frozenset, tuple[int, ...]] = {}
    by_cell: dict[Hashable, list[frozenset]] = {}

    def add(b: frozenset, prov: tuple[int, ...]) -> bool:
        """Record ``b``; True if it leaks."""
        if not b or b in blocks:
            return False
        if 0 < st.union(b) < st.min_size:
            blocks[b] = prov
            return True
        blocks[b] = prov
        for c in b:
            by_cell.setdefault(c, []).append(b)
        queue.append(b)
        return False

    queue: list[frozenset] = []
    firsts: list[tuple[frozenset, int]] = []
    for i, eq in enumerate(st.equations):
        if eq.parent in known:
            b = frozenset(c for c in eq.children if c not in known)
            if b and b not in blocks:
                firsts.append((b, i))
                if add(b, (i,)):
                    return [eq]
    for b, i in firsts:  # unions of disjoint equation blocks that cover a block
        covers = {id(o): o for c in b for o in by_cell.get(c, ()) if o is not b}
        union = frozenset().union(*covers.values()) if covers else frozenset()
        if covers and sum(len(o) for o in covers.values()) == len(union) and b <= union:
            prov = tuple(sorted({j for o in covers.values() for j in blocks[o]}))
            if add(union, prov):
                return [st.equations[j] for j in prov]
    while queue and len(blocks) < cap:
        y = queue.pop()
        near = {id(x): x for c in y for x in by_cell.get(c, ()) if x is not y}
        for x in near.values():
            if y < x:
                diff, prov = x - y, blocks[x] + blocks[y]
            elif x < y:
                diff, prov = y - x, blocks[y] + blocks[x]
            else:
                continue
            if add(diff, prov):
                return [st.equations[j] for j in dict.fromkeys(prov)]
    return None


def _withhold_smallest_total(st: _State, eqs: list[Equation], known: dict[Hashable, Equation | None]) -> None:
    """Withhold the smallest shown total among ``eqs`` (else hide a part of the first)."""
    shown = [eq.parent for eq in eqs if eq.parent not in st.hidden]
    if shown:
        _hide(st, min(shown, key=lambda c: (st.people.get(c, 0), str(c))), known)
    elif not _hide_one(st, eqs[0], known):
        st.hidden.update(c for eq in eqs for c in (eq.parent, *eq.children))


def _violations(st: _State, known: dict[Hashable, Equation | None]) -> list[Equation]:
    """The equations that leak (see ``_leaks`` and ``_block_leaks``)."""
    return [eq for eq in st.equations if _leaks(st, eq, known) or _block_leaks(st, eq, known)]


def _hide_one(st: _State, eq: Equation, known: dict[Hashable, Equation | None],
              depth: int = 0) -> bool:
    """Hide the smallest shown child of ``eq``, else its parent, else follow a derivation.

    Returns False when nothing could be hidden.
    """
    shown = [c for c in eq.children if c not in st.hidden and st.people.get(c, 0) > 0]
    if shown:
        _hide(st, min(shown, key=lambda c: (st.people[c], str(c))), known)
        return True
    if eq.parent not in st.hidden:
        _hide(st, eq.parent, known)
        return True
    if depth >= len(st.equations):
        return False
    for cell in (eq.parent, *eq.children):
        via = known.get(cell)
        if via is not None and via is not eq and _hide_one(st, via, known, depth + 1):
            return True
    return False


def _hide(st: _State, cell: Hashable, known: dict[Hashable, Equation | None], depth: int = 0) -> None:
    """Hide ``cell`` and whatever would give it straight back (a sibling, or the total).

    A cell hidden alone is re-derived by any other equation in which it is the only
    unknown: the weeks of a team whose total is shown, or a total whose parts are all
    shown. Hiding the smallest shown sibling there (or the total when it has no sibling)
    closes the cycle, the way a suppression pattern in a two-way table needs two hidden
    cells in every row and column.
    """
    st.hidden.add(cell)
    known.pop(cell, None)
    if depth > 4 * len(st.equations):
        return
    for eq in st.index.get(cell, ()):
        if cell == eq.parent:
            if not any(c in st.hidden for c in eq.children):
                shown = [c for c in eq.children if c not in st.hidden and st.people.get(c, 0) > 0]
                if shown:
                    _hide(st, min(shown, key=lambda c: (st.people[c], str(c))), known, depth + 1)
            continue
        if eq.parent in st.hidden or any(c in st.hidden for c in eq.children if c != cell):
            continue
        shown = [c for c in eq.children
                 if c != cell and c not in st.hidden and st.people.get(c, 0) > 0]
        if shown:
            _hide(st, min(shown, key=lambda c: (st.people[c], str(c))), known, depth + 1)
        elif eq.parent not in st.hidden:
            _hide(st, eq.parent, known, depth + 1)


def min_group_size(config: Mapping[str, object]) -> int:
    """``privacy.min_group_size``: the fewest people a published group figure may cover."""
    return int(config["privacy.min_group_size"])  # type: ignore[call-overload]


def too_small(people: float | None, min_size: int) -> bool:
    """The primary rule, the one place it is written: a figure over fewer than ``min_size``
    people (None counts as nobody) is never shown."""
    return (people or 0) < min_size


def too_small_rows(people: pd.Series, min_size: int) -> pd.Series:
    """``too_small`` for a column of people counts (NaN counts as nobody)."""
    return people.fillna(0) < min_size


def hidden_groups(sizes: Mapping[str, int], min_size: int, total: int | None = None) -> frozenset[str]:
    """Groups (people each) to hide when a total over all of them may be published beside them.

    ``total``: people in the total (default: the sum, i.e. the groups partition it).
    For outputs whose figures per group and per period are over the same people every
    period (findings per team, rule and week; status meetings per team).
    """
    people: dict[Hashable, int] = {ORG: int(sum(sizes.values()) if total is None else total)}
    people.update({(g,): int(n) for g, n in sizes.items()})
    hidden = protect(people, [Equation(ORG, tuple((g,) for g in sizes))], min_size)
    return frozenset(c[0] for c in hidden if c != ORG)


@dataclass(frozen=True)
class Grid:
    """Which cells of a groups x periods table (with totals) may be shown."""

    hidden: frozenset[tuple[str, str]]
    people: Mapping[tuple[str, str], int]
    min_size: int

    def shows(self, group: str, period: str = ALL) -> bool:
        """True if the figure of ``group`` (``ORG`` for everyone) in ``period`` may be shown."""
        key = (group, period)
        return key in self.people and key not in self.hidden

    def reason(self, group: str, period: str = ALL) -> str | None:
        """None if shown; 'small' (fewer than min_size people) or 'complementary'."""
        key = (group, period)
        if self.shows(group, period):
            return None
        return "small" if self.people.get(key, 0) < self.min_size else "complementary"

    def groups(self, period: str = ALL, hidden: bool = False) -> list[str]:
        """Groups (not ``ORG``) whose cell in ``period`` is hidden (or shown), sorted."""
        return sorted(g for (g, p) in self.people
                      if p == period and g != ORG and ((g, p) in self.hidden) == hidden)


def protect_grid(rows: pd.DataFrame, group: str, period: str | None, min_size: int,
                 person: str = "person_id", group_totals: bool = True,
                 period_totals: bool = True, grand_total: bool = True) -> Grid:
    """Protect a table of group x period figures computed from person-period ``rows``.

    ``rows`` has one row per person and period (``period`` None: one period, the whole
    span). The cells are (group, period); ``group_totals`` adds (group, ALL) cells (a
    figure per group over all periods), ``period_totals`` adds (ORG, period) cells (the
    whole population per period) and ``grand_total`` adds (ORG, ALL). Totals not
    published are still there as cells a reader cannot see; equations tie each total to
    its parts, so whatever set of these a site publishes, no remainder is too small.
    """
    d = pd.DataFrame({"g": rows[group].astype(str), "p": rows[period].astype(str) if period else ALL,
                      "who": rows[person].astype(str)})
    members: dict[tuple[str, str], frozenset] = {}
    for (g, p), who in d.groupby(["g", "p"], sort=True)["who"]:
        members[(g, p)] = frozenset(who)
    periods = sorted(d["p"].unique()) if len(d) else []
    groups = sorted(d["g"].unique()) if len(d) else []
    multi = period is not None
    if multi and group_totals:
        for g, who in d.groupby("g", sort=True)["who"]:
            members[(g, ALL)] = frozenset(who)
    if multi and period_totals:
        for p, who in d.groupby("p", sort=True)["who"]:
            members[(ORG, p)] = frozenset(who)
    if grand_total and len(d):
        members[(ORG, ALL)] = frozenset(d["who"])
    eqs = _grid_equations(members, groups, periods if multi else [ALL], multi)
    people = {k: len(v) for k, v in members.items()}
    return Grid(protect(people, eqs, min_size, members), people, min_size)


def _grid_equations(members: Mapping[tuple[str, str], frozenset], groups: Iterable[str],
                    periods: Sequence[str], multi: bool) -> list[Equation]:
    groups = list(groups)
    eqs: list[Equation] = []

    def add(parent: tuple[str, str], children: list[tuple[str, str]]) -> None:
        kids = tuple(c for c in children if c in members)
        if parent in members and kids:
            eqs.append(Equation(parent, kids))

    for p in periods:  # the whole population of a period = its groups
        add((ORG, p), [(g, p) for g in groups])
    if multi:
        for g in groups:  # a group over all periods = its periods
            add((g, ALL), [(g, p) for p in periods])
        add((ORG, ALL), [(g, ALL) for g in groups])
        add((ORG, ALL), [(ORG, p) for p in periods])
    return eqs
