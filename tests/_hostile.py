"""A hostile corpus, built on demand: one small export per class of broken or crafted input.

Each ``Case`` writes its export under a folder and says what a user may rely on: which
good records must be stored (table, how many), what must be quarantined (a reason
fragment) or noted. Used by tests/test_ingest_hostile.py and benchmarks/hostile.py.
Only synthetic people (``@example.com``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], Path]  # writes the export under a folder, returns the source path
    table: str  # where the good records go
    good: int  # good records of the same source that must be stored
    reason: str = ""  # fragment of a quarantine reason that must appear ("" when nothing is bad)
    note: str = ""  # fragment of a note or error line that must appear
    args: tuple[str, ...] = ()  # extra CLI arguments
    exit_code: int = 0


# -- iCalendar -----------------------------------------------------------------------------
def ics(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//example//hostile//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def vevent(uid: str, start: str, extra: str = "", end: str | None = None) -> str:
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\n" + (f"DTEND:{end}\r\n" if end else "")
            + f"SUMMARY:meeting {uid}\r\n{extra}END:VEVENT\r\n")


GOOD_EVENT = vevent("good-1", "20240102T100000Z", end="20240102T110000Z")


def _ics_file(name: str, *events: str) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        p = root / name
        p.write_text(ics(GOOD_EVENT, *events), newline="")
        return p
    return build


# -- Slack ---------------------------------------------------------------------------------
SLACK_USERS = [{"id": "U1", "name": "alice", "profile": {"email": "alice@example.com"}},
               {"id": "U2", "name": "bob", "profile": {"email": "bob@example.com"}}]
GOOD_MESSAGE = {"type": "message", "user": "U1", "text": "hello", "ts": "1704189600.000100"}


def _slack(messages: list | str, users: object = SLACK_USERS) -> Callable[[Path], Path]:
    """An export with one good day file and one day file holding ``messages`` (a list or raw text)."""
    def build(root: Path) -> Path:
        src = root / "slack"
        (src / "general").mkdir(parents=True)
        (src / "users.json").write_text(json.dumps(users))
        (src / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": ["U1", "U2"]}]))
        (src / "general" / "2024-01-02.json").write_text(json.dumps([GOOD_MESSAGE]))
        bad = messages if isinstance(messages, str) else json.dumps(messages)
        (src / "general" / "2024-01-03.json").write_text(bad)
        return src
    return build


def _good_with(extra: dict) -> dict:
    return {**GOOD_MESSAGE, "ts": "1704276000.000200", **extra}


# -- CSV -----------------------------------------------------------------------------------
ACTIVITY_HEADER = "kind,id,sent,sender,recipients,subject\n"
GOOD_ROW = "email,m1,2024-01-02T10:00:00Z,alice@example.com,bob@example.com,hello\n"
GOOD_ROW_2 = "email,m2,2024-01-02T11:00:00Z,bob@example.com,alice@example.com,again\n"


def _csv(name: str, text: str) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        p = root / name
        p.write_text(text)
        return p
    return build


def _huge_field_csv(root: Path) -> Path:
    p = root / "activity.csv"
    with open(p, "w") as fh:
        fh.write(ACTIVITY_HEADER + GOOD_ROW)
        fh.write("email,m3,2024-01-02T12:00:00Z,alice@example.com,bob@example.com,\"" + "x" * 20_000_000 + "\"\n")
        fh.write(GOOD_ROW_2)
    return p


# -- Graph ---------------------------------------------------------------------------------
GRAPH_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users('alice%40example.com')/messages"


def graph_message(n: int, sent: str = "2024-01-02T10:00:00Z") -> dict:
    return {"internetMessageId": f"<g{n}@example.com>", "sentDateTime": sent, "subject": f"s{n}",
            "from": {"emailAddress": {"address": "alice@example.com"}}, "conversationId": f"c{n}",
            "toRecipients": [{"emailAddress": {"address": "bob@example.com"}}]}


def _graph(*items: object, context: bool = True) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        p = root / "messages.json"
        page: object = {"@odata.context": GRAPH_CONTEXT, "value": [graph_message(1), *items]}
        if not context:
            page = [*items, graph_message(1)]
        p.write_text(json.dumps(page))
        return p
    return build


def _graph_events(*items: object) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        p = root / "calendar.json"
        good = {"iCalUId": "e1", "subject": "planning", "showAs": "busy", "isAllDay": False,
                "start": {"dateTime": "2024-01-02T10:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2024-01-02T11:00:00.0000000", "timeZone": "UTC"},
                "organizer": {"emailAddress": {"address": "alice@example.com"}}, "attendees": [None]}
        p.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('alice%40example.com')/calendarView",
                                 "value": [good, *items]}))
        return p
    return build


# -- mail ----------------------------------------------------------------------------------
def mail(n: int, extra: bytes = b"", date: bytes = b"Tue, 2 Jan 2024 10:00:00 +0000") -> bytes:
    return (b"From: alice@example.com\nTo: bob@example.com\n" + extra + b"Date: " + date
            + b"\nMessage-ID: <mail" + str(n).encode() + b"@example.com>\nSubject: hello\n\nbody\n")


def _maildir(special: Callable[[Path, Path], None]) -> Callable[[Path], Path]:
    """A Maildir with two good messages and whatever ``special(cur, root)`` adds."""
    def build(root: Path) -> Path:
        src = root / "Maildir"
        cur = src / "cur"
        cur.mkdir(parents=True)
        (cur / "1.eml").write_bytes(mail(1))
        (cur / "2.eml").write_bytes(mail(2))
        special(cur, root)
        return src
    return build


def _link_outside(cur: Path, root: Path) -> None:
    secret = root / "outside-secret.txt"
    secret.write_text("From: root@example.com\nDate: Tue, 2 Jan 2024 10:00:00 +0000\nSubject: SECRET-TOKEN\n\n")
    os.symlink(secret, cur / "3.eml")


def _loop(cur: Path, root: Path) -> None:
    os.symlink(cur / "loop.eml", cur / "loop.eml")
    os.symlink(cur, cur / "again")  # a folder symlink back to itself


def _fifo(cur: Path, root: Path) -> None:
    os.mkfifo(cur / "pipe.eml")


def _fifo_source(root: Path) -> Path:
    p = root / "calendar.ics"
    os.mkfifo(p)
    return p


def _eml(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        p = root / name
        p.write_bytes(data)
        return p
    return build


def _many_recipients(root: Path) -> Path:
    to = b", ".join(b"user%06d@example.com" % i for i in range(100_000))
    p = root / "many.eml"
    p.write_bytes(b"From: alice@example.com\nTo: " + to + b"\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n"
                  b"Message-ID: <many@example.com>\nSubject: all hands\n\nbody\n")
    return p


def _huge_subject(root: Path) -> Path:
    p = root / "subject.mbox"
    big = b"From: alice@example.com\nDate: Tue, 2 Jan 2024 11:00:00 +0000\nMessage-ID: <big@example.com>\nSubject: " \
        + b"x" * 20_000_000 + b"\n\nbody\n"
    p.write_bytes(b"From a Tue Jan  2 10:00:00 2024\n" + mail(1) + b"\nFrom a Tue Jan  2 11:00:00 2024\n" + big)
    return p


def _truncated_zip(root: Path) -> Path:
    import zipfile

    full = root / "full.zip"
    with zipfile.ZipFile(full, "w") as z:
        z.writestr("users.json", json.dumps(SLACK_USERS))
        z.writestr("general/2024-01-02.json", json.dumps([GOOD_MESSAGE] * 50))
    p = root / "export.zip"
    p.write_bytes(full.read_bytes()[:-60])
    full.unlink()
    return p


def github_issue(n: int, created: str = "2024-01-02T10:00:00Z") -> dict:
    return {"number": n, "title": f"t{n}", "html_url": f"https://github.com/o/r/issues/{n}",
            "url": f"https://api.github.com/repos/o/r/issues/{n}", "repository_url": "https://api.github.com/repos/o/r",
            "user": {"login": "alice"}, "state": "open", "created_at": created, "updated_at": created,
            "closed_at": None, "labels": [], "assignees": []}


def _github(root: Path) -> Path:
    p = root / "issues.json"
    p.write_text("[" + json.dumps(github_issue(1)) + "," + "[" * 200_000 + "]" * 200_000 + ","
                 + json.dumps(github_issue(2, "9999-12-31T10:00:00Z")) + "]")
    return p


CASES: list[Case] = [
    Case("outcomes-csv-year-9999-and-huge-field", _csv("outcomes.csv", "person,at,kind,ref,title,state\n"
                                                       "alice@example.com,2024-01-02T10:00:00Z,commit,abc1,fix,closed\n"
                                                       "alice@example.com,9999-12-31T10:00:00Z,commit,abc2,far,closed\n"),
         "outcomes", 1, reason="outside 1970-2100"),
    Case("source-is-a-fifo", lambda root: _fifo_source(root), "messages", 0, note="not a regular file", exit_code=1),
    Case("github-deep-item-and-year-9999", _github, "outcomes", 2, reason="nested too deeply"),
    # bounded work
    Case("ics-secondly-endless", _ics_file("a.ics", vevent("sec", "20240103T100000Z", "RRULE:FREQ=SECONDLY\r\n")),
         "meetings", 1 + 10_000, reason="more than 10000 occurrences"),
    Case("ics-secondly-window", _ics_file("a.ics", vevent("sec", "20200103T100000Z", "RRULE:FREQ=SECONDLY\r\n")),
         "meetings", 1 + 10_000, reason="more than 10000 occurrences", args=("--from", "2024-01-01", "--to", "2024-01-31")),
    Case("ics-never-occurs", _ics_file("a.ics", vevent("never", "20240103T100000Z",
                                                       "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30\r\n")),
         "meetings", 2),  # the good event and DTSTART (always the first occurrence, RFC 5545 3.8.5.3)
    Case("slack-nested-200000", _slack("[" * 200_000 + "]" * 200_000), "messages", 1, reason="nested deeper"),
    Case("csv-field-20mb", _huge_field_csv, "messages", 2, reason="over ingest.max_field_bytes"),
    Case("eml-100000-recipients", _many_recipients, "messages", 1),
    Case("eml-date-after-huge-to", _eml("late.eml", b"From: alice@example.com\nTo: "
                                        + b", ".join(b"u%d@example.com" % i for i in range(30_000))
                                        + b"\nDate: Tue, 2 Jan 2024 10:00:00 +0000\nSubject: late date\n\nbody\n"),
         "messages", 1),
    Case("mbox-subject-20mb", _huge_subject, "messages", 1, reason="over ingest.max_header_bytes"),
    # sane instants
    Case("ics-dtstart-year-1", _ics_file("a.ics", vevent("y1", "00010101T100000Z", end="00010101T110000Z")),
         "meetings", 1, reason="outside 1970-2100"),
    Case("ics-dtstart-year-9999", _ics_file("a.ics", vevent("y9", "99991231T100000Z", "RRULE:FREQ=DAILY\r\n"),
                                            vevent("y9b", "99991230T100000Z", end="99991230T110000Z")),
         "meetings", 1, reason="outside 1970-2100"),
    Case("slack-ts-far-future", _slack([_good_with({"ts": "253402214400.000000"})]), "messages", 1,
         reason="outside 1970-2100"),
    Case("slack-ts-negative", _slack([_good_with({"ts": "-5"})]), "messages", 1, reason="not a Slack timestamp"),
    Case("csv-date-9999", _csv("activity.csv", ACTIVITY_HEADER + GOOD_ROW
                               + "email,m9,9999-12-31T23:00:00-05:00,alice@example.com,bob@example.com,far\n"
                               + "email,m8,9999-12-31T10:00:00Z,alice@example.com,bob@example.com,far\n"),
         "messages", 1, reason="out"),
    Case("graph-sent-9999", _graph(graph_message(2, "9999-12-31T10:00:00Z"), graph_message(3, "9999-12-31T23:00:00-05:00")),
         "messages", 1, reason="out"),
    # the source folder is the boundary
    Case("maildir-symlink-outside", _maildir(_link_outside), "messages", 2, note="symlinks leading outside"),
    Case("maildir-symlink-loop", _maildir(_loop), "messages", 2, note="broken or looping symlinks"),
    Case("maildir-fifo", _maildir(_fifo), "messages", 2, note="FIFOs, sockets or devices"),
    # nothing lost without a word
    Case("graph-array-null-first", _graph(None, context=False), "messages", 1, reason="not an object"),
    Case("csv-json-null-first", _csv("people.json", json.dumps([None, {"email": "alice@example.com", "name": "A"}])),
         "people", 1, reason="not an object"),
    Case("csv-json-truncated", _csv("people.json", '[{"email": "alice@example.com", "name": "A"}, {"email": '),
         "people", 1, reason="the rest of the file is not read"),
    Case("csv-json-deep-item", _csv("people.json", '[{"email": "alice@example.com", "name": "A"}, '
                                    + "[" * 100_000 + "]" * 100_000 + "]"), "people", 1, reason="nested too deeply"),
    Case("slack-array-null-first", _slack([None, _good_with({})]), "messages", 2, reason="message without ts"),
    # messages a user can act on
    Case("mbox-empty", _eml("empty.mbox", b""), "messages", 0, note="empty mbox file", exit_code=1),
    Case("zip-truncated", _truncated_zip, "messages", 0, note="damaged or truncated zip", exit_code=1),
    Case("graph-nulls", _graph({**graph_message(2), "from": None, "toRecipients": None, "internetMessageHeaders": [None]},
                               {**graph_message(3), "sentDateTime": None}), "messages", 2, reason="no sentDateTime"),
    Case("graph-event-null-start", _graph_events({"iCalUId": "e2", "start": None, "end": None, "subject": "x"}),
         "meetings", 1, reason="missing dateTime"),
    Case("csv-semicolons", _csv("activity.csv", ACTIVITY_HEADER.replace(",", ";") + GOOD_ROW.replace(",", ";")),
         "messages", 1, note="';'-delimited"),
    # accepted but wrong
    Case("csv-jurisdiction-xx", _csv("people.csv", "email,jurisdiction\nalice@example.com,FR\nbob@example.com,XX-YY\n"),
         "people", 1, reason="invalid jurisdiction"),
    Case("slack-user-object", _slack([_good_with({"user": {"id": "U1"}})]), "messages", 1, reason="not a Slack user id"),
    Case("slack-thread-ts-list", _slack([_good_with({"thread_ts": ["x"]})]), "messages", 1, reason="ts is not a number"),
    Case("slack-users-object", _slack([_good_with({})], users={"U1": {"name": "alice"}}), "messages", 2,
         reason="not a list of users"),
    Case("eml-nul-and-c1", _eml("nul.eml", b"From: alice@example.com\nTo: bob@example.com\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n"
                                + b"X-Pad: " + b"p" * 5000 + b"\nMessage-ID: <n\x00ul@example.com>\nSubject: caf\xc2\x85e \x9b\n\nbody\n"),
         "messages", 1),
]
BY_ID = {c.id: c for c in CASES}


def good_mbox(root: Path) -> Path:
    """A small good mailbox: what a user ingests next into the same store."""
    p = root / "next.mbox"
    p.write_bytes(b"".join(b"From a Tue Jan  2 10:00:00 2024\n" + mail(100 + i, date=b"Wed, 3 Jan 2024 09:00:00 +0000")
                           + b"\n" for i in range(3)))
    return p
