"""Boundary pressure and right-to-disconnect / working-time checks (docs/policy.md).

Public API:

- ``load_policy(spec)``: a preset code (``PT``, ``CA-ON``, ``EU-WTD``), ``"auto"`` or a
  policy.toml path -> ``Policy``.
- ``check(store, config, policy, *, engine="duckdb", spark_master="local[*]") -> list[Finding]``
  and ``check_report(...)`` (findings + meta); ``open_db(store, engine)`` to reuse one
  staging (``engine="spark"``: the same SQL on Spark, ``worklife.policy.sql``).
- ``boundary_pressure(store, config, ...) -> dict[str, DataFrame]`` and ``sender_view(...)``.

Policy returns records; the report draws them (``worklife.report.policy_section``).

Presets summarise statutes and codes for awareness; they are not legal advice.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from worklife.config import Config
from worklife.policy.boundary import SenderView, boundary_pressure, sender_view
from worklife.policy.engine import DISCLAIMER, CheckResult, run_check
from worklife.policy.findings import Event, Finding, team_summary, to_json, to_table
from worklife.policy.loader import builtin_presets, load_policy
from worklife.policy.model import Charter, Policy, Preset
from worklife.policy.sql import ENGINES, PolicyDb, open_db
from worklife.store import Store

__all__ = [
    "DISCLAIMER", "ENGINES", "Charter", "CheckResult", "Event", "Finding", "Policy", "PolicyDb", "Preset", "SenderView",
    "boundary_pressure", "builtin_presets", "check", "check_report", "last_message_utc", "load_policy", "open_db",
    "people_teams", "sender_view", "team_summary", "to_json", "to_table",
]


def _policy(policy: Policy | str | Path) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(policy)


def check_report(store: Store | PolicyDb | str | Path, config: Config, policy: Policy | str | Path, *,
                 engine: str = "duckdb", spark_master: str = "local[*]") -> CheckResult:
    """Findings and run metadata (people checked per preset, org size, sources, disclaimer).

    ``store``: a Store, a store file, an open ``PolicyDb`` (``open_db``; its engine is
    used), or with ``engine="spark"`` a folder of exported Parquet tables.
    ``engine="spark"`` runs the same SQL on Spark (docs/scale-out.md).
    """
    with open_db(store, engine, spark_master) as db:
        return run_check(db, config, _policy(policy))


def check(store: Store | PolicyDb | str | Path, config: Config, policy: Policy | str | Path, *,
          engine: str = "duckdb", spark_master: str = "local[*]") -> list[Finding]:
    """Every finding of ``policy`` (a Policy, preset code, "auto" or policy.toml path), most severe first."""
    return check_report(store, config, policy, engine=engine, spark_master=spark_master).findings


def people_teams(store: Store | PolicyDb) -> tuple[dict[str, str | None], dict[str, int]]:
    """(person_id -> team, team -> internal people) for ``team_summary``; no team reads '(no team)'."""
    db = store.store if isinstance(store, PolicyDb) else store
    teams = dict(db.rows("SELECT person_id, team FROM people"))
    sizes = dict(db.rows("SELECT coalesce(team, '(no team)'), count(*) FROM people WHERE is_internal GROUP BY 1"))
    return teams, sizes


def last_message_utc(store: Store | PolicyDb) -> datetime | None:
    """The latest ``messages.sent_utc`` (aware, UTC), or None for a store without messages."""
    db = store.store if isinstance(store, PolicyDb) else store
    last = db.scalar("SELECT max(sent_utc) FROM messages")
    return None if last is None else last.replace(tzinfo=timezone.utc)
