"""Render a Digest as Markdown, HTML or an RFC 5322 e-mail (.eml).

Facts only: each line is an outcome with its reference (url, else ref), a kind, a
title and a local date. No message bodies exist in the store, so none can appear.
Dates are shown in each person's own zone.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from worklife.digest.build import Digest, Fact, PersonDigest
from worklife.digest.numbers import COLLABORATION, Numbers

FORMATS = ("md", "html", "eml")

KIND_LABEL = {
    "pr_merged": "merged PR", "pr_opened": "opened PR", "pr_closed": "closed PR unmerged",
    "pr_updated": "updated PR", "issue_closed": "closed issue", "issue_opened": "opened issue",
    "issue_updated": "updated issue", "issue_not_planned": "closed issue as not planned",
    "task_closed": "closed task", "task_opened": "opened task", "task_updated": "updated task",
    "commit": "commit",
}

DEFAULT_LIMIT = 25  # facts shown per person and section; the rest are counted

SHOWN_WITHOUT_STATE = ("pr_merged", "issue_closed", "task_closed", "commit")

SECTIONS = (("shipped", "Shipped"), ("moved", "Moved"), ("blocked", "Blocked"), ("stale", "Stale"))


def subject(d: Digest) -> str:
    return (f"[worklife] {d.team} digest {d.week}: {d.count('shipped')} shipped, "
            f"{d.count('commits')} commits, {d.count('blocked')} blocked, {d.count('stale')} stale")


def _local(t: datetime, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")


def _describe(f: Fact, tz: str) -> str:
    """Plain-text parts of a fact (the caller adds the link): label, title, when, state."""
    label = KIND_LABEL.get(f.kind, f.kind.replace("_", " "))
    if f.idle_days is not None:
        when = f"last activity {_local(f.at_utc, tz)}, {f.idle_days:g} days ago"
    else:
        when = _local(f.at_utc, tz)
    shown = f.idle_days is None and f.kind not in SHOWN_WITHOUT_STATE
    state = f", now {f.state}" if f.state and shown else ""
    return f"{label}{(' — ' + f.title) if f.title else ''} ({when}{state})"


def _numbers_text(n: Numbers | None) -> str:
    if n is None:
        return ""
    share = "n/a" if n.after_hours_share is None else f"{n.after_hours_share:.0%}"
    unit = " h" if n.basis == COLLABORATION else ""
    return (f"Meetings {n.meeting_hours:g} h in {n.meetings} meetings (status-like {n.status_meeting_hours:g} h); "
            f"after-hours share of {n.basis} {share} ({n.after_hours:g}{unit} of {n.total:g}{unit}).")


# -- Markdown -------------------------------------------------------------------------------
def _md_link(f: Fact) -> str:
    text = f.ref.replace("[", "\\[").replace("]", "\\]")
    return f"[{text}]({f.url})" if f.url else f"`{f.ref}`"


def _more(n: int, title: str) -> str:
    return f"… and {n} more {title.lower()} item{'s' if n != 1 else ''}"


def _md_person(p: PersonDigest, limit: int) -> list[str]:
    out = [f"### {p.display_name}", "",
           f"Week of {p.week_start.isoformat()} ({p.tz}). {_numbers_text(p.numbers)}".rstrip(), ""]
    for attr, title in SECTIONS:
        facts: tuple[Fact, ...] = getattr(p, attr)
        if attr == "shipped" and (facts or p.commits):
            out.append(f"**{title}**")
            out += [f"- {_md_link(f)} {_describe(f, p.tz)}" for f in facts[:limit]]
            out += [f"- {_more(len(facts) - limit, title)}"] if len(facts) > limit else []
            for g in p.commits:
                refs = ", ".join(_md_link(c) for c in g.commits[:5]) + (" …" if len(g.commits) > 5 else "")
                out.append(f"- {len(g.commits)} commit{'s' if len(g.commits) != 1 else ''} in `{g.project}`: {refs}")
            out.append("")
        elif facts:
            out.append(f"**{title}**")
            out += [f"- {_md_link(f)} {_describe(f, p.tz)}" for f in facts[:limit]]
            out += [f"- {_more(len(facts) - limit, title)}"] if len(facts) > limit else []
            out.append("")
    if not any((p.shipped, p.commits, p.moved, p.blocked, p.stale)):
        out += ["No outcomes recorded this week.", ""]
    return out


def to_markdown(d: Digest, limit: int = DEFAULT_LIMIT) -> str:
    """The digest as Markdown: team summary, then one section per person (``limit`` facts a section)."""
    out = [f"# {d.team} — week {d.week}", "",
           (f"Built {d.now.strftime('%Y-%m-%d %H:%M')} UTC from recorded outcomes; "
            f"stale = open with no activity for {d.stale_days} days."), "",
           "## Team", "",
           f"- Shipped: {d.count('shipped')} items and {d.count('commits')} commits",
           f"- Moved: {d.count('moved')} · Blocked: {d.count('blocked')} · Stale: {d.count('stale')}",
           *([f"- {_numbers_text(d.numbers)}"] if d.numbers else []), "",
           "## People", ""]
    for p in d.people:
        out += _md_person(p, limit)
    return "\n".join(out).rstrip() + "\n"


# -- HTML -------------------------------------------------------------------------------------
def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_link(f: Fact) -> str:
    return f'<a href="{_h(f.url)}">{_h(f.ref)}</a>' if f.url else f"<code>{_h(f.ref)}</code>"


def _html_person(p: PersonDigest, limit: int) -> str:
    parts = [f"<section class='person'><h3>{_h(p.display_name)}</h3>",
             (f"<p class='numbers'>Week of {_h(p.week_start.isoformat())} ({_h(p.tz)}). "
              f"{_h(_numbers_text(p.numbers))}</p>")]
    for attr, title in SECTIONS:
        facts: tuple[Fact, ...] = getattr(p, attr)
        items = [f"<li>{_html_link(f)} {_h(_describe(f, p.tz))}</li>" for f in facts[:limit]]
        if len(facts) > limit:
            items.append(f"<li>{_h(_more(len(facts) - limit, title))}</li>")
        if attr == "shipped":
            for g in p.commits:
                refs = ", ".join(_html_link(c) for c in g.commits[:5]) + (" …" if len(g.commits) > 5 else "")
                items.append(f"<li>{len(g.commits)} commit{'s' if len(g.commits) != 1 else ''} in "
                             f"<code>{_h(g.project)}</code>: {refs}</li>")
        if items:
            parts.append(f"<h4>{title}</h4><ul class='{attr}'>{''.join(items)}</ul>")
    if not any((p.shipped, p.commits, p.moved, p.blocked, p.stale)):
        parts.append("<p>No outcomes recorded this week.</p>")
    parts.append("</section>")
    return "".join(parts)


def to_html(d: Digest, standalone: bool = True, limit: int = DEFAULT_LIMIT) -> str:
    """The digest as HTML (escaped throughout); ``standalone=False`` gives a fragment."""
    body = (
        f"<h1>{_h(d.team)} — week {_h(d.week)}</h1>"
        f"<p>Built {_h(d.now.strftime('%Y-%m-%d %H:%M'))} UTC from recorded outcomes; "
        f"stale = open with no activity for {d.stale_days} days.</p>"
        f"<h2>Team</h2><ul class='team'>"
        f"<li>Shipped: {d.count('shipped')} items and {d.count('commits')} commits</li>"
        f"<li>Moved: {d.count('moved')} · Blocked: {d.count('blocked')} · Stale: {d.count('stale')}</li>"
        f"{'<li>' + _h(_numbers_text(d.numbers)) + '</li>' if d.numbers else ''}</ul>"
        f"<h2>People</h2>{''.join(_html_person(p, limit) for p in d.people)}"
    )
    if not standalone:
        return f"<div class='digest'>{body}</div>"
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_h(subject(d))}</title><style>body{{font-family:system-ui,sans-serif;max-width:52em;"
            "margin:2em auto;line-height:1.4}code{font-size:.9em}.numbers{color:#555}</style></head>"
            f"<body>{body}</body></html>\n")


# -- e-mail -----------------------------------------------------------------------------------
def to_email(d: Digest, sender: str, recipients: list[str] | None = None,
             limit: int = DEFAULT_LIMIT) -> EmailMessage:
    """A multipart/alternative message (Markdown text + HTML) addressed to the team."""
    msg = EmailMessage()
    msg["Subject"] = subject(d)
    msg["From"] = sender
    to = recipients if recipients is not None else [p.email for p in d.people if p.email]
    if to:
        msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(d.now)
    key = hashlib.sha256(f"{d.team}\x1f{d.week}\x1f{d.now.isoformat()}".encode()).hexdigest()[:20]
    msg["Message-ID"] = f"<digest.{d.week}.{key}@{sender.split('@')[-1] or 'worklife.invalid'}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(to_markdown(d, limit))
    msg.add_alternative(to_html(d, limit=limit), subtype="html")
    return msg


def as_text(msg: EmailMessage) -> str:
    """The message as RFC 5322 text; headers unfolded up to the 998-character line limit."""
    return msg.as_string(policy=msg.policy.clone(max_line_length=998))


def render(d: Digest, fmt: str, sender: str = "digest@worklife.invalid", limit: int = DEFAULT_LIMIT) -> str:
    """``md``, ``html`` or ``eml`` as text, showing at most ``limit`` facts per person and section."""
    renderers: dict[str, Callable[[], str]] = {
        "md": lambda: to_markdown(d, limit),
        "html": lambda: to_html(d, limit=limit),
        "eml": lambda: as_text(to_email(d, sender, limit=limit)),
    }
    if fmt not in renderers:
        raise ValueError(f"unknown digest format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt]()
