"""k-anonymity of person-level exports: coarsen HR attributes until no combination is rare.

The HR columns of an export (team, level, time zone, supervisor, working hours) are
*quasi-identifiers*: harmless one by one, identifying together (issue 16: 41 of 200
people unique by Organization + Level + TimeZone). ``k_anonymise`` applies the steps of
``LADDER`` in order, each only while some combination of the remaining quasi-identifier
values covers fewer than ``k`` people, and says which it applied:

1. working hours: withheld;
2. supervisor: withheld (it names a team's manager, and a team by its manager);
3. level: banded to its letters (``IC3`` -> ``IC``, ``M1`` -> ``M``);
4. time zone: coarsened to its region (``Europe/Paris`` -> ``Europe``);
5. time zone: withheld;
6. level: withheld;
7. organization: teams under ``k`` people merged into ``(other)``, then the smallest
   remaining teams into it until ``(other)`` covers ``k`` people (so that it cannot be
   derived from the others), or everything becomes ``(other)``.

Withheld values read ``(withheld)``. Metric columns are not quasi-identifiers (they
differ every week) and are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

WITHHELD = "(withheld)"
OTHER = "(other)"


@dataclass(frozen=True)
class Step:
    columns: tuple[str, ...]
    what: str
    apply: Callable[[pd.Series, int], pd.Series]


def _withhold(col: pd.Series, k: int) -> pd.Series:
    return pd.Series(WITHHELD, index=col.index, dtype=object)


def _band_level(col: pd.Series, k: int) -> pd.Series:
    return col.map(lambda v: (("".join(ch for ch in str(v) if ch.isalpha()) or str(v))
                              if isinstance(v, str) and not v.startswith("(") else v))


def _region(col: pd.Series, k: int) -> pd.Series:
    return col.map(lambda v: str(v).split("/", 1)[0] if isinstance(v, str) and "/" in v else v)


def _merge_small(col: pd.Series, k: int) -> pd.Series:
    sizes = col.value_counts()
    small = set(sizes[sizes < k].index)
    merged = sizes[list(small)].sum()
    for name, n in sizes[sizes >= k].sort_values(kind="stable").items():
        if merged == 0 or merged >= k:
            break
        small.add(name)
        merged += n
    return col.map(lambda v: OTHER if v in small else v)


LADDER = (
    Step(("WorkingStartTimeSetInOutlook", "WorkingEndTimeSetInOutlook"), "working hours withheld", _withhold),
    Step(("SupervisorId",), "supervisor withheld", _withhold),
    Step(("LevelDesignation",), "level banded (IC3 -> IC)", _band_level),
    Step(("TimeZone",), "time zone coarsened to its region", _region),
    Step(("TimeZone",), "time zone withheld", _withhold),
    Step(("LevelDesignation",), "level withheld", _withhold),
    Step(("Organization",), "teams under the minimum merged into (other)", _merge_small),
)


def rare_people(people: pd.DataFrame, columns: list[str], k: int) -> int:
    """People whose combination of ``columns`` values is shared by fewer than ``k`` people."""
    if people.empty or not columns:
        return 0 if people.empty or len(people) >= k else len(people)
    sizes = people.groupby(columns, dropna=False)[columns[0]].transform("size")
    return int((sizes < k).sum())


def k_anonymise(rows: pd.DataFrame, person: str, columns: list[str], k: int) -> tuple[pd.DataFrame, list[str]]:
    """Coarsen ``columns`` (one value per person) until every combination covers ``k`` people.

    Returns the coarsened rows and the steps applied (with how many people were rare
    before each). ``rows`` may hold several rows per person (weeks); sizes count people.
    """
    cols = [c for c in columns if c in rows.columns]
    people = rows.drop_duplicates(person)[[person, *cols]].set_index(person)
    done: list[str] = []
    for step in LADDER:
        present = [c for c in step.columns if c in cols]
        if not present:
            continue
        rare = rare_people(people, cols, k)
        if rare == 0:
            break
        before = people[present].copy()
        for c in present:
            people[c] = step.apply(people[c].astype(object), k)
        if not people[present].equals(before):
            done.append(f"{step.what} ({rare} people were in a combination of fewer than {k})")
    left = rare_people(people, cols, k)
    if left:  # fewer than k people in all: nothing can be told apart, withhold everything
        for c in cols:
            people[c] = WITHHELD
        done.append(f"every HR column withheld ({left} people in a combination of fewer than {k})")
    out = rows.drop(columns=cols).merge(people.reset_index(), on=person, how="left")
    return out[rows.columns], done
