"""Load jurisdiction presets and an organisation's policy.toml into a ``Policy``.

``load_policy("PT")`` checks the people a preset covers; ``load_policy("auto")``
checks everyone under the preset of their own jurisdiction; ``load_policy(path)``
reads a policy.toml (the charter) on top of ``preset = "auto" | CODE``. Every error
is a PolicyError naming the file and the key, e.g.
``policy.toml: quiet_hours.start: invalid local time '25:00'``.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import replace
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from worklife.errors import ConfigError, PolicyError
from worklife.policy.model import (
    BINDING,
    EXCEPTIONS,
    WORKER_SCOPES,
    Charter,
    Disconnect,
    OnCall,
    Policy,
    Preset,
    QuietHours,
    WorkingTime,
)
from worklife.workcal import parse_hhmm

log = logging.getLogger(__name__)

_PRESET_KEYS = {"code", "name", "covers", "notes", "disconnect", "working_time"}
_DISCONNECT_KEYS = {
    "binding", "source", "in_force_from", "applies_from_employees", "requires_written_policy",
    "requires_negotiation", "contact_prohibited", "reply_not_owed", "right_to_refuse",
    "worker_scope", "min_disconnect_hours", "exceptions",
}
_WT_KEYS = {
    "source", "in_force_from", "daily_rest_hours", "weekly_rest_hours", "avg_weekly_hours",
    "reference_weeks", "max_weekly_hours", "max_daily_hours",
}
_POLICY_KEYS = {
    "preset", "name", "org_size", "quiet_hours", "on_call", "exempt", "scope",
    "urgent_patterns", "reply_expected", "manager_contact", "presets",
}


class _Reader:
    """Typed access to one TOML table; every error names the file and the dotted key."""

    def __init__(self, data: dict[str, Any], file: str, prefix: str = ""):
        self.data, self.file, self.prefix = data, file, prefix

    def err(self, key: str, message: str) -> PolicyError:
        return PolicyError(f"{self.file}: {self.prefix}{key}: {message}")

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.err(key, f"unknown key (expected one of {', '.join(sorted(allowed))})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        if key not in self.data:
            if required:
                raise self.err(key, "missing")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.err(key, f"expected {_names(kinds)}, not {value!r}")
        if not isinstance(value, kinds):
            raise self.err(key, f"expected {_names(kinds)}, not {value!r}")
        return value

    def hours(self, key: str) -> float | None:
        value = self.get(key, (int, float))
        if value is None:
            return None
        if not 0 < value <= 24 * 7 * 4:
            raise self.err(key, f"hours out of range: {value!r}")
        return float(value)

    def sub(self, key: str) -> _Reader:
        return _Reader(self.get(key, dict, {}), self.file, f"{self.prefix}{key}.")

    def strings(self, key: str) -> list[str]:
        value = self.get(key, list, [])
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.err(f"{key}[{i}]", f"expected a string, not {item!r}")
        return value


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join({int: "a number", float: "a number", str: "a string", bool: "true/false",
                        list: "a list", dict: "a table", date: "a date"}.get(k, k.__name__) for k in kinds)


def _parse_preset(data: dict[str, Any], file: str) -> Preset:
    r = _Reader(data, file)
    r.check_keys(_PRESET_KEYS)
    d = r.sub("disconnect")
    d.check_keys(_DISCONNECT_KEYS)
    binding = d.get("binding", str, required=True)
    if binding not in BINDING:
        raise d.err("binding", f"expected one of {', '.join(BINDING)}, not {binding!r}")
    scope = d.get("worker_scope", str, "all")
    if scope not in WORKER_SCOPES:
        raise d.err("worker_scope", f"expected one of {', '.join(WORKER_SCOPES)}, not {scope!r}")
    exceptions = d.strings("exceptions")
    for i, e in enumerate(exceptions):
        if e not in EXCEPTIONS:
            raise d.err(f"exceptions[{i}]", f"unknown exception {e!r} (expected one of {', '.join(EXCEPTIONS)})")
    disconnect = Disconnect(
        binding=binding,
        source=d.get("source", str, required=True),
        in_force_from=d.get("in_force_from", date),
        applies_from_employees=d.get("applies_from_employees", int, 1),
        requires_written_policy=d.get("requires_written_policy", bool, False),
        requires_negotiation=d.get("requires_negotiation", bool, False),
        contact_prohibited=d.get("contact_prohibited", bool, False),
        reply_not_owed=d.get("reply_not_owed", bool, False),
        right_to_refuse=d.get("right_to_refuse", bool, False),
        worker_scope=scope,
        min_disconnect_hours=d.hours("min_disconnect_hours"),
        exceptions=frozenset(exceptions),
    )
    w = r.sub("working_time")
    w.check_keys(_WT_KEYS)
    ref = w.get("reference_weeks", int, 17)
    if not 1 <= ref <= 52:
        raise w.err("reference_weeks", f"expected 1..52 weeks, not {ref!r}")
    working_time = WorkingTime(
        source=w.get("source", str, ""),
        in_force_from=w.get("in_force_from", date),
        daily_rest_hours=w.hours("daily_rest_hours"),
        weekly_rest_hours=w.hours("weekly_rest_hours"),
        avg_weekly_hours=w.hours("avg_weekly_hours"),
        reference_weeks=ref,
        max_weekly_hours=w.hours("max_weekly_hours"),
        max_daily_hours=w.hours("max_daily_hours"),
    )
    code = r.get("code", str, required=True).upper()
    covers = r.strings("covers") or [code]
    return Preset(code=code, name=r.get("name", str, code), covers=frozenset(c.upper() for c in covers),
                  disconnect=disconnect, working_time=working_time, notes=r.get("notes", str, ""))


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{label}: policy file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{label}: invalid TOML: {exc}") from exc


def builtin_presets() -> dict[str, Preset]:
    """Every preset shipped in ``worklife/policy/presets``, by code."""
    out: dict[str, Preset] = {}
    folder = resources.files("worklife.policy").joinpath("presets")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        label = f"presets/{entry.name}"
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{label}: invalid TOML: {exc}") from exc
        preset = _parse_preset(data, label)
        out[preset.code] = preset
    return out


def _aware(value: Any, r: _Reader, key: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise r.err(key, f"invalid date-time {value!r}") from None
    if not isinstance(value, datetime):
        raise r.err(key, f"expected a date-time with a UTC offset, not {value!r}")
    if value.tzinfo is None:
        raise r.err(key, f"{value.isoformat()} needs a UTC offset (e.g. {value.isoformat()}+01:00)")
    return value


def _parse_charter(data: dict[str, Any], file: str) -> Charter:
    r = _Reader(data, file)
    quiet = None
    if "quiet_hours" in data:
        q = r.sub("quiet_hours")
        q.check_keys({"start", "end", "include_non_workdays"})
        bounds = []
        for key in ("start", "end"):
            try:
                bounds.append(parse_hhmm(q.get(key, str, required=True)))
            except ConfigError as exc:
                raise q.err(key, str(exc)) from None
        if bounds[0] == bounds[1]:
            raise q.err("end", "quiet hours must not start and end at the same time")
        quiet = QuietHours(bounds[0], bounds[1], q.get("include_non_workdays", bool, True))
    rota = []
    for i, item in enumerate(r.get("on_call", list, [])):
        o = _Reader(item if isinstance(item, dict) else {}, file, f"on_call[{i}].")
        if not isinstance(item, dict):
            raise r.err(f"on_call[{i}]", "expected a table with person, from, to")
        o.check_keys({"person", "from", "to"})
        start = _aware(o.get("from", (str, datetime), required=True), o, "from")
        end = _aware(o.get("to", (str, datetime), required=True), o, "to")
        if end <= start:
            raise o.err("to", "must be after from")
        rota.append(OnCall(o.get("person", str, required=True).strip().lower(), start, end))
    exempt = r.sub("exempt")
    exempt.check_keys({"people", "levels", "consenting"})
    scope = r.sub("scope")
    scope.check_keys({"teleworkers"})
    tele = scope.get("teleworkers", (str, list))
    tele_all: bool | None = None
    tele_set: frozenset[str] | None = None
    if isinstance(tele, str):
        if tele not in ("all", "none"):
            raise scope.err("teleworkers", f"expected \"all\", \"none\" or a list of person ids, not {tele!r}")
        tele_all = tele == "all"
        tele_set = frozenset()
    elif isinstance(tele, list):
        tele_set = frozenset(p.lower() for p in scope.strings("teleworkers"))
        tele_all = False
    patterns = r.strings("urgent_patterns") if "urgent_patterns" in data else None
    for i, p in enumerate(patterns or []):
        try:
            re.compile(p)
        except re.error as exc:
            raise r.err(f"urgent_patterns[{i}]", f"invalid regular expression: {exc}") from None
    org_size = r.get("org_size", int)
    if org_size is not None and org_size < 1:
        raise r.err("org_size", f"expected a positive number of employees, not {org_size}")
    kwargs: dict[str, Any] = {}
    if patterns is not None:
        kwargs["urgent_patterns"] = tuple(patterns)
    return Charter(
        name=r.get("name", str, ""),
        quiet_hours=quiet,
        on_call=tuple(rota),
        exempt_people=frozenset(p.lower() for p in exempt.strings("people")),
        exempt_levels=frozenset(exempt.strings("levels")),
        consenting_people=frozenset(p.lower() for p in exempt.strings("consenting")),
        teleworkers=tele_set,
        teleworkers_all=tele_all,
        org_size=org_size,
        reply_expected_rule=r.get("reply_expected", bool, False),
        manager_contact_rule=r.get("manager_contact", bool, False),
        has_charter=True,
        **kwargs,
    )


def _override(presets: dict[str, Preset], data: dict[str, Any], file: str) -> dict[str, Preset]:
    """Apply ``[presets.CODE.disconnect|working_time]`` overrides (e.g. a collective agreement)."""
    out = dict(presets)
    r = _Reader(data, file, "presets.")
    for code in data:
        if code.upper() not in out:
            raise r.err(code, f"no such preset (known: {', '.join(sorted(out))})")
        base = out[code.upper()]
        sub = r.sub(code)
        sub.check_keys({"disconnect", "working_time"})
        merged = {
            "code": base.code, "name": base.name, "covers": sorted(base.covers), "notes": base.notes,
            "disconnect": {**_as_dict(base.disconnect), **sub.get("disconnect", dict, {})},
            "working_time": {**_as_dict(base.working_time), **sub.get("working_time", dict, {})},
        }
        out[base.code] = _parse_preset(merged, f"{file}: presets.{code}")
    return out


def _as_dict(record: Disconnect | WorkingTime) -> dict[str, Any]:
    d = {k: v for k, v in record.__dict__.items() if v is not None}
    if "exceptions" in d:
        d["exceptions"] = sorted(d["exceptions"])
    return d


def load_policy(spec: str | Path) -> Policy:
    """A preset code (``PT``, ``CA-ON``, ``EU-WTD``), ``auto``, or the path of a policy.toml."""
    presets = builtin_presets()
    text = str(spec)
    if text.lower() == "auto":
        return Policy(mode="auto", presets=presets, source="auto")
    if text.upper() in presets:
        return Policy(mode=text.upper(), presets=presets, source=text.upper())
    path = Path(text)
    if path.suffix.lower() != ".toml" and not path.exists():
        raise PolicyError(
            f"{text}: neither a preset ({', '.join(sorted(presets))}, auto) nor a policy.toml file"
        )
    data = _read_toml(path, text)
    r = _Reader(data, text)
    r.check_keys(_POLICY_KEYS)
    mode = r.get("preset", str, "auto")
    if mode.lower() != "auto" and mode.upper() not in presets:
        raise r.err("preset", f"unknown preset {mode!r} (known: auto, {', '.join(sorted(presets))})")
    mode = "auto" if mode.lower() == "auto" else mode.upper()
    presets = _override(presets, r.get("presets", dict, {}), text)
    charter = _parse_charter({k: v for k, v in data.items() if k not in ("preset", "presets")}, text)
    return Policy(mode=mode, presets=presets, charter=charter, source=text)


def with_charter(policy: Policy, **changes: Any) -> Policy:
    """A copy of ``policy`` with charter fields changed (for callers building policies in code)."""
    return replace(policy, charter=replace(policy.charter, **changes))
