"""The Finding record and its renderings (JSON, rich table, privacy-safe team summary).

A finding says: which rule, under which jurisdiction's preset (and its source), who
(a person, or a sender -> recipient pair), which ISO week (of the subject's local
date), how many times, sample events with ids and local times, and a severity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text

from worklife.privacy.suppression import too_small

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


@dataclass(frozen=True)
class Event:
    """One piece of evidence: what it is (message, meeting, commit, gap), its id, its times."""

    kind: str
    ref: str
    utc: str  # ISO 8601, UTC
    local: str  # subject's local wall time, 'YYYY-MM-DD HH:MM'
    detail: str = ""


@dataclass(frozen=True)
class Finding:
    """One rule breached by one subject in one ISO week (``count`` times)."""

    rule: str
    severity: str  # high | medium | low | info
    jurisdiction: str  # preset code the subject was checked under ('' for org-level)
    person_id: str | None  # the protected person (recipient, worker); None: organisation
    counterpart_id: str | None  # the sender for pair rules
    week: str | None  # ISO week 'YYYY-Www' of the subject's local date
    count: int
    message: str
    source: str = ""  # statute, code or charter the rule comes from
    samples: tuple[Event, ...] = field(default_factory=tuple)
    value: float | None = None  # measured value where there is one (hours)
    limit: float | None = None  # the limit it was compared with (hours)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["samples"] = [asdict(e) for e in self.samples]
        return d


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.rule, f.week or "",
                                           f.person_id or "", f.counterpart_id or ""))


def to_json(findings: Iterable[Finding], meta: dict[str, Any] | None = None) -> str:
    """``{"findings": [...], "meta": {...}}``, stable key order, UTF-8 text."""
    return json.dumps({"meta": meta or {}, "findings": [f.to_dict() for f in sort_findings(findings)]},
                      indent=2, ensure_ascii=False, default=str)


def to_table(findings: Iterable[Finding], title: str = "worklife check", samples: int = 2) -> Table:
    """A rich table, most severe first; each row shows up to ``samples`` events."""
    table = Table(title=title, show_lines=False)
    for col in ("severity", "rule", "jur.", "week", "person", "from", "n", "evidence"):
        table.add_column(col, overflow="fold", no_wrap=col in ("severity", "week", "n"))
    colours = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
    for f in sort_findings(findings):
        ev = "; ".join(f"{e.kind} {e.ref} @ {e.local}" + (f" ({e.detail})" if e.detail else "")
                       for e in f.samples[:samples])
        evidence = f.message + (f" — {ev}" if ev else "")
        # Text cells: never parsed as markup, whatever the console's setting.
        table.add_row(Text(f.severity, style=colours.get(f.severity, "default")), Text(f.rule),
                      Text(f.jurisdiction), Text(f.week or ""), Text(f.person_id or "(org)"),
                      Text(f.counterpart_id or ""), Text(str(f.count)), Text(evidence))
    return table


def team_summary(findings: Iterable[Finding], teams: dict[str, str | None], team_sizes: dict[str, int],
                 min_group_size: int) -> list[dict[str, Any]]:
    """Findings per (team, rule, week) with distinct people; teams under ``min_group_size`` suppressed,
    and the next-smallest teams where the org-wide counts (the report's breach chart) minus the
    shown teams would give a suppressed team's (``worklife.privacy.suppression.hidden_groups``).

    ``teams`` maps person_id -> team; ``team_sizes`` team -> people. Suppressed rows keep
    their keys, ``suppressed = True`` and no counts, so nothing about a small team leaks.
    """
    from worklife.privacy.suppression import hidden_groups

    hidden = hidden_groups(team_sizes, min_group_size)  # and complements: docs/privacy.md
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in findings:
        if f.person_id is None:
            continue
        team = teams.get(f.person_id) or "(no team)"
        key = (team, f.rule, f.week or "")
        row = acc.setdefault(key, {"team": team, "rule": f.rule, "week": f.week, "people": set(), "count": 0})
        row["people"].add(f.person_id)
        row["count"] += f.count
    out = []
    for (team, _, _), row in sorted(acc.items()):
        small = team in hidden or too_small(team_sizes.get(team, 0), min_group_size)
        out.append({"team": team, "rule": row["rule"], "week": row["week"], "suppressed": small,
                    "people": None if small else len(row["people"]), "count": None if small else row["count"]})
    return out
