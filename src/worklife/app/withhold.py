"""Findings that would name their person even under a pseudonym: withheld.

A pseudonymised finding names its jurisdiction. Where fewer than
``privacy.min_group_size`` internal people have that jurisdiction (one person in India,
two in California), the jurisdiction names the person to anyone who knows who works
there, and links their pseudonym wherever else it appears (as the sender of another
finding, in an export). Such a person's finding keeps its rule, week and count, but its
person, jurisdiction, message and source are blanked. Organisation-level findings name
nobody and are kept. ``app.identify_findings`` shows everything (and applies no pseudonyms).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from worklife.privacy.suppression import too_small

WITHHELD = "(withheld)"
ORGANISATION = "(organisation)"


def small_jurisdiction(people: pd.DataFrame, min_group: int) -> Callable[[str], bool]:
    """``small(code)``: True when fewer than ``min_group`` internal people have jurisdiction
    ``code`` or one under it (``US`` covers ``US-CA``)."""
    codes = people["jurisdiction"].fillna("").astype(str).str.strip().str.upper()
    sizes: dict[str, bool] = {}

    def small(code: str) -> bool:
        c = (code or "").strip().upper()
        if c not in sizes:
            sizes[c] = too_small(int(((codes == c) | codes.str.startswith(c + "-")).sum()), min_group)
        return sizes[c]
    return small


def withhold_small_jurisdictions(findings: pd.DataFrame, people: pd.DataFrame, min_group: int) -> pd.DataFrame:
    """``findings`` (the app's pseudonymised frame) with the findings of people in a
    jurisdiction of fewer than ``min_group`` people withheld (see the module docstring)."""
    if findings.empty:
        return findings
    small = small_jurisdiction(people, min_group)
    mask = (findings["person"] != ORGANISATION) & findings["jurisdiction"].map(small)
    out = findings.copy()
    out.loc[mask, "person"] = WITHHELD
    out.loc[mask, ["jurisdiction", "source"]] = ""
    out.loc[mask, "message"] = (f"withheld: its jurisdiction covers fewer than {min_group} people "
                                "(privacy.min_group_size; app.identify_findings shows it)")
    return out
