"""Slack exports (folder or .zip): the standard workspace export and slackdump's layouts.

- ``users.json``: one people row per user (``tz`` -> ``people.tz``, only where the
  person has no zone yet, e.g. from an HR file; matched by ``profile.email`` when
  present), an alias Slack user id -> person_id; bots are remembered (their messages
  are ``is_auto``). Internal: not a bot, not deleted, not a guest, not a stranger.
- ``channels.json`` / ``groups.json`` / ``dms.json`` / ``mpims.json``: conversation id,
  name and members. Message folders are named by channel name (or id, for DMs).
- ``<folder>/YYYY-MM-DD.json``: the day's messages. slackdump's dump layout
  (``<ID>.json`` holding ``{"channel_id", "name", "messages": [...]}``) is read too.

Per message: key ``<channel id>:<ts>`` (``ts`` is the instant, microseconds exact),
thread ``<channel id>:<thread_ts>`` for messages in a thread (root included, else null),
``in_reply_to`` the thread root for replies; recipients are every member of a channel
(kind ``channel-member``, the sender too) or the DM/MPIM partners (kind ``to``). Bots
are not people: their messages have no sender and are ``is_auto``. Join/leave, edits, deletions, topic
changes and other subtypes are not messages: skipped and counted.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext
from worklife.ingest.limits import DEFAULT as DEFAULT_LIMITS
from worklife.ingest.limits import Limits, Walk, load_json, walk

log = logging.getLogger(__name__)

KIND = "slack"
SUFFIXES = (".zip",)
READS = "Slack export folder or .zip"  # in words, for error messages
META = ("users.json", "channels.json", "groups.json", "dms.json", "mpims.json")
MESSAGE_SUBTYPES = {None, "", "thread_broadcast", "reply_broadcast", "bot_message", "me_message",
                    "file_share", "file_comment", "huddle_thread"}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")


class _Tree:
    """Files of an export, as relative POSIX names, from a folder or a zip (no extraction)."""

    def __init__(self, path: Path, limits: Limits = DEFAULT_LIMITS):
        self.path = path
        self.limits = limits
        self.walked = Walk()  # what the folder walk skipped (symlinks out, FIFOs), for notes
        self.zip = zipfile.ZipFile(path) if path.is_file() else None
        names = (self.zip.namelist() if self.zip else
                 [p.relative_to(path).as_posix() for p in walk(path, self.walked) if p.suffix == ".json"])
        names = [n for n in names if n.endswith(".json") and not n.startswith("__MACOSX")]
        # a zip often wraps everything in one top folder: strip it
        users = [n for n in names if PurePosixPath(n).name in ("users.json", "channels.json")]
        self.prefix = str(PurePosixPath(min(users, key=len)).parent) if users else ""
        self.prefix = "" if self.prefix == "." else self.prefix + "/"
        self.names = sorted(n[len(self.prefix):] for n in names if n.startswith(self.prefix))

    def load(self, name: str) -> Any:
        """Parsed JSON of one member; ValueError (with the reason) when it is not JSON."""
        full = self.prefix + name
        size = self._size(full)
        if size > self.limits.max_member_bytes:
            raise ValueError(f"{size:,} bytes, over ingest.max_member_bytes ({self.limits.max_member_bytes:,}); "
                             "not read")
        try:
            raw = self.zip.read(full) if self.zip else (self.path / full).read_bytes()
        except (OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"cannot read: {exc}") from exc
        if not raw.strip():
            raise ValueError("empty file")
        try:
            return load_json(raw, self.limits)
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc

    def _size(self, full: str) -> int:
        try:
            return self.zip.getinfo(full).file_size if self.zip else (self.path / full).stat().st_size
        except (KeyError, OSError):
            return 0

    def location(self, name: str) -> str:
        return f"{self.path}!{self.prefix}{name}" if self.zip else str(self.path / self.prefix / name)


@contextmanager
def _open(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[_Tree]:
    try:
        tree = _Tree(path, limits)
    except zipfile.BadZipFile as exc:
        raise IngestError(f"not a readable zip file (damaged or truncated?): {exc}", source=str(path)) from exc
    try:
        yield tree
    finally:
        if tree.zip:
            tree.zip.close()


def detect(path: Path) -> bool:
    """A folder or zip holding ``users.json`` or ``channels.json`` (at its top or one folder down)."""
    if path.is_dir():
        return (path / "users.json").is_file() or (path / "channels.json").is_file()
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                return any(PurePosixPath(n).name in ("users.json", "channels.json") and n.count("/") <= 1
                           for n in z.namelist())
        except (zipfile.BadZipFile, OSError):
            return False
    return False


_TS = re.compile(r"\d{1,12}(\.\d{1,6})?")


def ts_to_utc(ts: str | float) -> datetime:
    """Slack ``ts`` ("1781688474.091639") -> aware UTC datetime, exact to the microsecond.

    ValueError for anything but a non-negative number of seconds (``-5``, lists, objects).
    """
    if isinstance(ts, bool) or not isinstance(ts, (str, int, float)):
        raise ValueError(f"ts is not a number: {ts!r}"[:120])
    text = str(ts).strip()
    if not _TS.fullmatch(text):
        raise ValueError(f"ts {text[:40]!r} is not a Slack timestamp (seconds since 1970, e.g. 1700000000.000100)")
    secs, _, frac = text.partition(".")
    return _EPOCH + timedelta(seconds=int(secs), microseconds=int((frac + "000000")[:6]))


class _Reader:
    def __init__(self, tree: _Tree, ctx: IngestContext, source: str):
        self.tree, self.ctx, self.source = tree, ctx, source
        self.people: dict[str, str] = {}  # Slack user id -> person_id
        self.bots: set[str] = set()
        self.conversations: dict[str, dict[str, Any]] = {}  # folder name -> {id, name, members, dm}

    def person(self, uid: str) -> str:
        return self.people.get(uid) or self.ctx.person_id(uid) or uid.lower()

    def users(self, batch: Batch) -> None:
        if "users.json" not in self.tree.names:
            return
        try:
            users = self.tree.load("users.json")
        except ValueError as exc:
            batch.read += 1  # the file is the record that could not be read
            batch.reject(self.tree.location("users.json"), str(exc))
            return
        if isinstance(users, dict) and isinstance(users.get("members"), list):  # the users.list API shape
            users = users["members"]
        if not isinstance(users, list):
            batch.read += 1
            batch.reject(self.tree.location("users.json"), f"users.json holds a JSON {type(users).__name__}, "
                         "not a list of users; people not read (their messages are kept by Slack id)")
            return
        for i, u in enumerate(users):
            if not isinstance(u, dict) or not u.get("id"):
                batch.reject(f"{self.tree.location('users.json')}#{i}", "user without an id", str(u)[:200])
                continue
            if not isinstance(u["id"], str):
                batch.reject(f"{self.tree.location('users.json')}#{i}", "user id is not a string", str(u)[:200])
                continue
            uid = u["id"]
            profile = u.get("profile") if isinstance(u.get("profile"), dict) else {}
            email = _scalar(profile.get("email")).strip().lower() or None
            pid = self.ctx.person_id(email) if email else self.ctx.person_id(uid)
            assert pid is not None
            self.people[uid] = pid
            if u.get("is_bot") or u.get("is_app_user") or uid == "USLACKBOT":
                self.bots.add(uid)  # bots are not people: their messages have no sender, is_auto
                continue
            guest = u.get("is_restricted") or u.get("is_ultra_restricted") or u.get("is_stranger")
            batch.add("people", {
                "person_id": pid, "email": email,
                "display_name": _scalar(profile.get("real_name") or u.get("real_name") or u.get("name")) or None,
                "tz": _scalar(u.get("tz")) or None, "tz_source": "slack" if _scalar(u.get("tz")) else None,
                "is_internal": not (guest or u.get("deleted")), "source": self.source,
            })
            batch.add("person_aliases", {"alias": uid, "person_id": pid, "kind": "slack",
                                         "source": self.source})

    def channels(self, batch: Batch) -> None:
        for meta, dm in (("channels.json", False), ("groups.json", False), ("mpims.json", True),
                         ("dms.json", True)):
            if meta not in self.tree.names:
                continue
            try:
                items = self.tree.load(meta)
            except ValueError as exc:
                batch.read += 1
                batch.reject(self.tree.location(meta), str(exc))
                continue
            for c in items if isinstance(items, list) else []:
                if not isinstance(c, dict) or not c.get("id"):
                    continue
                if not isinstance(c["id"], str):
                    continue
                members = c.get("members") if isinstance(c.get("members"), list) else []
                limit = int(self.ctx.config.get("ingest.max_recipients", 100_000))
                if len(members) > limit:  # every message would reach each: cut, and say so
                    batch.notes.append(f"{self.tree.location(meta)}: {c['id']} has {len(members):,} members, "
                                       f"only the first {limit:,} kept as recipients (ingest.max_recipients)")
                    members = members[:limit]
                conv = {"id": c["id"], "name": _scalar(c.get("name")) or c["id"],
                        "members": [m for m in members if isinstance(m, str)], "dm": dm}
                self.conversations[c["id"]] = conv
                if _scalar(c.get("name")):
                    self.conversations.setdefault(_scalar(c.get("name")), conv)

    def message(self, batch: Batch, m: Any, conv: dict[str, Any], where: str) -> None:
        batch.read += 1
        if not isinstance(m, dict) or not m.get("ts"):
            batch.reject(where, "message without ts", json.dumps(m)[:300] if m is not None else "")
            return
        subtype = m.get("subtype") if isinstance(m.get("subtype"), (str, type(None))) else "?"
        if m.get("type", "message") != "message" or subtype not in MESSAGE_SUBTYPES:
            batch.skipped += 1
            return
        try:
            sent = ts_to_utc(m["ts"])
            thread_ts = _thread_ts(m.get("thread_ts"))
            uid = m.get("user")
            if uid is not None and not isinstance(uid, str):
                raise ValueError(f"user is a JSON {type(uid).__name__}, not a Slack user id")
        except (ValueError, OverflowError) as exc:
            batch.reject(where, str(exc), json.dumps(m)[:300])
            return
        cid, ts = conv["id"], str(m["ts"]).strip()
        bot = uid in self.bots or bool(m.get("bot_id")) or subtype == "bot_message"
        sender = self.person(uid) if uid and not bot else None
        key = f"{cid}:{ts}"
        batch.add("messages", {
            "message_key": key, "message_id": ts, "channel": "chat", "sender_id": sender,
            "sent_utc": sent.replace(tzinfo=None), "thread_id": f"{cid}:{thread_ts}" if thread_ts else None,
            "in_reply_to": f"{cid}:{thread_ts}" if thread_ts and str(thread_ts) != ts else None,
            "subject_or_channel": conv["name"],
            "is_auto": bot,
            "source": self.source, "source_ref": where,
        })
        dm = conv["dm"]
        for member in conv["members"]:
            if member in self.bots:
                continue
            pid = self.person(member)
            if not dm:  # a channel post reaches every member (the sender too)
                batch.add("message_recipients", {"message_key": key, "person_id": pid, "kind": "channel-member"})
            elif pid != sender:  # a DM or MPIM reaches the other member(s)
                batch.add("message_recipients", {"message_key": key, "person_id": pid, "kind": "to"})

    def files(self) -> Iterator[tuple[str, dict[str, Any], list[Any] | None]]:
        """(member name, conversation, messages or None when the file is a dump) per message file."""
        for name in self.tree.names:
            p = PurePosixPath(name)
            if name in META:
                continue
            if len(p.parts) == 2 and _DAY_FILE.match(p.name):
                folder = p.parts[0]
                conv = self.conversations.get(folder) or {"id": folder, "name": folder, "members": [],
                                                          "dm": folder.startswith("D")}
                yield name, conv, None
            elif len(p.parts) == 1:  # slackdump dump: <ID>.json with {"channel_id", "messages"}
                yield name, {"id": p.stem, "name": p.stem, "members": [], "dm": p.stem.startswith("D")}, None


def _scalar(value: Any) -> str:
    """A JSON string or number as text; '' for null, lists and objects."""
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _thread_ts(value: Any) -> str | None:
    """A message's ``thread_ts`` checked like ``ts``; None when absent."""
    if value in (None, ""):
        return None
    ts_to_utc(value)  # ValueError when it is not a timestamp
    return str(value).strip()


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Yield users and channels first, then one batch per ``ctx.batch_size`` messages."""
    with _open(path, Limits.from_config(ctx.config)) as tree:
        if not tree.names:
            raise IngestError("no Slack JSON files found", source=str(path))
        r = _Reader(tree, ctx, str(path))
        batch = Batch()
        r.users(batch)
        r.channels(batch)
        batch.notes.extend(tree.walked.notes(path))
        yield batch
        batch = Batch()
        for name, conv, _ in r.files():
            where = tree.location(name)
            try:
                data = tree.load(name)
            except ValueError as exc:
                batch.read += 1  # the whole day file is one quarantined record
                batch.reject(where, str(exc))
                continue
            if isinstance(data, dict) and isinstance(data.get("messages"), list):  # slackdump dump
                cid = str(data.get("channel_id") or conv["id"])
                conv = r.conversations.get(cid) or {**conv, "id": cid, "name": data.get("name") or cid}
                data = data["messages"]
            if not isinstance(data, list):
                batch.read += 1
                batch.reject(where, "not a list of messages")
                continue
            for i, m in enumerate(data):
                r.message(batch, m, conv, f"{where}#{i}")
            if batch.read >= ctx.batch_size:
                yield batch
                batch = Batch()
        yield batch
