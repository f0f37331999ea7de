"""Settings registry: every constant worklife uses, with its default, unit and meaning.

Values are read from ``worklife.toml`` (sections match the prefix before the dot:
``[metrics] email_sent_minutes = 5``) and may be overridden by flags. ``worklife
config show`` prints the values in force; ``docs/configuration.md`` is generated from
the same registry, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worklife.errors import ConfigError, SettingError


@dataclass(frozen=True)
class Setting:
    """One configurable constant."""

    name: str  # "section.key"
    default: Any
    unit: str
    help: str


STATUS_TITLE_PATTERNS = [
    r"\bstand[- ]?ups?\b",
    r"\bstatus\b",
    r"\bsync\b",
    r"\bcheck[- ]?ins?\b",
    r"\bweekly (update|review|meeting)\b",
    r"\bprogress (update|review)\b",
    r"\bscrum\b",
    r"\bhuddle\b",
]

WORK_ABOUT_WORK_CATEGORIES = {
    "coordination/status": STATUS_TITLE_PATTERNS,
    "coordination/planning": [r"\bplanning\b", r"\broadmap\b", r"\bsprint\b", r"\bgrooming\b",
                              r"\brefinement\b", r"\bretro(spective)?\b", r"\bkick-?off\b"],
    "people/1:1": [r"\b1[:-]1\b", r"\bone[- ]on[- ]one\b", r"\b1on1\b"],
    "focus": [r"\bfocus\b", r"\bno[- ]meeting\b", r"\bdeep work\b", r"\bheads[- ]down\b"],
    "skilled/work": [r"\breview\b", r"\bdesign\b", r"\bworkshop\b", r"\bpairing\b",
                     r"\binterview\b", r"\bcustomer\b", r"\bdemo\b", r"\barchitecture\b"],
}

SETTINGS: list[Setting] = [
    # Org defaults used when a person lacks a value (the fallback is recorded).
    Setting("defaults.tz", "UTC", "IANA zone", "Time zone of people whose zone is unknown."),
    Setting("defaults.work_start", "09:00", "local HH:MM", "Start of working hours."),
    Setting("defaults.work_end", "17:00", "local HH:MM", "End of working hours."),
    Setting("defaults.workdays", "Mon-Fri", "day list", "Working days, e.g. Mon-Fri or Sun-Thu."),
    Setting("defaults.jurisdiction", "", "ISO 3166", "Jurisdiction for public holidays and policy; empty: none."),
    # Metric constants (Viva Insights where public, see docs/metrics.md).
    Setting("metrics.email_sent_minutes", 5.0, "minutes", "Time credited per e-mail sent."),
    Setting("metrics.email_received_minutes", 2.5, "minutes", "Time credited per e-mail received on To/Cc."),
    Setting("metrics.chat_message_seconds", 30, "seconds", "Time credited per chat message sent."),
    Setting("metrics.chat_session_gap_minutes", 15.0, "minutes", "Chat messages closer than this form one session."),
    Setting("metrics.meeting_min_people", 2, "people", "Meetings with fewer people are not meetings."),
    Setting("metrics.meeting_max_hours", 8.0, "hours", "Longer events are excluded (placeholders, OOO)."),
    Setting("metrics.large_meeting_invitees", 9, "invitees", "Large meeting: at least this many invitees, organizer included."),
    Setting("metrics.long_meeting_hours", 1.0, "hours", "Long meeting: strictly longer than this."),
    Setting("metrics.focus_block_hours", 2.0, "hours", "Focus: meeting-free blocks of at least this length in working hours."),
    Setting("metrics.uninterrupted_block_hours", 1.0, "hours", "Uninterrupted: activity-free blocks of at least this length in working hours."),
    Setting("metrics.span_min_hours", 4.0, "hours", "Workweek span: lower clamp per active day."),
    Setting("metrics.span_max_hours", 16.0, "hours", "Workweek span: upper clamp per active day."),
    Setting("metrics.active_block_minutes", 30, "minutes", "Block size of active connected hours (local clock aligned)."),
    Setting("metrics.quiet_day_max_after_hours_blocks", 1, "hour blocks", "A day is quiet with at most this many local clock hours touched by after-hours collaboration."),
    Setting("metrics.over_hours_threshold", 40.0, "hours", "over_40h: workweek span strictly above this."),
    Setting("metrics.status_title_patterns", STATUS_TITLE_PATTERNS, "regex list", "Recurring meetings whose title matches any (case-insensitive) are status meetings."),
    Setting("metrics.work_about_work_categories", WORK_ABOUT_WORK_CATEGORIES, "regex lists", "Hierarchical title/channel/subject categories; first match wins, in order."),
    Setting("metrics.batch_people", 2000, "people", "DuckDB engine: measure people in batches of this size (bounds memory; 0 = all at once)."),
    Setting("metrics.memory_limit", "4GB", "DuckDB size", "DuckDB engine: memory limit while metric results are computed and stored (beyond it DuckDB spills to disk; never raises a lower limit; empty: DuckDB's default, 80% of RAM)."),
    Setting("metrics.hourly_cost", 75.0, "currency/person-hour", "Cost of one person-hour of meeting time (Viva default)."),
    Setting("metrics.inactive_week_z", -2.0, "z-score", "Person-week flagged inactive at or below this z against the person's own mean."),
    Setting("metrics.holiday_week_z", -1.0, "z-score", "Week flagged as a holiday week below this org-mean z."),
    Setting("metrics.min_mean_collaboration_hours", 5.0, "hours/week", "Validation: people whose mean weekly collaboration is below this are listed as having little recorded activity."),
    Setting("metrics.tz_skew_min_gain", 0.2, "share", "Validation: flag a source when a whole-hour shift puts at least this much more activity inside working hours."),
    # Privacy.
    Setting("privacy.min_group_size", 10, "people", "Group aggregates over fewer people are suppressed everywhere."),
    Setting("privacy.keep_titles", False, "bool", "Keep full titles; otherwise only allowlisted phrases are shown. At ingest: store mail subjects, meeting titles and chat channel names as text (else their category and a keyed hash)."),
    Setting("privacy.pseudonymise", False, "bool", "Show keyed pseudonyms instead of people's ids, addresses and names in every output that names people (check, boundaries, explain, digest, metrics --by person)."),
    Setting("privacy.key_file", "", "path", "Pseudonym key file; empty: <store>.key beside the store, created (0600) on first use."),
    # Boundary pressure.
    Setting("boundary.reply_window_minutes", 60.0, "minutes", "An after-hours reply within this of an after-hours message signals expected availability."),
    Setting("boundary.channel_member_contact", False, "bool", "Count chat channel members (not only To/Cc/Bcc recipients) as contacted by a channel post."),
    # Policy checks (docs/policy.md).
    Setting("policy.session_gap_minutes", 60.0, "minutes", "Working-time estimate: activities closer than this form one work session."),
    Setting("policy.session_tail_minutes", 15.0, "minutes", "Working-time estimate: credit added after the last activity of each session."),
    Setting("policy.samples", 3, "events", "Sample events shown per finding."),
    Setting("policy.report_policy", "auto", "preset|auto|path", "Policy the report's policy section is checked under."),
    # Guard.
    Setting("guard.max_message_bytes", 10_000_000, "bytes", "Largest message the guard accepts."),
    Setting("guard.urgent_per_sender_per_day", 3, "messages/day", "Urgent overrides allowed per sender per day."),
    Setting("guard.retry_max_attempts", 8, "attempts", "Upstream delivery attempts before dead-letter."),
    Setting("guard.retry_base_seconds", 30.0, "seconds", "First retry delay; doubles each attempt."),
    Setting("guard.default_mode", "hold", "hold|deliver_now", "What the guard does with a message outside the recipient's window."),
    Setting("guard.jurisdiction_modes", {"AR": "deliver_now"}, "jurisdiction -> mode", "Per-jurisdiction mode (e.g. AR: sending allowed, no reply owed until the shift starts); a country code also covers its subdivisions."),
    Setting("guard.reply_footer", "No reply is expected before {local} ({tz}).", "template", "Footer added in deliver_now mode; {local} and {tz} are filled in."),
    Setting("guard.quiet_hours", {}, "address -> HH:MM-HH:MM list", "Personal quiet hours (local) during which nothing is delivered, keyed by e-mail or person_id."),
    Setting("guard.smtp_networks", ["127.0.0.1/32", "::1/128"], "CIDR list", "Networks the SMTP side accepts connections from."),
    Setting("guard.tokens_file", "", "path", "TOML file of sender tokens (HTTP bearer and SMTP AUTH password) and the operator token."),
    Setting("guard.upstream", "localhost:25", "HOST:PORT", "SMTP server the guard delivers to."),
    Setting("guard.claim_lease_seconds", 60.0, "seconds", "A claimed message not confirmed within this is handed to another worker."),
    Setting("guard.claim_batch", 100, "messages", "Messages claimed per worker round."),
    Setting("guard.poll_seconds", 1.0, "seconds", "Worker poll interval when nothing wakes it."),
    Setting("guard.sqlite_synchronous", "FULL", "FULL|NORMAL", "SQLite synchronous level of the queue (FULL: acknowledged messages survive power loss)."),
    Setting("guard.max_recipients", 100, "recipients", "Distinct recipients allowed in one message (SMTP: 452 past it; HTTP: 422)."),
    Setting("guard.relay_domains", [], "domain list", "With --default-tz, unlisted recipients are accepted only in these domains ('.example.com' also covers subdomains); empty: the domains of the senders in the tokens file and of the people listed."),
    Setting("guard.max_mime_depth", 100, "levels", "Deepest MIME nesting accepted (Postfix mime_nesting_limit); deeper is refused as malformed (SMTP 554, HTTP 422)."),
    Setting("guard.auth_max_failures", 3, "attempts", "Failed authentications (SMTP AUTH or HTTP bearer token) from one client before it is locked (SMTP 421, HTTP 429) and an SMTP connection dropped."),
    Setting("guard.auth_failure_delay_seconds", 1.0, "seconds", "Cost of a failed authentication (SMTP waits it before the 535; the lock lasts it); doubles with each failure from the same client address within an hour, up to 60 s."),
    Setting("guard.keep_delivered_days", 0.0, "days", "Keep a message body this long after its last copy was delivered or recalled (0: delete it in the next worker round)."),
    Setting("guard.keep_dead_days", 14.0, "days", "Keep the body of a message with a dead-letter copy this long, for the operator to inspect."),
    Setting("guard.keep_records_days", 30.0, "days", "Keep delivery records (addresses, times, states, idempotency keys) this long after the message is finished."),
    Setting("guard.keep_audit_days", 365.0, "days", "Keep urgent-release audit rows this long."),
    # Web app (worklife serve; docs/app.md).
    Setting("app.users_db", "", "path", "SQLite file of app accounts, sessions and correction requests; empty: beside the store (worklife.duckdb -> worklife.app.sqlite)."),
    Setting("app.session_hours", 12.0, "hours", "A session expires this long after sign-in."),
    Setting("app.cookie_secure", True, "bool", "Mark the session cookie Secure (browsers still send it to http://localhost and 127.0.0.1); turn off only behind plain HTTP on another host."),
    Setting("app.login_max_failures", 5, "attempts", "Failed sign-ins per e-mail (and per client address) allowed within app.login_window_minutes."),
    Setting("app.login_window_minutes", 15.0, "minutes", "Window of the sign-in throttle."),
    Setting("app.trusted_header", "", "header name", "Sign in by this header set by an SSO reverse proxy (e.g. X-Forwarded-Email); empty: off."),
    Setting("app.trusted_proxies", ["127.0.0.1/32", "::1/128"], "CIDR list", "Only requests from these addresses may sign in by app.trusted_header."),
    Setting("app.identify_findings", False, "bool", "Show policy findings with person ids; otherwise analysts see keyed pseudonyms."),
    Setting("app.guard_queue", "", "path", "Guard queue (SQLite) whose held and released messages employees may see; empty: no Guard page data."),
    Setting("app.policy", "auto", "preset|auto|path", "Policy the Policy findings page is checked under."),
    Setting("app.page_rows", 25, "rows", "Table rows per page."),
    # Calendar ingest (iCalendar and Graph adapters).
    Setting("calendar.default_window_days", 365, "days", "Without --from/--to or other data: expand recurrences this long before the first and after the last event of a file."),
    Setting("calendar.max_occurrences_per_series", 10000, "occurrences", "A series expanding to more in the window is cut there and quarantined."),
    Setting("calendar.workers", 0, "processes", "Parser processes for large calendar inputs; 0: one per core."),
    Setting("calendar.pool_min_bytes", 2_000_000, "bytes", "Calendar inputs smaller than this are parsed in the ingesting process."),
    Setting("calendar.chunk_events", 400, "events", "Events per parse unit handed to a worker (a UID group is never split)."),
    # Digest.
    Setting("digest.stale_days", 7, "days", "Open items with no activity for this long are stale."),
    Setting("digest.blocked_patterns", [r"\bblocked\b", r"\bon[- ]hold\b", r"\bwaiting (for|on)\b", r"\bimpeded\b"],
            "regex list", "Open items whose status name or label matches any (case-insensitive) are blocked."),
    Setting("digest.shipped_kinds", ["pr_merged", "issue_closed", "task_closed", "release", "deploy"],
            "outcome kinds", "Outcome kinds listed as shipped (commits are grouped separately; other kinds count as moved)."),
    Setting("digest.jira_csv_tz", "", "IANA zone", "Zone of the wall-clock dates in Jira CSV exports (the exporting user's profile zone); empty: defaults.tz."),
    Setting("digest.sender", "digest@worklife.invalid", "e-mail", "From address of digests handed to the guard."),
    Setting("digest.repo_urls", {}, "repository name -> web URL", "Web address of a git repository by folder name (e.g. httpx = \"https://github.com/encode/httpx\"); default: from remote.origin.url."),
    Setting("digest.git_mailmap", "", "path", "A mailmap file applied to every git repository on top of its own .mailmap (several addresses, one person)."),
    Setting("digest.group_items", 8, "items", "Titles shown with links per project and section in a rendered digest; the rest are named in one line (--full shows all)."),
    Setting("digest.team_tz", {}, "team -> IANA zone", "A team's main zone for chat posts; default: the zone most of its people are in."),
    Setting("digest.post_at", "Mon 09:30", "weekday HH:MM", "When a team's chat post goes out (the team's main zone), for the week just ended."),
    Setting("digest.webhook_retries", 4, "attempts", "Retries of a chat webhook post on 429 or 5xx (Retry-After honoured, else exponential backoff)."),
    Setting("digest.webhook_max_wait_s", 120.0, "seconds", "Longest single wait before a webhook retry; a longer Retry-After fails the post."),
    Setting("digest.currency", "USD", "ISO 4217", "Currency of metrics.hourly_cost, shown beside every cost."),
    # Ingest.
    Setting("ingest.workers", 0, "processes", "Parsing processes for large mail sources; 0: one per core."),
    Setting("ingest.min_year", 1980, "year", "Mail dated before this year is quarantined (placeholder dates such as 1979-12-31)."),
    Setting("ingest.max_year", 2100, "year", "Mail dated after this year is quarantined."),
    Setting("ingest.ignore_message_id_patterns", [r"\.JavaMail\.evans@thyme$"], "regex list",
            "Message-IDs generated by an export tool (not by the sender); such messages are keyed by a header hash."),
    Setting("ingest.internal_domains", [], "domain list",
            "Mail addresses in these domains are internal people; empty: the mailbox owner's domain."),
    # Ingest limits (worklife.ingest.limits): hostile or broken input costs bounded work.
    Setting("ingest.earliest_year", 1970, "year", "Any record whose instant lies before this year is quarantined (every adapter)."),
    Setting("ingest.latest_year", 2100, "year", "Any record whose instant lies after this year is quarantined (every adapter)."),
    Setting("ingest.max_depth", 64, "levels", "A JSON file nested deeper than this is quarantined, not parsed."),
    Setting("ingest.max_member_bytes", 200_000_000, "bytes", "A file or archive member bigger than this is quarantined unread."),
    Setting("ingest.max_header_bytes", 16_000_000, "bytes", "A mail header block bigger than this is quarantined."),
    Setting("ingest.max_field_bytes", 1_000_000, "bytes", "A CSV field bigger than this quarantines its row; longer subjects and titles are cut (noted)."),
    Setting("ingest.max_recipients", 100_000, "addresses", "Recipients kept per message and attendees per meeting; the rest are cut (noted)."),
    Setting("ingest.measure", "active", "active|internal|all",
            "Who gets person-weeks without a people file: owners and addresses with activity of their own (active), "
            "also every internal address (internal), or every address (all). With a people file: its rows, "
            "widened the same way."),
]

_BY_NAME = {s.name: s for s in SETTINGS}

#: Units of a DuckDB size (``metrics.memory_limit``), in bytes.
SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
              "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes of a DuckDB size such as ``"4GB"``, ``"18.8 GiB"`` or ``"500 MB"``; ValueError otherwise."""
    m = SIZE_RE.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in SIZE_UNITS:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * SIZE_UNITS[unit])


def _memory_size(name: str, value: Any) -> None:
    """A DuckDB size above zero, or empty (DuckDB's own default)."""
    if isinstance(value, str) and not value.strip():
        return
    try:
        ok = isinstance(value, str) and parse_size(value) > 0
    except ValueError:
        ok = False
    if not ok:
        raise SettingError(f"{name} must be a size such as 4GB or 512MB (empty: DuckDB's default), "
                           f"not {value!r}")


#: Checks of a setting's value beyond its type (run by ``Config.set``; raise SettingError).
_VALUE_CHECKS: dict[str, Callable[[str, Any], None]] = {"metrics.memory_limit": _memory_size}


class Config:
    """Values in force: registry defaults, overridden by a toml file, then by flags."""

    def __init__(self, values: dict[str, Any] | None = None, source: str = "defaults"):
        self._values = {s.name: s.default for s in SETTINGS}
        self.source = source
        for name, value in (values or {}).items():
            self.set(name, value)

    def set(self, name: str, value: Any) -> None:
        """Set one value, checking the name, the type and (for some) the value against the
        registry; SettingError (exit 2 in the CLI) names the setting and what is expected."""
        if name not in _BY_NAME:
            raise SettingError(f"unknown setting {name!r}; see `worklife config show`")
        if name in _VALUE_CHECKS:
            _VALUE_CHECKS[name](name, value)
        default = _BY_NAME[name].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise SettingError(f"{name} must be true or false, not {value!r}")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise SettingError(f"{name} must be a number, not {value!r}")
            value = type(default)(value) if isinstance(default, float) else value
        if isinstance(default, str) and not isinstance(value, str):
            raise SettingError(f"{name} must be a string, not {value!r}")
        self._values[name] = value

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def items(self) -> list[tuple[Setting, Any]]:
        """Each setting with the value in force, in registry order."""
        return [(s, self._values[s.name]) for s in SETTINGS]

    def section(self, prefix: str) -> dict[str, Any]:
        """Values of one section, keyed without the prefix."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in self._values.items() if k.startswith(p)}


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in _BY_NAME:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def load_config(path: str | Path | None = None) -> Config:
    """Read ``path`` (a worklife.toml); ``None`` gives the defaults.

    Raises ConfigError naming the file for a missing file; SettingError (exit 2 in the
    CLI) naming the file for invalid TOML or a bad setting (unknown, wrong type or value).
    """
    if path is None:
        return Config()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{p}: invalid TOML: {exc}") from exc
    try:
        return Config(_flatten(data), source=str(p))
    except ConfigError as exc:
        raise type(exc)(f"{p}: {exc}") from exc
