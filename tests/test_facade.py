"""The public ``worklife`` facade: ``__all__`` is complete and every name works."""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import date

import worklife
from worklife.store import connect

STEPS = ("connect", "load_config", "ingest_sources", "compute_metrics", "check", "build_report")


def public_names() -> set[str]:
    """Every public name the package offers: its own globals plus the lazily loaded stage functions."""
    own = {n for n, v in vars(worklife).items() if not n.startswith("_") and not inspect.ismodule(v)}
    return own | set(worklife._LAZY) | {"__version__"}


def test_all_is_complete_and_has_nothing_extra():
    assert sorted(worklife.__all__) == sorted(public_names())


def test_every_name_in_all_resolves():
    for name in worklife.__all__:
        assert getattr(worklife, name) is not None, name
    assert set(STEPS) <= set(worklife.__all__)


def test_the_facade_is_the_stage_functions():
    from worklife.metrics import compute
    from worklife.policy import check

    assert worklife.compute_metrics is compute and worklife.check is check


def test_import_worklife_stays_light():
    code = "import sys, worklife; print(any(m.startswith(('ibis', 'worklife.metrics', 'worklife.policy')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_documented_flow_runs_on_a_synthetic_org(tmp_path):
    org = worklife.generate_org(people=48, weeks=1, seed=2, start=date(2025, 3, 3))
    from worklife.synth import load_into_store

    with connect(tmp_path / "wl.duckdb") as store:
        load_into_store(org, store)
        config = worklife.Config()
        weeks = worklife.compute_metrics(store, config)
        findings = worklife.check(store, config, "auto")
        path = worklife.build_report(store, config, tmp_path / "r.html", person_weeks=weeks)
    assert len(weeks) > 0 and isinstance(findings, list) and path.exists()
