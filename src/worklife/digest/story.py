"""What the digest says, as blocks (worklife.digest.doc): a status update in words.

Order: a two-line team summary written from the counts by plain templates; what changed
since last week; the work by project (every item by its title, linked, commits folded
under their pull request, 7-character hashes only beside titles; past ``limit`` items a
section names the rest in one line, so no title is left out); then per person what they
shipped and are working on. Figures: the team digest shows the team's meeting load and
after-hours share only as an aggregate over at least ``privacy.min_group_size`` people,
never an individual's; a personal digest (``Digest.person``) shows that person's own.
"""

from __future__ import annotations

from datetime import timedelta

from worklife.digest.build import Digest, PersonDigest
from worklife.digest.doc import Block, Line, Span, heading, para
from worklife.digest.numbers import Numbers
from worklife.digest.work import CHANGE_TITLE, CHANGES, NO_PROJECT, Item, ProjectWork, person_items
from worklife.privacy.suppression import too_small

NOUNS = {"pr": ("pull request", "pull requests"), "issue": ("issue", "issues"), "task": ("task", "tasks"),
         "commit": ("commit", "commits")}
PERSON_LINE_ITEMS = 3  # titles per person and section in the team digest's people lines (all are in the work)
FOLDED_SHOWN = 50  # folded commits listed under an item (with --full) before "and N more commits"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _names(d: Digest) -> dict[str, str]:
    return {p.person_id: p.display_name for p in d.people}


def week_range(d: Digest) -> str:
    mondays = sorted({p.week_start for p in d.people})
    monday = mondays[0]
    return f"{monday:%a %d %b} – {monday + timedelta(days=6):%a %d %b %Y}"


# -- summary --------------------------------------------------------------------------------
def summary_lines(d: Digest) -> list[str]:
    """Two sentences about the team's week, from the counts alone."""
    work, c = list(d.work), d.changes or {}
    shipped = [i for p in work for i in p.of("shipped")]
    by_kind: dict[str, int] = {}
    for i in shipped:
        by_kind[i.kind] = by_kind.get(i.kind, 0) + 1
    parts = [plural(n, *NOUNS.get(k, ("item", "items"))) for k, n in sorted(by_kind.items(), key=lambda kv: -kv[1])]
    if c.get("commit"):
        parts.append(plural(c["commit"], "other commit"))
    names = _names(d)
    who = sorted({names.get(p, p) for i in shipped for p in i.people} |
                 {names.get(p, p) for pw in work for i in pw.of("commit") for p in i.people})
    subject = join_words(who) if 0 < len(who) <= 3 else f"{len(who)} people" if who else "The team"
    projects = [p.project for p in work if p.project != NO_PROJECT
                and any(i.change in ("shipped", "commit") for i in p.items)]
    where = f" in {join_words(projects[:3])}" + (f" and {len(projects) - 3} more" if len(projects) > 3 else "") if projects else ""
    before = (d.previous or {}).get("shipped")
    last = f" (last week {before} shipped)" if before is not None else ""
    if parts:
        first = f"{subject} shipped {join_words(parts)}{where}{last}"
    else:
        first = f"Nothing shipped this week{last}"
    moving = [f"{c[k]} {w}" for k, w in (("started", "started"), ("in_progress", "in progress"),
                                           ("moved", "moved")) if c.get(k)]
    first += ("; " + ", ".join(moving) if moving else "") + "."
    trouble = [f"{c['blocked']} blocked" if c.get("blocked") else "",
               f"{plural(c['stale'], 'item')} idle for {d.stale_days}+ days" if c.get("stale") else "",
               f"{c['reopened']} reopened" if c.get("reopened") else ""]
    trouble = [t for t in trouble if t]
    second = (("Needs attention: " + join_words(trouble) + ".") if trouble
              else "Nothing is blocked or stale.")
    if c.get("carried_open"):
        second += f" {plural(c['carried_open'], 'item')} from earlier weeks still open."
    return [first, second]


# -- items ----------------------------------------------------------------------------------
def item_line(it: Item, names: dict[str, str], with_people: bool = True) -> Line:
    spans: Line = []
    if it.short:
        spans += [Span(it.short, it.url, "code"), Span(" " + it.title)]
    elif it.untitled:
        spans += [Span(f"pull request #{it.ref.rsplit('#', 1)[-1]}", it.url), Span(f", latest commit “{it.title}”")]
    else:
        spans.append(Span(it.title, it.url))
        if it.kind in ("pr", "issue", "task") and "#" in it.ref:
            spans.append(Span(f" (#{it.ref.rsplit('#', 1)[1]})"))
        elif it.kind == "task":
            spans.append(Span(f" ({it.ref})"))
    notes = []
    if with_people and it.people:
        notes.append(join_words([names.get(p, p) for p in it.people]))
    if it.change in ("in_progress", "moved", "started") and it.state and it.state not in ("open",):
        notes.append(f"now {it.state}")
    if it.idle_days is not None and it.change == "stale":
        notes.append(f"no activity for {it.idle_days:g} days")
    if it.carried and it.change not in ("stale",):
        notes.append("carried over")
    if it.commits and not it.short:
        notes.append(plural(len(it.commits), "commit"))
    if notes:
        spans.append(Span(" — " + " · ".join(notes)))
    return spans


def folded(it: Item, full: bool) -> list[tuple[int, Line]]:
    """The commits under a pull request (not when the only one is the squash commit of the same title)."""
    commits = it.commits
    if len(commits) == 1 and commits[0].title.startswith(it.title):
        return [(1, [Span(commits[0].short, commits[0].url, "code"), Span(" " + commits[0].title)])]
    shown = commits if full else commits[:FOLDED_SHOWN]
    lines = [(1, [Span(c.short, c.url, "code"), Span(" " + c.title)]) for c in shown]
    if len(commits) > len(shown):
        rest = commits[len(shown):]
        lines.append((1, [Span(f"and {len(rest)} more commits: " + "; ".join(c.title for c in rest))]))
    return lines


def section_lines(items: list[Item], project: str, names: dict[str, str], limit: int, full: bool,
                  with_people: bool = True) -> list[tuple[int, Line]]:
    shown = items if full else items[:limit]
    lines: list[tuple[int, Line]] = []
    for it in shown:
        lines.append((0, item_line(it, names, with_people)))
        lines += folded(it, full) if full and it.commits and not it.short else []
    rest = items[len(shown):]
    if rest:
        titles = "; ".join((f"{i.short} " if i.short else "") + i.title for i in rest)
        where = [Span(" in "), Span(project, style="code")] if project else []
        lines.append((0, [Span(f"and {len(rest)} more"), *where, Span(f": {titles} (--full lists them with links)")]))
    return lines


def work_blocks(work: list[ProjectWork], names: dict[str, str], limit: int, full: bool,
                with_people: bool = True) -> list[Block]:
    out: list[Block] = []
    for pw in work:
        out.append(heading(3, pw.project))
        for change in CHANGES:
            items = pw.of(change)
            if items:
                out.append(para(Span(CHANGE_TITLE[change], style="bold")))
                out.append(Block("ul", section_lines(items, pw.project, names, limit, full, with_people)))
    return out


# -- changes and people ---------------------------------------------------------------------
def changes_block(d: Digest) -> Block:
    c, prev = d.changes or {}, d.previous
    parts = []
    for key, label in (("shipped", "Shipped"), ("started", "Started"), ("in_progress", "In progress"),
                       ("moved", "Moved"), ("blocked", "Blocked"), ("stale", "Stale"), ("reopened", "Reopened")):
        before = prev.get(key, 0) if prev is not None else 0
        if not c.get(key, 0) and not before:
            continue
        was = f" (last week {before})" if prev is not None else ""
        parts.append(f"{label} {c.get(key, 0)}{was}")
    if not parts:
        parts.append("No items moved this week or last")
    lines = [(0, [Span(" · ".join(parts))])]
    carried = []
    if c.get("carried_shipped"):
        carried.append(f"{c['carried_shipped']} finished this week")
    if c.get("carried_open"):
        carried.append(f"{c['carried_open']} still open")
    if carried:
        lines.append((0, [Span("Carried over from earlier weeks: " + ", ".join(carried) + ".")]))
    if prev is None:
        lines.append((0, [Span("No digest of the week before to compare with.")]))
    return Block("ul", lines)


def numbers_text(n: Numbers, who: str) -> str:
    share = "n/a" if n.after_hours_share is None else f"{n.after_hours_share:.0%}"
    return (f"{who} {n.meeting_hours:g} h in {plural(n.meetings, 'meeting')} "
            f"(status-like {n.status_meeting_hours:g} h); after-hours share of {n.basis}: {share}.")


def team_numbers_block(d: Digest) -> Block | None:
    if d.numbers is None:
        return None
    if too_small(len(d.people), d.min_group_size):
        return para(f"Team meeting load and after-hours figures are not shown: the team has {len(d.people)} "
                    f"people, fewer than {d.min_group_size} (privacy.min_group_size). Each person's own digest "
                    f"(--person) shows theirs.")
    return para(numbers_text(d.numbers, f"Meetings across the team ({len(d.people)} people):"))


def title_spans(items: list[Item], limit: int, full: bool, rest_above: bool = False) -> Line:
    """Titles joined in a sentence, linked; past ``limit`` the rest named without links
    (or, with ``rest_above``, counted: they are listed in the work above)."""
    shown = items if full else items[:limit]
    spans: Line = []
    for n, it in enumerate(shown):
        if n:
            spans.append(Span("; "))
        label = f"#{it.ref.rsplit('#', 1)[-1]}" if it.untitled else (f"{it.short} {it.title}" if it.short else it.title)
        spans.append(Span(label, it.url))
    rest = items[len(shown):]
    if rest and rest_above:
        spans.append(Span(f"; and {len(rest)} more listed above"))
    elif rest:
        spans.append(Span(f"; and {len(rest)} more: " + "; ".join(
            (f"{i.short} " if i.short else "") + i.title for i in rest)))
    return spans


def person_line(p: PersonDigest, d: Digest, limit: int, full: bool) -> Line:
    """One person in the team digest: what they shipped and are working on, in one bullet."""
    items = person_items(list(d.work), p.person_id)
    line: Line = [Span(p.display_name, style="bold"), Span(": ")]
    parts = 0
    for label, changes in (("shipped", ("shipped", "commit")), ("working on", ("started", "in_progress", "moved",
                                                                                "reopened")),
                           ("blocked or stale", ("blocked", "stale"))):
        group = [i for i in items if i.change in changes]
        if group:
            line += [Span(("; " if parts else "") + f"{label} {len(group)} — ")] + title_spans(
                group, PERSON_LINE_ITEMS, full, rest_above=True)
            parts += 1
    if not parts:
        line.append(Span("no outcomes recorded this week"))
    return line + [Span(".")]


def person_blocks(p: PersonDigest, d: Digest, limit: int, full: bool, own: bool) -> list[Block]:
    names = _names(d)
    items = person_items(list(d.work), p.person_id)
    shipped = [i for i in items if i.change in ("shipped", "commit")]
    working = [i for i in items if i.change in ("started", "in_progress", "moved", "reopened")]
    stuck = [i for i in items if i.change in ("blocked", "stale")]
    out = [] if own else [heading(3, p.display_name)]
    lines: list[tuple[int, Line]] = []
    for label, group in (("Shipped", shipped), ("Working on", working), ("Blocked or stale", stuck)):
        if group:
            lines.append((0, [Span(label, style="bold"), Span(f" ({len(group)})")]))
            lines += [(lvl + 1, line) for lvl, line in section_lines(group, "", names, limit, full, False)]
    if not lines:
        lines.append((0, [Span("No outcomes recorded this week.")]))
    out.append(Block("ul", lines))
    if own and p.numbers is not None:
        out.append(para(numbers_text(p.numbers, f"Your meetings this week ({p.tz}):")))
    return out


def digest_blocks(d: Digest, limit: int = 8, full: bool = False) -> list[Block]:
    """The whole digest as blocks: team digest, or a personal one when ``d.person`` is set."""
    names = _names(d)
    if d.person is not None:
        (p,) = [x for x in d.people if x.person_id == d.person]
        return [heading(1, f"{p.display_name} — week {d.week} ({week_range(d)})"),
                *person_blocks(p, d, limit, full, own=True),
                para("Only you receive this figure; the team digest shows team totals only.")]
    out = [heading(1, f"{d.team} — week {d.week} ({week_range(d)})")]
    out += [para(line) for line in summary_lines(d)]
    out += [heading(2, "What changed since last week"), changes_block(d)]
    out.append(heading(2, "The work"))
    if d.work:
        out += work_blocks(list(d.work), names, limit, full)
    else:
        out.append(para("No outcomes recorded this week."))
    out.append(heading(2, "People"))
    out.append(Block("ul", [(0, person_line(p, d, limit, full)) for p in d.people]))
    nb = team_numbers_block(d)
    if nb is not None:
        out += [heading(2, "Meetings"), nb]
    out.append(para(f"Built {d.now:%Y-%m-%d %H:%M} UTC from recorded outcomes; stale = open with no activity "
                    f"for {d.stale_days} days; states as of the latest export."))
    return out
