"""The policy engine: who is checked under which preset, then every rule, as Findings.

Each internal person is checked under the preset of their own jurisdiction
(``people.jurisdiction``, falling back only to an explicit org default
``defaults.jurisdiction``); people without one, or whose jurisdiction has no preset,
get an ``info`` finding and are not guessed. Rule ids:

- ``rtd.contact``: off-hours contact from a colleague where contact itself is prohibited (PT, CO, CL).
- ``rtd.reply_expected``: an after-hours reply within the reply window to off-hours contact, where
  no reply is owed (AR), the worker may refuse (AU, IE), contact is prohibited, or the charter says so.
- ``rtd.min_disconnect``: fewer than the preset's continuous disconnection hours (CL: 12 h / 24 h).
- ``rtd.no_policy``: the organisation must have a written policy or negotiate one and gave no charter.
- ``charter.quiet_hours``: contact in the charter's quiet hours (recipient's local time).
- ``charter.manager_contact``: a manager's contact with a report in the report's quiet hours (charter
  ``quiet_hours``; without them, off-hours), when the charter sets ``manager_contact = true``
  (otherwise see ``boundary_pressure()["manager"]``).
- ``wt.daily_rest``, ``wt.weekly_rest``, ``wt.avg_weekly_hours``, ``wt.max_weekly_hours``,
  ``wt.max_daily_hours``: working-time limits (see ``rest``).
- ``person.no_jurisdiction``, ``person.no_preset``, ``scope.assumed``, ``charter.exemption_ignored``: notes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from worklife.config import Config
from worklife.policy._localtime import prepare
from worklife.policy.boundary import build_contacts
from worklife.policy.findings import Event, Finding, sort_findings
from worklife.policy.model import Charter, Policy, Preset
from worklife.policy.rest import RULES, hours_findings, register_checks, rest_findings
from worklife.policy.sql import PolicyDb, as_db
from worklife.store import Store

log = logging.getLogger(__name__)

DISCLAIMER = ("Presets summarise statutes and codes for awareness; they are not legal advice. "
              "Check each source before acting on a finding.")


@dataclass
class CheckResult:
    findings: list[Finding]
    meta: dict[str, Any] = field(default_factory=dict)


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None)


def _exempt(ch: Charter, level_of: dict[str, str | None]) -> set[str]:
    return set(ch.exempt_people) | {p for p, lv in level_of.items() if lv and lv in ch.exempt_levels}


def _rtd_allows_exemption(p: Preset) -> bool:
    d = p.disconnect
    return bool(d.exceptions & {"managerial_role", "permanent_availability_role"}) \
        or not (d.contact_prohibited or d.reply_not_owed)


def _contact_rows(db: PolicyDb, where: str, extra: str = "") -> list[tuple]:
    return db.rows(f"""
      SELECT c.recipient_id, c.sender_id, strftime(c.r_local_date, '%G-W%V') AS week,
             c.message_key, c.sent_utc, strftime(c.r_local_ts, '%Y-%m-%d %H:%M') {extra}
      FROM pol_contact c JOIN pol_rtd r ON r.person_id = c.recipient_id
      WHERE {where} AND NOT EXISTS (SELECT 1 FROM pol_oncall o WHERE o.person_id = c.recipient_id
                                    AND c.sent_utc >= o.s AND c.sent_utc < o.e)
      ORDER BY 1, 2, c.sent_utc, c.message_key""")


def _group(rows: list[tuple], rule: str, severity: str, presets: dict[str, Preset], message: str,
           kind: str = "message", source: str | None = None) -> list[Finding]:
    acc: dict[tuple[str, str, str], list[Event]] = {}
    for rcpt, sender, week, key, utc, local, *rest in rows:
        detail = rest[0] if rest else ""
        acc.setdefault((rcpt, sender, week), []).append(Event(kind, key, utc.isoformat() + "Z", local, detail))
    out = []
    for (rcpt, sender, week), events in sorted(acc.items()):
        p = presets.get(rcpt)
        src = source if source is not None else (p.disconnect.source if p else "")
        out.append(Finding(rule, severity, p.code if p else "", rcpt, sender, week, len(events),
                           message.format(n=len(events)), src, tuple(events)))
    return out


def _charter_only(ch: Charter, level_of: dict[str, str | None], rtd: dict[str, Preset]) -> pa.Table:
    """``pol_rtd`` rows for the charter's ``reply_expected`` rule: internal people no preset protects.

    The charter is the organisation's own rule, so it covers everyone (minus its exemptions).
    """
    ids = sorted(p for p in level_of if p not in rtd and p not in _exempt(ch, level_of)) \
        if ch.reply_expected_rule else []
    return pa.table({
        "person_id": pa.array(ids, pa.string()), "preset": pa.array([""] * len(ids), pa.string()),
        "in_force": pa.array([datetime(1900, 1, 1)] * len(ids), pa.timestamp("us")),
        "prohibited": pa.array([False] * len(ids), pa.bool_()),
        "reply_rule": pa.array([True] * len(ids), pa.bool_()),
        "urgent_ok": pa.array([True] * len(ids), pa.bool_())})


def run_check(store: Store | PolicyDb, config: Config, policy: Policy) -> CheckResult:
    """Apply ``policy`` to the store (or a ``PolicyDb``: DuckDB or Spark); findings most severe first."""
    db = as_db(store)
    prepare(db, config)
    ch = policy.charter
    auto = Policy(mode="auto", presets=policy.presets)
    sched = db.built["pol_sched"]  # checked: internal and measured people (contacts are only recipients)
    people = sorted((p, j, lv, tz) for p, j, lv, tz, internal, measured in zip(
        *(sched[c].to_pylist() for c in ("person_id", "jurisdiction", "level", "tz", "is_internal", "is_measured")))
        if internal and measured)
    org_size = ch.org_size or len(people)
    findings: list[Finding] = []
    checked: dict[str, Preset] = {}
    tz_of: dict[str, str] = {}
    out_of_scope = 0
    unchecked = {"person.no_jurisdiction": 0, "person.no_preset": 0}
    for pid, jur, level, tz in people:
        tz_of[pid] = tz
        if policy.assume:
            checked[pid] = policy.presets[policy.assume]
            continue
        if not jur:
            unchecked["person.no_jurisdiction"] += 1
            findings.append(Finding("person.no_jurisdiction", "info", "", pid, None, None, 1,
                                    "no jurisdiction in people (and no defaults.jurisdiction): not checked"))
            continue
        preset = policy.preset_for(jur)
        if preset is None:
            if auto.preset_for(jur) is None:
                unchecked["person.no_preset"] += 1
                findings.append(Finding("person.no_preset", "info", jur, pid, None, None, 1,
                                        f"no preset covers jurisdiction {jur!r}: not checked"))
            else:
                out_of_scope += 1
            continue
        checked[pid] = preset
    # Right-to-disconnect scope: binding or code, org size, worker type, exemptions.
    rtd: dict[str, Preset] = {}
    assumed: set[str] = set()
    level_of = {pid: level for pid, _, level, _ in people}
    for pid, p in checked.items():
        d = p.disconnect
        if d.binding == "none" or org_size < d.applies_from_employees:
            continue
        if d.worker_scope != "all":
            if ch.teleworkers_all is None:
                assumed.add(p.code)
            elif not ch.teleworkers_all and pid not in (ch.teleworkers or frozenset()):
                continue
        exempt = pid in ch.exempt_people or (level_of.get(pid) or "") in ch.exempt_levels
        if exempt and _rtd_allows_exemption(p):
            continue
        if exempt:
            findings.append(Finding("charter.exemption_ignored", "info", p.code, pid, None, None, 1,
                                    f"exempt in the charter, but the {p.code} preset has no managerial or "
                                    "availability-role exception: still checked", d.source))
        if pid in ch.consenting_people and "employee_consent" in d.exceptions:
            continue
        rtd[pid] = p
    for code in sorted(assumed):
        findings.append(Finding("scope.assumed", "info", code, None, None, None, 1,
                                f"{code} applies to {policy.presets[code].disconnect.worker_scope} only; "
                                "policy.toml [scope] teleworkers is not set, so everyone was checked"))
    for code in sorted({p.code for p in checked.values()}):
        d = policy.presets[code].disconnect
        if (d.requires_written_policy or d.requires_negotiation) and d.binding != "none" \
                and org_size >= d.applies_from_employees and not ch.has_charter:
            what = "negotiate or publish" if d.requires_negotiation else "publish"
            findings.append(Finding("rtd.no_policy", "low", code, None, None, None, 1,
                                    f"{code}: an organisation of {org_size} people must {what} a right-to-disconnect "
                                    "policy; no charter (policy.toml) was given", d.source))
    # Tables the rules join: who is protected, since when, and on-call windows.
    rtd_tbl = pa.table({
        "person_id": pa.array(list(rtd), pa.string()),
        "preset": pa.array([p.code for p in rtd.values()], pa.string()),
        "in_force": pa.array([datetime.combine(p.disconnect.in_force_from, datetime.min.time())
                              if p.disconnect.in_force_from else datetime(1900, 1, 1) for p in rtd.values()],
                             pa.timestamp("us")),
        "prohibited": pa.array([p.disconnect.contact_prohibited for p in rtd.values()], pa.bool_()),
        "reply_rule": pa.array([p.disconnect.reply_not_owed or p.disconnect.right_to_refuse
                                or p.disconnect.contact_prohibited or ch.reply_expected_rule
                                for p in rtd.values()], pa.bool_()),
        "urgent_ok": pa.array([bool(p.disconnect.exceptions & {"force_majeure", "emergency"})
                               for p in rtd.values()], pa.bool_())})
    db.load("pol_rtd", pa.concat_tables([rtd_tbl, _charter_only(ch, level_of, rtd)]))
    oncall = pa.table({"person_id": pa.array([o.person_id for o in ch.on_call], pa.string()),
                       "s": pa.array([_naive_utc(o.start) for o in ch.on_call], pa.timestamp("us")),
                       "e": pa.array([_naive_utc(o.end) for o in ch.on_call], pa.timestamp("us"))})
    db.load("pol_oncall", oncall)
    build_contacts(db, config, urgent_patterns=ch.urgent_patterns, quiet=ch.quiet_hours, prepared=True)
    base = "c.off_hours AND c.sender_internal AND NOT c.live AND c.sent_utc >= r.in_force AND NOT (c.urgent AND r.urgent_ok)"
    findings += _group(_contact_rows(db, base + " AND r.prohibited"), "rtd.contact", "high", rtd,
                       "{n} message(s) sent during the rest period, where employer contact is prohibited")
    if ch.manager_contact_rule:
        mgr_rows = db.rows(f"""
          SELECT c.recipient_id, c.sender_id, strftime(c.r_local_date, '%G-W%V'), c.message_key, c.sent_utc,
                 strftime(c.r_local_ts, '%Y-%m-%d %H:%M')
          FROM pol_contact c WHERE {'c.quiet' if ch.quiet_hours else 'c.off_hours'} AND c.from_manager AND NOT c.live
            AND NOT EXISTS (SELECT 1 FROM pol_oncall o WHERE o.person_id = c.recipient_id
                            AND c.sent_utc >= o.s AND c.sent_utc < o.e)
          ORDER BY 1, 2, c.sent_utc, c.message_key""")
        # The charter is the organisation's own rule: it covers every internal person, preset or not.
        findings += _group([r for r in mgr_rows if r[0] in level_of and r[0] not in _exempt(ch, level_of)],
                           "charter.manager_contact", "medium", checked,
                           "{n} message(s) from the manager outside the report's working time",
                           source=f"charter {policy.source}")
    reply_rows = db.rows("""
      SELECT y.recipient_id, y.sender_id, strftime(CAST(y.reply_local_ts AS DATE), '%G-W%V'), y.message_key,
             y.sent_utc, strftime(y.r_local_ts, '%Y-%m-%d %H:%M'),
             'answered ' || strftime(y.reply_local_ts, '%H:%M') || ' (' || y.reply_key || ')', r.preset
      FROM pol_replies y JOIN pol_rtd r ON r.person_id = y.recipient_id
      JOIN pol_contact c ON c.message_key = y.message_key AND c.recipient_id = y.recipient_id
      WHERE r.reply_rule AND c.sender_internal AND y.sent_utc >= r.in_force
        AND NOT (c.urgent AND r.urgent_ok)
        AND NOT EXISTS (SELECT 1 FROM pol_oncall o WHERE o.person_id = y.recipient_id
                        AND y.sent_utc >= o.s AND y.sent_utc < o.e)
      ORDER BY 1, 2, y.sent_utc, y.message_key""")
    for f in _group([r[:7] for r in reply_rows], "rtd.reply_expected", "high", rtd,
                    "{n} off-hours message(s) answered off-hours within the reply window: a reply is not owed"):
        if f.jurisdiction not in policy.presets:  # the charter's rule for someone without a preset
            findings.append(replace(f, severity="medium", source=f"charter {policy.source}"))
            continue
        d = policy.presets[f.jurisdiction].disconnect
        sev = "high" if (d.reply_not_owed or d.contact_prohibited) and d.binding == "law" else \
            ("medium" if d.binding == "law" or ch.reply_expected_rule else "low")
        findings.append(replace(f, severity=sev))
    if ch.quiet_hours is not None:
        quiet_rows = db.rows("""
          SELECT c.recipient_id, c.sender_id, strftime(c.r_local_date, '%G-W%V'), c.message_key, c.sent_utc,
                 strftime(c.r_local_ts, '%Y-%m-%d %H:%M')
          FROM pol_contact c WHERE c.quiet AND c.sender_internal
            AND c.recipient_id IN (SELECT person_id FROM pol_sched WHERE is_internal)
            AND NOT EXISTS (SELECT 1 FROM pol_oncall o WHERE o.person_id = c.recipient_id
                            AND c.sent_utc >= o.s AND c.sent_utc < o.e)
          ORDER BY 1, 2, c.sent_utc, c.message_key""")
        quiet_rows = [r for r in quiet_rows if r[0] in level_of and r[0] not in _exempt(ch, level_of)]
        findings += _group(quiet_rows, "charter.quiet_hours", "medium", checked,
                           "{n} message(s) sent in the charter's quiet hours", source=f"charter {policy.source}")
    # Working time.
    register_checks(db, checked, set(rtd), config)
    source_of = {pid: p.working_time.source for pid, p in checked.items()}
    wt: list[Finding] = []
    for rule in RULES:
        src = source_of if rule.rule.startswith("wt.") else {pid: p.disconnect.source for pid, p in rtd.items()}
        wt += rest_findings(db, tz_of, rule, src)
    wt += hours_findings(db, config, source_of)
    findings += [replace(f, jurisdiction=checked[f.person_id].code) for f in wt]
    n = int(config["policy.samples"])
    findings = [replace(f, samples=f.samples[:n]) for f in findings]
    span = db.store.data_span_utc()
    meta = {
        "policy": policy.source, "mode": policy.mode, "disclaimer": DISCLAIMER,
        "org_size": org_size, "org_size_from": "policy.toml" if ch.org_size else "people table",
        "people_checked": len(checked), "people_rtd_scope": len(rtd),
        "people_out_of_scope": out_of_scope, "engine": db.engine,
        "people_no_jurisdiction": unchecked["person.no_jurisdiction"],
        "people_no_preset": unchecked["person.no_preset"], "assumed_preset": policy.assume,
        "by_preset": {c: sum(1 for p in checked.values() if p.code == c) for c in sorted({p.code for p in checked.values()})},
        "data_span_utc": [span[0].isoformat(), span[1].isoformat()] if span else None,
        "presets": {c: {"disconnect": policy.presets[c].disconnect.source,
                        "in_force_from": str(policy.presets[c].disconnect.in_force_from),
                        "working_time": policy.presets[c].working_time.source}
                    for c in sorted({p.code for p in checked.values()})},
    }
    return CheckResult(sort_findings(findings), meta)
