"""docs/metrics.md names, for every metric column, the module that computes it and its tests (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worklife.metrics import METRIC_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "metrics.md"
SECTION = "## Where each metric is defined and tested"


def table() -> dict[str, tuple[list[str], list[str]]]:
    """metric -> (module paths, test paths), from the section's table."""
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/metrics.md has no section {SECTION!r}"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        paths = [re.findall(r"`([^`]+)`", c) for c in cells]
        for metric in paths[0]:
            assert metric not in rows, f"{metric} has two rows"
            rows[metric] = (paths[1], paths[2])
    return rows


ROWS = table()


def test_every_metric_column_has_a_row_and_nothing_else_does():
    assert sorted(ROWS) == sorted(METRIC_COLUMNS)


@pytest.mark.parametrize("metric", METRIC_COLUMNS)
def test_the_module_named_exists(metric):
    modules, _ = ROWS[metric]
    assert modules, f"{metric}: no module named"
    for m in modules:
        assert m.startswith("src/worklife/") and m.endswith(".py") and (ROOT / m).is_file(), (metric, m)


@pytest.mark.parametrize("metric", METRIC_COLUMNS)
def test_the_tests_named_exist_and_check_the_metric(metric):
    _, tests = ROWS[metric]
    assert tests, f"{metric}: no test named"
    for t in tests:
        path = ROOT / t
        assert t.startswith("tests/test_") and path.is_file(), (metric, t)
        # named as a column: a string, an attribute or a keyword (not merely a word of a longer name)
        assert re.search(rf"""["'.]{metric}\b(?!_)|\b{metric}=""", path.read_text(encoding="utf-8")), (metric, t)
