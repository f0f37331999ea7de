"""The metric pipeline as one Ibis expression graph, from canonical tables to long rows.

``build(engine, cal, config, person_ids=None, shared=None)`` returns ``Parts``: the intermediate
expressions (explain shows them) and ``long``, rows (person_id, day, name, value int64)
whose per-period sums are the metrics (``rows`` is the same in a compact form: one row
per kind with ``value`` and ``after``, which the stored results pivot). Names:

- ``<kind>_s`` and ``<kind>_after_s`` for kind in meeting, conflict, email, chat, collab,
  large, long, large_long, status (seconds of the union, and its after-hours part);
- span_s, weekend_active, blocks, noisy_day, focus_s, uninterrupted_s;
- meetings, emails_sent, chats_sent (counts, by local date of start / sending);
- collab_weekend_s (collaboration on local Saturdays and Sundays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis import _

from worklife.config import Config
from worklife.metrics import focus, meetings, messages, span
from worklife.metrics.engine import Engine
from worklife.metrics.intervals import overlap_parts, sweep, sweep_families, union_all, union_parts
from worklife.metrics.localtime import DAY_S, LocalCalendar, epoch_seconds

#: kinds whose pieces several metrics read (the others are only summed)
SHARED_KINDS = ("meeting", "collab")
#: the raw tables the graph reads
SOURCE_TABLES = ("meetings", "meeting_attendees", "messages", "message_recipients", "outcomes")
KINDS = ("meeting", "conflict", "email", "chat", "collab", "large", "long", "large_long", "status")


@dataclass
class Parts:
    attendance: ir.Table  # every (meeting, attendee) with reason (null = counts)
    qualifying: ir.Table
    activity: ir.Table  # e-mail and chat time as parts (person_id, kind, start_s, end_s)
    pieces: ir.Table  # disjoint union parts per kind, split by local date
    located: ir.Table  # sent messages and commits with local time
    long: ir.Table  # (person_id, day, name, value): the metrics' per-day sums, one row per name
    rows: ir.Table  # the same, compact: a kind's seconds and after-hours seconds in one row


#: up to this many ids, a batch filter is an IN list; more would be as many literal nodes
#: for Ibis to compile in every query that reads the batch (seconds per batch of 2,000)
IN_LIST_MAX = 64


#: DuckDB variables holding a batch's first and last int key ``pk`` (inclusive)
PK_LO, PK_HI = "wl_pk_lo", "wl_pk_hi"


@ibis.udf.scalar.builtin(name="getvariable")
def _getvariable(name: str) -> int:
    """DuckDB's ``getvariable``: a ``SET VARIABLE``'s value, folded to a constant when a
    query is bound (a filter on it prunes a scan like a literal)."""


class PkVariables:
    """A batch in a graph built once for every batch (``worklife.metrics.replay``): the
    people whose int ``pk`` lies in [``getvariable('wl_pk_lo')``, ``getvariable('wl_pk_hi')``].
    Pass ``PK_VARIABLES`` as ``build``'s ``person_ids``."""

    def bounds(self) -> tuple[ir.IntegerValue, ir.IntegerValue]:
        """The batch's first and last ``pk`` as Ibis scalars."""
        return _getvariable(PK_LO).name(PK_LO), _getvariable(PK_HI).name(PK_HI)

    def __repr__(self) -> str:
        return "PK_VARIABLES"


PK_VARIABLES = PkVariables()


@dataclass(frozen=True)
class PeopleTable:
    """A box's people listed in ``table`` (columns ``pid_str``, ``pk``, as
    ``LocalCalendar.keys``), read by semi-joins: the box's SQL is then the same whoever
    they are, so it can be kept (``worklife.metrics.sqlcache``)."""

    table: ir.Table


#: who a graph measures: everyone (None), these ids, the batch in DuckDB variables, or a table
People = list | PkVariables | PeopleTable | None

#: DuckDB variables holding a box's window: [lo, hi) as epoch seconds (BIGINT) and as UTC
#: timestamps (TIMESTAMP), and the box's first and last local epoch day (BIGINT)
WIN_LO, WIN_HI, WIN_LO_TS, WIN_HI_TS = "wl_win_lo", "wl_win_hi", "wl_win_lo_ts", "wl_win_hi_ts"
BOX_D0, BOX_D1 = "wl_box_d0", "wl_box_d1"


@ibis.udf.scalar.builtin(name="getvariable")
def _getvariable_ts(name: str) -> datetime:
    """DuckDB's ``getvariable`` of a TIMESTAMP variable (folded like ``_getvariable``)."""


class WindowVariables:
    """A box's window in DuckDB variables (``WIN_LO`` …, set by ``replay.set_box``), not
    literals: the box's SQL is then the same for every box, so it can be kept and run
    again without building and compiling the graph (``worklife.metrics.sqlcache``).
    Pass ``WINDOW_VARIABLES`` as ``build``'s ``utc_window``."""

    def seconds(self) -> tuple[ir.IntegerValue, ir.IntegerValue]:
        """[lo, hi) epoch seconds as Ibis scalars."""
        return _getvariable(WIN_LO).name(WIN_LO), _getvariable(WIN_HI).name(WIN_HI)

    def timestamps(self) -> tuple[ir.TimestampValue, ir.TimestampValue]:
        """[lo, hi) as UTC timestamps (the raw tables' type)."""
        return _getvariable_ts(WIN_LO_TS).name(WIN_LO_TS), _getvariable_ts(WIN_HI_TS).name(WIN_HI_TS)

    def days(self) -> tuple[ir.IntegerValue, ir.IntegerValue]:
        """The box's first and last local epoch day."""
        return _getvariable(BOX_D0).name(BOX_D0), _getvariable(BOX_D1).name(BOX_D1)

    def __repr__(self) -> str:
        return "WINDOW_VARIABLES"


WINDOW_VARIABLES = WindowVariables()
#: the activity a graph reads: all (None), [lo, hi) epoch seconds, or the box's variables
Window = tuple[int, int] | WindowVariables | None


def _only(t: ir.Table, col: str, person_ids: People) -> ir.Table:
    """Rows of ``t`` whose ``col`` is one of ``person_ids`` (all rows for None).

    A few ids: an IN list; a contiguous run of int keys (a batch of a full run): a range;
    ``PkVariables`` (int keys): the range in the batch's variables; ``PeopleTable`` (int
    keys): a semi-join with its ``pk``; otherwise a semi-join with a small table of the ids.
    """
    if person_ids is None:
        return t
    if isinstance(person_ids, PkVariables):
        return t.filter(t[col].between(*person_ids.bounds()))
    if isinstance(person_ids, PeopleTable):
        w = person_ids.table
        return t.semi_join(w, t[col] == w.pk)
    ids = list(person_ids)
    if len(ids) <= IN_LIST_MAX:
        return t.filter(t[col].isin(ids))
    if all(isinstance(i, int) for i in ids) and max(ids) - min(ids) + 1 == len(set(ids)):
        return t.filter(t[col].between(min(ids), max(ids)))
    wanted = ibis.memtable(pd.DataFrame({"_wanted": pd.Series(sorted(set(ids)))}))
    return t.semi_join(wanted, t[col] == wanted._wanted)


def _only_people(t: ir.Table, person_ids: People, keys: ir.Table) -> ir.Table:
    """Rows of ``t`` whose string ``person_id`` is one of ``person_ids`` (``_only``);
    ``PkVariables``: a semi-join with the people of ``keys`` whose ``pk`` is in the batch;
    ``PeopleTable``: a semi-join with its ``pid_str``."""
    if isinstance(person_ids, PeopleTable):
        w = person_ids.table
        return t.semi_join(w, t.person_id == w.pid_str)
    if not isinstance(person_ids, PkVariables):
        return _only(t, "person_id", person_ids)
    batch = _only(keys, "pk", person_ids)
    return t.semi_join(batch, t.person_id == batch.pid_str)


def _keyed(t: ir.Table, keys: ir.Table) -> ir.Table:
    """Replace string ``person_id`` by the person's int key; drops people not measured."""
    other = [c for c in t.columns if c != "person_id"]
    j = t.join(keys, t.person_id == keys.pid_str)
    return j.select(person_id=j.pk, *other)


def _shared_table(engine: Engine, shared: dict[str, Any] | None, name: str,
                  make: Callable[[], ir.Table], batched: bool) -> ir.Table:
    """``make()``, materialised once per run into ``shared`` when people come in batches."""
    if not batched or shared is None:
        return make()
    if name not in shared:
        shared[name] = engine.cache(make(), run_wide=True)
    return shared[name]


def _commits(outcomes: ir.Table) -> ir.Table:
    """(person_id, at_s, channel 'commit') of every commit with a known author."""
    c = outcomes.filter((outcomes.kind.lower() == "commit") & outcomes.person_id.notnull())
    return c.select("person_id", at_s=epoch_seconds(c.at_utc), channel=ibis.literal("commit"))


def _activity_sources(engine: Engine, shared: dict[str, Any] | None, msg: ir.Table, rcp: ir.Table,
                      out: ir.Table, keys: ir.Table, person_ids: People,
                      pks: People) -> tuple[ir.Table, ir.Table, ir.Table]:
    """(sent, received, commits) of the people measured, keyed by ``pk``
    (``messages.sent_messages``, ``messages.email_received``, ``_commits``).

    With ``shared`` (a run in several batches) each is materialised once for everyone
    and each batch filters its int keys; otherwise the raw tables are filtered by the
    batch's person ids first (cheapest for one batch or one person, as in explain).
    """
    if shared is None or person_ids is None:
        sent = _keyed(_only_people(messages.sent_messages(msg), person_ids, keys), keys)
        received = _keyed(messages.email_received(msg, _only_people(rcp, person_ids, keys)), keys)
        return sent, received, _keyed(_only_people(_commits(out), person_ids, keys), keys)
    made = {
        "sent_messages": lambda: _keyed(messages.sent_messages(msg), keys),
        "email_received": lambda: _keyed(messages.email_received(msg, rcp), keys),
        "commits": lambda: _keyed(_commits(out), keys),
    }
    return tuple(_only(_shared_table(engine, shared, name, make, True), "person_id", pks)
                 for name, make in made.items())


def _in_window(mt: ir.Table, msg: ir.Table, out: ir.Table,
               utc_window: Window) -> tuple[ir.Table, ir.Table, ir.Table]:
    """Meetings overlapping, and messages and outcomes inside, [lo, hi) epoch seconds UTC."""
    if utc_window is None:
        return mt, msg, out
    if isinstance(utc_window, WindowVariables):
        lo, hi = utc_window.timestamps()
    else:
        lo, hi = (ibis.literal(pd.Timestamp(v, unit="s")) for v in utc_window)
    return (mt.filter((mt.end_utc > lo) & (mt.start_utc < hi)),
            msg.filter((msg.sent_utc >= lo) & (msg.sent_utc < hi)),
            out.filter((out.at_utc >= lo) & (out.at_utc < hi)))


def _windows(cal: LocalCalendar, pks: People, utc_window: Window) -> ir.Table:
    """Working windows of the people measured; with ``utc_window``, only those inside it
    (a window is one local date's: those of the margin dates would be computed and dropped)."""
    ww = _only(cal.working_windows(), "person_id", pks)
    if utc_window is None:
        return ww
    lo, hi = _window_span(cal, utc_window)
    return ww.filter((ww.win_start_s >= lo) & (ww.win_end_s <= hi))


def _window_span(cal: LocalCalendar, utc_window: Window) -> tuple[int | ir.IntegerValue, int | ir.IntegerValue]:
    """[lo, hi) epoch seconds holding every working window measured (a local date's
    window lies within a day and a half of the date's UTC midnight)."""
    if isinstance(utc_window, WindowVariables):
        return utc_window.seconds()
    if utc_window is not None:
        return utc_window
    return (cal.first_day - 1) * DAY_S, (cal.last_day + 2) * DAY_S


def build(engine: Engine, cal: LocalCalendar, config: Config,
          person_ids: People = None, shared: dict[str, Any] | None = None,
          utc_window: Window = None, share_sources: bool = False) -> Parts:
    """The whole metric graph (nothing executed yet).

    Inside, people are keyed by their int ``pk`` (``cal.keyed()``); every table of
    ``Parts`` has that int in ``person_id`` (``cal.people_frame`` maps it back).
    With ``person_ids`` (one batch of people) and ``share_sources`` (one batch of
    several), tables that do not depend on the batch are materialised once into
    ``shared`` and reused by the next batches, so each batch's cost follows its own
    people, not the size of the store; the sent and received messages and the commits
    of every measured person too, keyed, each batch taking its people's rows from them
    (scanning the whole message tables once per batch cost 2-3 CPU s per 2,000 people
    at 10,000). With ``utc_window``
    (epoch seconds [lo, hi)) only meetings overlapping it and messages and outcomes in it
    are read: every metric of a local date depends only on activity within a day or so
    of it, so dates at least two days inside the window come out exact
    (``worklife.metrics.incremental``); ``WINDOW_VARIABLES`` reads the window from DuckDB
    variables instead of literals. With ``person_ids`` ``PK_VARIABLES``
    (``worklife.metrics.replay``) the batch is the people whose int key lies in the
    DuckDB variables' range, so one graph serves every batch of a run; a
    ``PeopleTable``, the people listed in it.
    """
    keys = cal.keys
    pf = cal.people_frame
    pks = person_ids if person_ids is None or isinstance(person_ids, (PkVariables, PeopleTable)) else \
        [int(k) for k in pf.loc[pf.person_id.isin(person_ids), "pk"]]
    cal = cal.keyed()
    mt, at = engine.table("meetings"), engine.table("meeting_attendees")
    msg, rcp = engine.table("messages"), engine.table("message_recipients")
    out = engine.table("outcomes")
    mt, msg, out = _in_window(mt, msg, out, utc_window)

    # in a window, count the invitees of its meetings only (not of every meeting stored)
    at_facts = at if utc_window is None else at.semi_join(mt.select("meeting_key"), "meeting_key")
    facts = _shared_table(engine, shared, "meeting_facts", lambda: meetings.meeting_facts(mt, at_facts),
                          person_ids is not None and share_sources)
    att = engine.cache(_keyed(meetings.attendance(facts, _only_people(at, person_ids, keys), config), keys))
    q = engine.cache(meetings.qualifying(att, config))

    sent, received, commits = _activity_sources(engine, shared if share_sources else None, msg, rcp, out,
                                                keys, person_ids, pks)
    actions = messages.email_actions(sent, received, config)
    acts = engine.cache(messages.activity_parts(actions, messages.chat_messages(sent), config))

    # Meeting kinds: one sweep (their meetings overlap); conflicts come from its meeting
    # rows. Collaboration is the union of three families each disjoint in itself: the
    # meetings' union parts, e-mail parts and chat sessions (which overlap each other
    # only when a chat message is credited longer than the session gap: then their own
    # union first), swept without a running-maximum window (``sweep_families``).
    cols = ["person_id", "kind", "start_s", "end_s"]
    swept_m = engine.cache(sweep(meetings.meeting_kind_intervals(q), ["person_id", "kind"]))
    meeting_sweep = swept_m.filter(swept_m.kind == "meeting")  # qualifying meetings: conflicts, focus
    conflict = overlap_parts(meeting_sweep, ["person_id"])
    m_union = union_parts(meeting_sweep, ["person_id"])
    email, chat = acts.filter(acts.kind == "email"), acts.filter(acts.kind == "chat")
    if int(config["metrics.chat_message_seconds"]) > float(config["metrics.chat_session_gap_minutes"]) * 60:
        chat = union_parts(sweep(chat, ["person_id"]), ["person_id"]).mutate(kind=ibis.literal("chat"))
    swept_c = engine.cache(sweep_families([m_union, email, chat], ["person_id"]))
    swept = union_all(swept_m, swept_c.mutate(kind=ibis.literal("collab")).select(*swept_m.columns))
    disjoint = [email, chat]
    unions = union_parts(swept, ["person_id", "kind"]).select(*cols)
    # Meeting and collaboration pieces feed several metrics (span, blocks, focus, quiet
    # days); the other kinds only their sums. Splitting them apart keeps the pieces read
    # several times (a CTE DuckDB materialises in memory; Spark checkpoints it) to the
    # half that needs it, and streams the rest straight into its sums.
    core = cal.split(unions.filter(unions.kind.isin(list(SHARED_KINDS))))
    if engine.name != "duckdb":
        core = engine.cache(core)
    rest = cal.split(union_all(unions.filter(~unions.kind.isin(list(SHARED_KINDS))),
                               conflict.mutate(kind=ibis.literal("conflict")).select(*cols),
                               *(x.select(*cols) for x in disjoint)))
    pieces = union_all(core, rest)

    def kind_sums(t: ir.Table) -> ir.Table:
        return t.group_by(["person_id", "day", "kind"]).agg(s=_.seconds.sum(), a=_.after_s.sum())

    sums = union_all(kind_sums(core), kind_sums(rest))
    by_kind = sums.select("person_id", "day", name=sums.kind, value=sums.s.cast("int64"),
                          after=sums.a.cast("int64"))

    wk = core.filter((core.kind == "collab") & (((core.day + 3) % 7) >= 5))
    wk = wk.group_by(["person_id", "day"]).agg(value=_.seconds.sum())
    lng = wk.select("person_id", "day", name=ibis.literal("collab_weekend_s"), value=wk.value.cast("int64"))

    located = engine.cache(cal.locate(union_all(messages.sent_instants(sent), commits)))

    mpieces = core.filter(core.kind == "meeting")
    cpieces = core.filter(core.kind == "collab")
    inst = span.activity_instants(mpieces, located)
    parts = [
        lng,
        span.span_and_weekend(inst, config),
        span.active_blocks(mpieces, located, config),
        span.noisy_days(cpieces, config),
        focus.focus_rows(_windows(cal, pks, utc_window), meeting_sweep, swept_c,
                         config, _window_span(cal, utc_window)),
    ]
    starts = cal.locate(q.select("person_id", at_s=q.start_s))
    parts.append(starts.group_by(["person_id", "day"]).agg(value=_.at_s.count()).select(
        "person_id", "day", name=ibis.literal("meetings"), value=_.value.cast("int64")))
    cnt = located.filter(located.channel != "commit").group_by(["person_id", "day", "channel"]).agg(
        value=_.at_s.count())
    parts.append(cnt.select("person_id", "day", name=cnt.channel.concat("s_sent"),
                            value=cnt.value.cast("int64")))
    other = union_all(*(p.select("person_id", "day", "name", "value") for p in parts))
    rows = union_all(by_kind, other.mutate(after=ibis.null("int64")))
    return Parts(att, q, acts, pieces, located, long_rows(rows), rows)


def long_rows(rows: ir.Table) -> ir.Table:
    """``Parts.rows`` as long rows (person_id, day, name, value): a kind's row gives
    ``<kind>_s`` and ``<kind>_after_s``."""
    k = rows.filter(rows.after.notnull())
    o = rows.filter(rows.after.isnull())
    return union_all(k.select("person_id", "day", name=k.name.concat("_s"), value=k.value),
                     k.select("person_id", "day", name=k.name.concat("_after_s"), value=k.after),
                     o.select("person_id", "day", "name", "value"))


LONG_NAMES = tuple(
    [f"{k}_s" for k in KINDS] + [f"{k}_after_s" for k in KINDS]
    + ["span_s", "weekend_active", "blocks", "noisy_day", "focus_s", "uninterrupted_s",
       "meetings", "emails_sent", "chats_sent", "collab_weekend_s"]
)


def aggregate(long: ir.Table, cal: LocalCalendar, period: str) -> ir.Table:
    """Sum long rows per (person, period, name): long form; ``pivot`` makes it wide."""
    # Group on int keys first (person, epoch day of the Monday or the day, name), then
    # join the few summed rows to their labels: cheaper than grouping on the string
    # week label and dates. The calendar spans whole ISO weeks [first_day, last_day].
    d = cal.days
    t = long.filter((long.day >= cal.first_day) & (long.day <= cal.last_day))
    if period == "week":
        t = t.mutate(day=t.day - (t.day + 3) % 7)  # epoch day of the week's Monday
        d = d.filter(d.dow == 0)
    s = t.group_by(["person_id", "day", "name"]).agg(value=t.value.sum())
    j = s.join(d, "day")
    key = ["person_id", "week", "week_start"] if period == "week" else ["person_id", "date", "week"]
    return j.select(*key, "name", "value")


def pivot(summed: pd.DataFrame, period: str) -> pd.DataFrame:
    """Wide frame: one row per (person, period), one int64 column per ``LONG_NAMES``."""
    key = ["person_id", "week", "week_start"] if period == "week" else ["person_id", "date", "week"]
    if summed.empty:
        return pd.DataFrame(columns=[*key, *LONG_NAMES])
    wide = summed.pivot_table(index=key, columns="name", values="value", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=list(LONG_NAMES), fill_value=0).astype("int64")
    wide.columns.name = None
    return wide.reset_index()
