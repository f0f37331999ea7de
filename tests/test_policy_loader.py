"""Presets and policy.toml: what ships, how a charter merges, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from worklife.errors import PolicyError
from worklife.policy import builtin_presets, load_policy

REQUIRED = ["FR", "PT", "ES", "BE", "IE", "DE", "CA-ON", "AU", "CL", "CO", "AR", "EU-WTD"]


@pytest.mark.parametrize("code", REQUIRED)
def test_every_required_preset_ships_with_its_sources(code):
    p = builtin_presets()[code]
    assert p.disconnect.source and p.working_time.source
    assert p.disconnect.binding in ("law", "code_of_practice", "none")


def test_presets_encode_the_two_families_of_law():
    p = builtin_presets()
    assert p["PT"].disconnect.contact_prohibited and not p["PT"].disconnect.reply_not_owed
    assert p["AR"].disconnect.reply_not_owed and not p["AR"].disconnect.contact_prohibited
    assert p["AU"].disconnect.right_to_refuse and not p["AU"].disconnect.contact_prohibited
    assert p["IE"].disconnect.binding == "code_of_practice"
    assert (p["FR"].disconnect.applies_from_employees, p["BE"].disconnect.applies_from_employees,
            p["CA-ON"].disconnect.applies_from_employees) == (50, 20, 25)
    assert p["CL"].disconnect.min_disconnect_hours == 12
    eu = p["EU-WTD"].working_time
    assert (eu.daily_rest_hours, eu.weekly_rest_hours, eu.avg_weekly_hours, eu.reference_weeks) == (11, 35, 48, 17)
    assert (p["FR"].working_time.avg_weekly_hours, p["FR"].working_time.reference_weeks) == (44, 12)
    assert p["ES"].working_time.daily_rest_hours == 12


@pytest.mark.parametrize("jurisdiction, preset", [
    ("AU-NSW", "AU"), ("CA-ON", "CA-ON"), ("IT", "EU-WTD"), ("fr", "FR"), ("CA-QC", None), ("US", None), ("", None),
], ids=lambda v: str(v))
def test_each_jurisdiction_maps_to_a_preset_or_none(jurisdiction, preset):
    found = load_policy("auto").preset_for(jurisdiction)
    assert (found.code if found else None) == preset


def test_policy_toml_merges_a_charter_on_a_preset(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("""
preset = "FR"
name = "Example charter"
org_size = 120
urgent_patterns = ["\\\\bsev1\\\\b"]
[quiet_hours]
start = "20:00"
end = "08:00"
[[on_call]]
person = "USER07@example.com"
from = 2025-03-03T18:00:00+01:00
to = "2025-03-10T08:00:00+01:00"
[exempt]
levels = ["exec"]
people = ["user01@example.com"]
[scope]
teleworkers = ["user02@example.com"]
[presets.FR.working_time]
avg_weekly_hours = 42
""", encoding="utf-8")
    policy = load_policy(path)
    assert policy.mode == "FR"
    assert policy.presets["FR"].working_time.avg_weekly_hours == 42
    assert policy.presets["FR"].working_time.max_daily_hours == 10
    ch = policy.charter
    assert (ch.quiet_hours.start_s, ch.quiet_hours.end_s) == (20 * 3600, 8 * 3600)
    assert ch.on_call[0].person_id == "user07@example.com" and ch.on_call[0].start.utcoffset().seconds == 3600
    assert ch.exempt_levels == {"exec"} and ch.teleworkers == {"user02@example.com"}
    assert ch.urgent_patterns == (r"\bsev1\b",) and ch.org_size == 120


@pytest.mark.parametrize("text, message", [
    ("preset = \"XX\"", "policy.toml: preset: unknown preset 'XX'"),
    ("colour = 1", "policy.toml: colour: unknown key"),
    ("[quiet_hours]\nstart = \"25:00\"\nend = \"07:00\"", "policy.toml: quiet_hours.start: invalid local time '25:00'"),
    ("[quiet_hours]\nstart = \"20:00\"", "policy.toml: quiet_hours.end: missing"),
    ("[[on_call]]\nperson = \"a@example.com\"\nfrom = 2025-03-03T18:00:00\nto = 2025-03-04T08:00:00+00:00",
     "policy.toml: on_call[0].from: 2025-03-03T18:00:00 needs a UTC offset"),
    ("[[on_call]]\nperson = \"a@example.com\"\nfrom = 2025-03-05T18:00:00Z\nto = 2025-03-04T08:00:00Z",
     "policy.toml: on_call[0].to: must be after from"),
    ("org_size = \"big\"", "policy.toml: org_size: expected a number"),
    ("[presets.FR.working_time]\ndaily_rest_hours = -3", "presets.FR: working_time.daily_rest_hours: hours out of range"),
    ("[presets.FR.disconnect]\nbinding = \"maybe\"", "presets.FR: disconnect.binding: expected one of"),
    ("urgent_patterns = [\"(\"]", "policy.toml: urgent_patterns[0]: invalid regular expression"),
    ("preset = ", "policy.toml: invalid TOML"),
], ids=["unknown-preset", "unknown-key", "bad-time", "missing-end", "naive-on-call", "on-call-order",
        "org-size-type", "override-range", "override-enum", "bad-regex", "bad-toml"])
def test_policy_toml_errors_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value).startswith(str(path)) and message.split(": ", 1)[1] in str(err.value)
    assert message.split(": ")[0] in str(err.value)


def test_an_unknown_spec_is_neither_preset_nor_file():
    with pytest.raises(PolicyError, match="neither a preset"):
        load_policy("Narnia")
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(Path("no-such-policy.toml"))
