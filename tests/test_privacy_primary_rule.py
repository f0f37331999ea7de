"""The primary suppression rule is written once (``privacy.suppression.too_small``) and every
output that hides small groups calls it: no module compares a people count with the minimum
group size itself, or reads ``privacy.min_group_size`` around ``min_group_size(config)``."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from worklife.config import Config
from worklife.privacy.suppression import min_group_size, too_small, too_small_rows

SRC = Path(__file__).resolve().parents[1] / "src" / "worklife"
OWNER = SRC / "privacy" / "suppression.py"
NAMES = r"(?:self\.|d\.)?(?:min_group|min_group_size|min_size|mgs|smallest)\b"
COMPARISON = re.compile(rf"[<>]=?\s*{NAMES}|{NAMES}\s*[<>]")
SETTING_READ = re.compile(r"""\[\s*["']privacy\.min_group_size["']\s*\]""")


def _sources() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if p != OWNER and p.name != "config.py"]


def test_no_module_compares_a_group_size_with_the_minimum_itself():
    found = [f"{p.relative_to(SRC)}:{n}: {line.strip()}" for p in _sources()
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if COMPARISON.search(line) and "too_small" not in line and not line.lstrip().startswith(("#", "f\"", "\""))]
    assert found == []


def test_the_setting_is_read_in_one_place():
    found = [f"{p.relative_to(SRC)}:{n}" for p in _sources()
             for n, line in enumerate(p.read_text().splitlines(), 1) if SETTING_READ.search(line)]
    assert found == []


def test_too_small_is_strictly_fewer_than_the_minimum():
    assert too_small(9, 10) and not too_small(10, 10) and not too_small(11, 10)
    assert too_small(None, 1) and too_small(0, 1)
    rows = too_small_rows(pd.Series([None, 0, 9, 10, 25], dtype="Float64"), 10)
    assert rows.tolist() == [True, True, True, False, False]
    assert min_group_size(Config()) == 10 and min_group_size(Config({"privacy.min_group_size": 5})) == 5
