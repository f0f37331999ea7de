"""Privacy: small-group suppression and keyed pseudonyms (docs/privacy.md).

- ``suppress_small_groups(df, group_cols, people_col)``: rows whose group counts fewer
  than ``privacy.min_group_size`` people get ``suppressed = True`` and every other
  value emptied (NaN), so no output (CLI, export, report) shows them.
- ``worklife.privacy.suppression``: complementary suppression, so that a hidden group
  cannot be derived by subtracting the shown ones from a total (``protect_grid``);
  ``blank_rows`` empties the values of the rows a ``Grid`` hides.
- ``pseudonym(value, key)``: HMAC-SHA-256 of the lower-cased value with ``key``,
  ``p-`` and 16 hex digits; nothing of the value (not the domain) is kept. Stable for the
  same key. ``worklife.privacy.pseudonyms``: where the key lives, ``Scrubber``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import pandas as pd

from worklife.config import Config
from worklife.errors import ConfigError

PSEUDONYM_HEX = 16  # hex characters kept from the digest (64 bits)


def suppress_small_groups(df: pd.DataFrame, group_cols: Iterable[str], people_col: str = "people",
                          min_group_size: int | None = None, config: Config | None = None) -> pd.DataFrame:
    """Mark and blank rows of groups with fewer than ``min_group_size`` people.

    ``people_col`` holds the number of distinct people in each row's group. Group key
    columns and ``people_col`` are kept; every other column becomes NaN/None on
    suppressed rows. Adds (or updates) the boolean column ``suppressed``.
    """
    from worklife.privacy.suppression import min_group_size as configured
    from worklife.privacy.suppression import too_small_rows

    if min_group_size is None:
        min_group_size = configured(config or Config())
    small = too_small_rows(df[people_col], min_group_size).to_numpy()
    return blank_rows(df, small, [*group_cols, people_col])


def blank_rows(df: pd.DataFrame, hide: Iterable[bool], keep_cols: Iterable[str]) -> pd.DataFrame:
    """A copy of ``df`` whose rows flagged in ``hide`` keep only ``keep_cols``; adds ``suppressed``."""
    keep = set(keep_cols) | {"suppressed"}
    out = df.copy()
    small = pd.Series(list(hide), index=out.index, dtype=bool)
    for c in out.columns:
        if c not in keep:
            if small.any():
                out[c] = out[c].astype("object").where(~small, None) if out[c].dtype == bool \
                    else out[c].where(~small)
    out["suppressed"] = small.values
    return out


def pseudonym(value: str | None, key: str) -> str | None:
    """Keyed pseudonym of an id or address (``p-`` + 16 hex digits); the domain is not kept."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if not key:
        raise ConfigError("--pseudonymise needs a non-empty --key")
    text = str(value).strip().lower()
    digest = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"p-{digest[:PSEUDONYM_HEX]}"


def pseudonymise(df: pd.DataFrame, columns: Iterable[str], key: str) -> pd.DataFrame:
    """A copy of ``df`` with ``columns`` replaced by their pseudonyms."""
    out = df.copy()
    for c in columns:
        if c in out.columns:
            out[c] = out[c].map(lambda v: pseudonym(v, key))
    return out
