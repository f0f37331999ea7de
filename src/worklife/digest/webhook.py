"""Post a team digest to a chat channel through an incoming webhook, at the team's agreed time.

Payloads (``payload(d, kind)``), each within its service's documented limits:

- ``slack``: Block Kit ``blocks`` (a header of at most 150 characters, mrkdwn sections of
  at most 3000 characters, at most 50 blocks) and ``text`` as the notification fallback;
  links ``<url|text>``, only ``& < >`` escaped;
- ``mattermost``: Markdown ``text`` (at most 16,000 characters);
- ``teams``: an Adaptive Card 1.4 wrapped in a ``message`` (Workflows webhooks);
  ``teams-messagecard``: the legacy Office 365 connector ``MessageCard``; both under 28 KB.

What does not fit is cut at a line with "… N more lines: see the e-mail digest or --full".

``post(url, body, send=...)`` retries 429 and 5xx answers (and connection errors) up to
``digest.webhook_retries`` times, waiting ``Retry-After`` seconds when given, else 1, 2, 4 …
seconds; a wait longer than ``digest.webhook_max_wait_s`` or any other refusal raises
WebhookError with one line naming the host (never the secret path) and the answer.
``send`` is any function ``(url, json_bytes, headers) -> (status, headers, body)``.

When (``planned_post``): the first ``digest.post_at`` (weekday HH:MM in the team's main
zone, ``digest.team_tz`` or the zone most of its people are in) at or after the week's
Friday 12:00 there; no earlier than ``now``; and pushed on, in 15-minute steps, until
more than half of the team is inside its own working hours (workday, not a public
holiday, between work_start and work_end in their own zone) — never at night for the majority.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from worklife.config import Config
from worklife.digest.build import Digest
from worklife.digest.doc import Block, plain, slack_lines, to_md
from worklife.digest.render import subject
from worklife.digest.story import digest_blocks, summary_lines
from worklife.errors import ConfigError, WorklifeError
from worklife.rules.worktime import is_working
from worklife.workcal import WorkSchedule

log = logging.getLogger(__name__)

KINDS = ("slack", "mattermost", "teams", "teams-messagecard")
SLACK_SECTION = 3000
SLACK_BLOCKS = 50
SLACK_HEADER = 150
MATTERMOST_TEXT = 16000
TEAMS_BYTES = 28 * 1024
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Send = Callable[[str, bytes, dict[str, str]], tuple[int, dict[str, str], str]]


class WebhookError(WorklifeError):
    """A chat post that failed for good; the message is one line."""


# -- payloads ---------------------------------------------------------------------------------
def _cut(lines: list[str], budget: int, join: str = "\n") -> list[str]:
    """The leading lines that fit ``budget`` characters, with a note counting the rest."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        note = f"… {len(lines) - i} more lines: see the e-mail digest or --full"
        if used + len(line) + len(join) + len(note) > budget:
            return out + [note]
        out.append(line)
        used += len(line) + len(join)
    return out


def slack_payload(d: Digest, limit: int = 8, full: bool = False) -> dict:
    blocks = digest_blocks(d, limit, full)
    title = plain(blocks[0].lines[0][1])
    out: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title[:SLACK_HEADER], "emoji": False}}]
    lines: list[str] = []
    for b in blocks[1:]:
        lines += slack_lines(b) + ([""] if b.kind in ("p", "ul") else [])
    sections: list[str] = []
    current = ""
    for line in lines:
        line = line[:SLACK_SECTION - 1]
        if len(current) + len(line) + 1 > SLACK_SECTION:
            sections.append(current)
            current = ""
        current += line + "\n"
    if current.strip():
        sections.append(current)
    room = SLACK_BLOCKS - 1
    if len(sections) > room:
        rest = sum(s.count("\n") for s in sections[room - 1:])
        sections = sections[:room - 1] + [f"… {rest} more lines: see the e-mail digest or --full"]
    out += [{"type": "section", "text": {"type": "mrkdwn", "text": s.rstrip() or " "}} for s in sections]
    return {"text": " ".join(summary_lines(d))[:SLACK_SECTION] if d.person is None else title, "blocks": out}


def mattermost_payload(d: Digest, limit: int = 8, full: bool = False) -> dict:
    text = to_md(digest_blocks(d, limit, full))
    if len(text) > MATTERMOST_TEXT:
        text = "\n".join(_cut(text.splitlines(), MATTERMOST_TEXT))
    return {"text": text}


def _teams_blocks(blocks: list[Block]) -> list[dict]:
    out = []
    for b in blocks:
        md = to_md([b]).strip()
        if b.kind.startswith("h"):
            size = {"h1": "Large", "h2": "Medium"}.get(b.kind, "Default")
            out.append({"type": "TextBlock", "text": md.lstrip("# "), "size": size, "weight": "Bolder", "wrap": True})
        else:
            out.append({"type": "TextBlock", "text": md, "wrap": True})
    return out


def teams_payload(d: Digest, limit: int = 8, full: bool = False, legacy: bool = False) -> dict:
    blocks = digest_blocks(d, limit, full)
    body = _teams_blocks(blocks)

    def wrap(items: list[dict]) -> dict:
        if legacy:
            return {"@type": "MessageCard", "@context": "http://schema.org/extensions", "summary": subject(d)[:200],
                    "title": items[0]["text"], "sections": [{"text": i["text"]} for i in items[1:]]}
        return {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
            "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                        "version": "1.4", "body": items}}]}

    dropped = 0
    while len(json.dumps(wrap(body)).encode("utf-8")) > TEAMS_BYTES and len(body) > 1:
        last = body[-1]
        lines = last["text"].split("\n")
        if len(lines) > 1:  # trim a long list from its end, a tenth at a time
            cut = max(1, len(lines) // 10)
            last["text"] = "\n".join(lines[:-cut])
            dropped += cut
        else:
            body.pop()
            dropped += 1
        if dropped:
            note = {"type": "TextBlock", "wrap": True, "text": f"… {dropped} more lines: see the e-mail digest or --full"}
            if len(json.dumps(wrap([*body, note])).encode("utf-8")) <= TEAMS_BYTES:
                body.append(note)
                break
    return wrap(body)


def payload(d: Digest, kind: str, limit: int = 8, full: bool = False) -> dict:
    """The JSON body for ``kind`` (one of KINDS)."""
    if kind == "slack":
        return slack_payload(d, limit, full)
    if kind == "mattermost":
        return mattermost_payload(d, limit, full)
    if kind in ("teams", "teams-messagecard"):
        return teams_payload(d, limit, full, legacy=kind == "teams-messagecard")
    raise ConfigError(f"--webhook-kind {kind!r}: expected one of {', '.join(KINDS)}")


# -- posting ----------------------------------------------------------------------------------
def httpx_send(timeout_s: float = 30.0) -> Send:
    """A ``send`` function over httpx (JSON, UTF-8)."""

    def send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
        with httpx.Client(timeout=timeout_s) as client:
            r = client.post(url, content=body, headers=headers)
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.text

    return send


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def check_url(url: str) -> str:
    """The ``scheme://host`` of a webhook URL (safe to print); ConfigError unless http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--webhook {parts.scheme or '?'}://{parts.netloc or '?'}/…: expected an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def _throttled(kind: str, status: int, body: str) -> bool:
    """429/5xx; the legacy Teams connector reports throttling in a 200 body."""
    return status == 429 or status >= 500 or (kind == "teams-messagecard" and "429" in body and status < 300)


def post(url: str, body: dict, *, kind: str = "slack", send: Send | None = None,
         sleep: Callable[[float], None] = time.sleep, retries: int = 4, max_wait_s: float = 120.0) -> int:
    """POST ``body``; retry on 429/5xx/connection errors; return the number of attempts."""
    where = check_url(url)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    send = send or httpx_send()
    for attempt in range(1, retries + 2):
        try:
            status, rheaders, text = send(url, data, headers)
        except (OSError, httpx.HTTPError) as exc:  # a network failure: retried
            status, rheaders, text = 0, {}, f"cannot connect: {type(exc).__name__}: {exc}"
        answer = " ".join(text.split())[:200]
        if 200 <= status < 300 and not _throttled(kind, status, text):
            log.info("webhook %s answered %s after %d attempt(s)", where, status, attempt)
            return attempt
        if status and not _throttled(kind, status, text):
            raise WebhookError(f"webhook at {where} refused the digest: HTTP {status} {answer}")
        if attempt > retries:
            break
        wait = retry_after_s({k.lower(): v for k, v in rheaders.items()}.get("retry-after"))
        wait = float(2 ** (attempt - 1)) if wait is None else wait
        if wait > max_wait_s:
            raise WebhookError(f"webhook at {where} asks to wait {wait:g} s (over digest.webhook_max_wait_s "
                               f"= {max_wait_s:g}); try again later")
        log.warning("webhook %s: %s; retrying in %g s", where, f"HTTP {status}" if status else answer, wait)
        sleep(wait)
    raise WebhookError(f"webhook at {where} failed after {retries + 1} attempts: "
                       f"{'HTTP ' + str(status) + ' ' if status else ''}{answer}")


# -- when ---------------------------------------------------------------------------------------
def team_zone(config: Config, team: str, schedules: list[WorkSchedule]) -> str:
    """``digest.team_tz[team]``, else the zone most of the team is in (ties: alphabetical)."""
    zones = config["digest.team_tz"] or {}
    if isinstance(zones, dict) and zones.get(team):
        return str(zones[team])
    counts = Counter(s.tz for s in schedules)
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def parse_post_at(text: str) -> tuple[int, int]:
    """'Mon 09:30' -> (0, 570): weekday (Monday 0) and minutes after midnight."""
    try:
        day, hhmm = text.strip().split()
        h, m = (int(x) for x in hhmm.split(":"))
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError
        return DAYS.index(day[:3].lower()), h * 60 + m
    except ValueError:
        raise ConfigError(f"digest.post_at {text!r}: expected a weekday and a time, e.g. 'Mon 09:30'") from None


def _working(s: WorkSchedule, t: datetime) -> bool:
    local = t.astimezone(ZoneInfo(s.tz))
    secs = local.hour * 3600 + local.minute * 60 + local.second
    return is_working(secs, s.work_start_s, s.work_end_s, s.is_workday(local.date()))


def planned_post(now: datetime, monday_local: date, zone: str, post_at: str,
                 schedules: list[WorkSchedule]) -> datetime:
    """The instant (aware UTC) the team's post goes out; see the module docstring."""
    day, minutes = parse_post_at(post_at)
    tz = ZoneInfo(zone)
    anchor = datetime(monday_local.year, monday_local.month, monday_local.day, tzinfo=tz) + timedelta(days=4, hours=12)
    first = anchor.date() + timedelta(days=(day - anchor.weekday()) % 7)
    slot = datetime(first.year, first.month, first.day, minutes // 60, minutes % 60, tzinfo=tz)
    if slot < anchor:
        slot += timedelta(days=7)
    t = max(now.astimezone(UTC), slot.astimezone(UTC))
    for _ in range(14 * 24 * 4):
        if sum(_working(s, t) for s in schedules) * 2 > len(schedules):
            return t
        t += timedelta(minutes=15)
    return max(now.astimezone(UTC), slot.astimezone(UTC))
