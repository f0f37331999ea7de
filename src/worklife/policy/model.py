"""Typed records of a policy: a jurisdiction preset, an organisation's charter, the two merged.

A **preset** summarises one jurisdiction's right-to-disconnect statute (or code of
practice) and its working-time limits, with sources and dates in force. It is a
summary for awareness, not legal advice. A **charter** is what an organisation adds
in its own ``policy.toml``: quiet hours, on-call rotas, exempt roles, org size.
A ``Policy`` is the charter plus the presets it checks people under.

Units: hours for durations, local wall time ``HH:MM`` for quiet hours, UTC for
instants (on-call windows are stored timezone-aware).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

BINDING = ("law", "code_of_practice", "none")
WORKER_SCOPES = ("all", "teleworkers", "remote")
EXCEPTIONS = (
    "force_majeure",
    "emergency",
    "required_by_law",
    "managerial_role",
    "permanent_availability_role",
    "on_call_window",
    "employee_consent",
)
SEVERITIES = ("high", "medium", "low", "info")

# EU member states: people there are checked under EU-WTD unless a national preset exists.
EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)


@dataclass(frozen=True)
class Disconnect:
    """The right-to-disconnect part of a preset (all fields from the statute or code)."""

    binding: str  # law | code_of_practice | none
    source: str  # statute or code, article
    in_force_from: date | None
    applies_from_employees: int  # 1: every employer
    requires_written_policy: bool
    requires_negotiation: bool
    contact_prohibited: bool  # employer contact itself is a breach (PT, CO, CL)
    reply_not_owed: bool  # contact allowed, no reply owed until working time (AR)
    right_to_refuse: bool  # the worker may refuse to read or answer (AU)
    worker_scope: str  # all | teleworkers | remote
    min_disconnect_hours: float | None  # continuous disconnection per 24 h (CL: 12)
    exceptions: frozenset[str]


@dataclass(frozen=True)
class WorkingTime:
    """Working-time limits (hours). None: no such statutory limit is checked."""

    source: str
    in_force_from: date | None
    daily_rest_hours: float | None  # consecutive rest per 24 h (EU: 11)
    weekly_rest_hours: float | None  # uninterrupted rest per 7 days, daily rest included (EU: 24 + 11)
    avg_weekly_hours: float | None  # average over the reference period (EU: 48)
    reference_weeks: int  # reference period for the average (EU: up to 4 months = 17 weeks)
    max_weekly_hours: float | None  # cap in any single week (FR: 48)
    max_daily_hours: float | None  # cap on any single local date (FR: 10)


@dataclass(frozen=True)
class Preset:
    """One jurisdiction (or the EU directive): what it requires and where that is written."""

    code: str  # FR, CA-ON, EU-WTD, ...
    name: str
    covers: frozenset[str]  # jurisdiction codes (country or country-subdivision) it applies to
    disconnect: Disconnect
    working_time: WorkingTime
    notes: str = ""


@dataclass(frozen=True)
class OnCall:
    """An agreed on-call window of one person (UTC-aware instants, [start, end))."""

    person_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class QuietHours:
    """Charter quiet hours in the recipient's local wall time; may wrap midnight."""

    start_s: int  # seconds after local midnight
    end_s: int
    include_non_workdays: bool = True  # weekends and public holidays are quiet all day


@dataclass(frozen=True)
class Charter:
    """An organisation's own rules written in policy.toml, on top of the presets."""

    name: str = ""
    quiet_hours: QuietHours | None = None
    on_call: tuple[OnCall, ...] = ()
    exempt_people: frozenset[str] = frozenset()
    exempt_levels: frozenset[str] = frozenset()
    consenting_people: frozenset[str] = frozenset()
    teleworkers: frozenset[str] | None = None  # None: not stated; see Policy.teleworkers_all
    teleworkers_all: bool | None = None
    urgent_patterns: tuple[str, ...] = (r"\burgent\b", r"\bincident\b", r"\boutage\b")
    org_size: int | None = None
    reply_expected_rule: bool = False  # charter forbids expecting off-hours replies everywhere
    manager_contact_rule: bool = False  # charter flags managers' off-hours contact with reports
    has_charter: bool = False  # a policy.toml was given (the org has written a charter)


@dataclass(frozen=True)
class Policy:
    """What `worklife check` applies: presets by jurisdiction plus the organisation's charter.

    ``mode`` is ``"auto"`` (each person under the preset of their own jurisdiction) or a
    preset code (only people that preset covers are checked).
    """

    mode: str
    presets: dict[str, Preset]
    charter: Charter = field(default_factory=Charter)
    source: str = ""  # preset name or policy.toml path
    assume: str | None = None  # a preset code: everyone is checked under it, whatever their jurisdiction

    def preset_for(self, jurisdiction: str | None) -> Preset | None:
        """The preset a person of ``jurisdiction`` is checked under, or None.

        Exact code first (``CA-ON``), then the country (``AU-NSW`` -> ``AU``), then
        EU-WTD for EU member states without a national preset.
        """
        if not jurisdiction:
            return None
        code = jurisdiction.strip().upper()
        country = code.split("-", 1)[0]
        found = None
        for candidate in (code, country):
            for p in self.presets.values():
                if candidate in p.covers:
                    found = p
                    break
            if found:
                break
        if found is None and country in EU_MEMBERS and "EU-WTD" in self.presets:
            found = self.presets["EU-WTD"]
        if found is None:
            return None
        if self.mode != "auto" and found.code != self.mode:
            # A single-preset run checks only the people that preset covers; EU-WTD covers
            # every EU member state's people for working time.
            if self.mode == "EU-WTD" and country in EU_MEMBERS:
                return self.presets["EU-WTD"]
            return None
        return found
