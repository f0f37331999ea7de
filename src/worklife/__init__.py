"""worklife: private work-pattern metrics, right-to-disconnect checks and a delivery guard.

Library first, CLI second: every stage is a function in a module of this package
(``worklife.ingest``, ``worklife.metrics``, ``worklife.policy``, ``worklife.guard``,
``worklife.digest``, ``worklife.report``, ``worklife.synth``) and ``worklife.cli`` is a
thin layer on top. The names below are the public facade for library users::

    import worklife

    config = worklife.load_config("worklife.toml")          # or worklife.Config()
    with worklife.connect("worklife.duckdb") as store:       # opens (or creates) a store
        worklife.ingest_sources(["exports/calendars"], store, config)
        weeks = worklife.compute_metrics(store, config)      # person-week DataFrame
        findings = worklife.check(store, config, "auto")     # policy findings (records)
        worklife.build_report(store, config, "report.html", person_weeks=weeks,
                              sections=worklife.collect_sections(
                                  store, config, weeks, worklife.standard_providers()))

``worklife.open_store(path_or_store, engine="duckdb"|"spark")`` opens a store (or a folder
of exported Parquet tables) read-only with its schema checked, as every stage does.

The stage functions are imported on first use, so ``import worklife`` stays light.
"""

from typing import Any as _Any

from worklife.config import Config, load_config
from worklife.errors import (
    ConfigError,
    GuardError,
    IngestError,
    PolicyError,
    StoreError,
    WorklifeError,
)
from worklife.storage import open_store
from worklife.store import Store, connect

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "GuardError",
    "IngestError",
    "PolicyError",
    "Store",
    "StoreError",
    "WorklifeError",
    "__version__",
    "boundary_pressure",
    "build_digest",
    "build_report",
    "check",
    "check_report",
    "collect_sections",
    "compute_metrics",
    "connect",
    "estimate_savings",
    "explain",
    "generate_org",
    "ingest_sources",
    "load_config",
    "load_policy",
    "open_store",
    "standard_providers",
]


def _stage(name: str) -> _Any:  # noqa: C901, PLR0911 (one explicit import per facade name)
    """The stage function behind a facade name (explicit imports: the import graph sees them)."""
    if name == "ingest_sources":
        from worklife.ingest import run
        return run
    if name == "compute_metrics":
        from worklife.metrics import compute
        return compute
    if name == "explain":
        from worklife.metrics.explain import explain
        return explain
    if name in ("load_policy", "check", "check_report", "boundary_pressure"):
        from worklife import policy
        return getattr(policy, name)
    if name in ("build_digest", "estimate_savings"):
        from worklife import digest
        return getattr(digest, name)
    if name in ("build_report", "collect_sections"):
        from worklife import report
        return getattr(report, name)
    if name == "standard_providers":
        from worklife.report.providers import standard_providers
        return standard_providers
    if name == "generate_org":
        from worklife.synth import generate
        return generate
    raise AttributeError(f"module 'worklife' has no attribute {name!r}")


_LAZY = ("ingest_sources", "compute_metrics", "explain", "load_policy", "check", "check_report",
         "boundary_pressure", "build_digest", "estimate_savings", "build_report", "collect_sections",
         "standard_providers", "generate_org")


def __getattr__(name: str) -> _Any:
    """The stage functions of the facade, imported when first used (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'worklife' has no attribute {name!r}")
    value = _stage(name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
