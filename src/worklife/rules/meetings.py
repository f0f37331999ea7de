"""The qualifying meeting: one definition, rendered for Ibis (metrics) and for SQL (policy, digest, report).

A **qualifying meeting occurrence** for person P (docs/metrics.md): status not
cancelled, not show-as free (``transp = 'transparent'``), not all-day, duration in
``(0, metrics.meeting_max_hours]``, at least ``metrics.meeting_min_people`` distinct
attendees (organizer included, any response), and P attends without declining.
Comparisons of status, transp and response are case-insensitive.

The rule is the ordered tuple ``MeetingRule.criteria``: each ``Criterion`` names the
reason an occurrence fails and the test on one column. ``reason_ibis`` renders it as an
Ibis ``CASE`` (the first failing reason, null when it qualifies); ``meeting_sql`` /
``attendee_sql`` / ``qualifying_attendance_sql`` render the same tests as DuckDB SQL
(also transpiled to Spark by ``worklife.policy.sql``). Durations are whole seconds
(``epoch(end) - epoch(start)``), compared with ``round(meeting_max_hours * 3600)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from worklife.config import Config

if TYPE_CHECKING:  # ibis is needed only by the metric engine's rendering
    import ibis.expr.types as ir

Test = Literal["equals", "true", "outside", "below"]

# Generic labels of the reasons, in the order they are checked (the people count is filled in).
REASONS = ("cancelled", "free", "all-day", "too long", "fewer than N people", "declined")


@dataclass(frozen=True)
class Criterion:
    """One test an occurrence must NOT meet to qualify.

    ``equals``: lower(column) = value; ``true``: column is true; ``outside``: column <= 0
    or column > value; ``below``: column < value. ``per_attendee`` tests the attendee row
    (response), the others the meeting.
    """

    reason: str
    column: str
    test: Test
    value: str | int | None = None
    per_attendee: bool = False


@dataclass(frozen=True)
class MeetingRule:
    """The qualifying-meeting rule with its two settings (seconds, people)."""

    max_seconds: int
    min_people: int

    @classmethod
    def from_config(cls, config: Config) -> MeetingRule:
        """``metrics.meeting_max_hours`` (hours -> whole seconds) and ``metrics.meeting_min_people``."""
        return cls(int(round(float(config["metrics.meeting_max_hours"]) * 3600)),
                   int(config["metrics.meeting_min_people"]))

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """The tests in the order their reasons are reported."""
        return (
            Criterion("cancelled", "status", "equals", "cancelled"),
            Criterion("free", "transp", "equals", "transparent"),
            Criterion("all-day", "all_day", "true"),
            Criterion("too long", "dur_s", "outside", self.max_seconds),
            Criterion(f"fewer than {self.min_people} people", "invitees", "below", self.min_people),
            Criterion("declined", "response", "equals", "declined", per_attendee=True),
        )

    # -- Ibis ------------------------------------------------------------------------------------

    def reason_ibis(self, t: ir.Table) -> ir.StringValue:
        """The first failing reason of each row of ``t`` (null: qualifies).

        ``t`` has the columns status, transp, all_day, dur_s (seconds), invitees, response.
        """
        import ibis

        return ibis.cases(*((_ibis_test(t, c), c.reason) for c in self.criteria), else_=ibis.null("string"))

    # -- SQL -------------------------------------------------------------------------------------

    def meeting_sql(self, m: str = "m", invitees: str = "n.invitees") -> str:
        """SQL predicate: the meeting row aliased ``m`` (with ``invitees``) passes every meeting test."""
        cols = {"status": f"{m}.status", "transp": f"{m}.transp", "all_day": f"{m}.all_day",
                "dur_s": f"(epoch({m}.end_utc) - epoch({m}.start_utc))", "invitees": invitees}
        return " AND ".join(f"NOT {_sql_test(cols[c.column], c)}" for c in self.criteria if not c.per_attendee)

    def attendee_sql(self, a: str = "a") -> str:
        """SQL predicate: the attendee row aliased ``a`` passes the attendee tests (did not decline)."""
        return " AND ".join(f"NOT {_sql_test(f'{a}.{c.column}', c)}" for c in self.criteria if c.per_attendee)

    def qualifying_meetings_sql(self, where: str = "TRUE") -> str:
        """SQL: every column of ``meetings`` plus ``invitees``, for the qualifying meetings (``m``)
        that also meet ``where``."""
        return f"""
          SELECT m.*, n.invitees FROM meetings m
          JOIN (SELECT meeting_key, count(DISTINCT person_id) AS invitees FROM meeting_attendees
                GROUP BY meeting_key) n ON n.meeting_key = m.meeting_key
          WHERE {self.meeting_sql('m', 'n.invitees')} AND {where}"""

    def qualifying_attendance_sql(self, where: str = "TRUE") -> str:
        """SQL: one row per (qualifying meeting, attendee who did not decline): the meeting's
        columns, ``invitees``, ``person_id`` and ``response``; ``where`` filters the meetings."""
        return f"""
          SELECT q.*, a.person_id, a.response FROM ({self.qualifying_meetings_sql(where)}) q
          JOIN meeting_attendees a ON a.meeting_key = q.meeting_key
          WHERE {self.attendee_sql('a')}"""


def meeting_rule(config: Config) -> MeetingRule:
    """The qualifying-meeting rule of ``config``."""
    return MeetingRule.from_config(config)


def _sql_test(col: str, c: Criterion) -> str:
    if c.test == "equals":
        return f"(lower({col}) = '{c.value}')"
    if c.test == "true":
        return f"({col})"
    if c.test == "outside":
        return f"({col} <= 0 OR {col} > {int(c.value)})"
    return f"({col} < {int(c.value)})"


def _ibis_test(t: ir.Table, c: Criterion) -> ir.BooleanValue:
    col = t[c.column]
    if c.test == "equals":
        return col.lower().fill_null("") == c.value
    if c.test == "true":
        return col
    if c.test == "outside":
        return (col <= 0) | (col > int(c.value))
    return col < int(c.value)
