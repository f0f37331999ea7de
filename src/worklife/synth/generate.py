"""One division of the synthetic organisation (``generate_division``; see docs/synth.md).

The whole organisation, ``generate``, is assembled from divisions in ``worklife.synth.divisions``."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.synth import chat as chatmod
from worklife.synth.meetings import Calendar
from worklife.synth.messages import CHAT_TEXTS, COMMIT_TITLES, SUBJECTS, Traffic, drop_night_pings
from worklife.synth.model import DivisionSpec, Org
from worklife.synth.people import MIN_PEOPLE, make_people, make_roster
from worklife.synth.planted import TAGS, plant
from worklife.workcal import holiday_rows

log = logging.getLogger(__name__)
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
DIVISION_SIZE = 1000  # people per division at most (see worklife.synth.divisions)


def check_args(people: int, weeks: int, start: date) -> None:
    """Raise ConfigError for an org that cannot be generated."""
    if start.weekday() != 0:
        raise ConfigError(f"synth --start must be a Monday, not {start.isoformat()} ({start:%A})")
    if weeks < 1:
        raise ConfigError("synth needs at least 1 week")
    if people < MIN_PEOPLE:
        raise ConfigError(f"synth needs at least {MIN_PEOPLE} people for the planted teams, not {people}")


def generate_division(weeks: int, seed: int, start: date, spec: DivisionSpec,
                      parent: str | None = None, change0: int = 0) -> Org:
    """One division of an organisation (the whole org when it has one division).

    Division 0 carries the planted behaviours; the others are background only. Keys are
    org-wide unique: people are numbered from ``spec.first + 1``, teams from
    ``spec.first_team``, UIDs and Message-IDs carry ``s<seed>d<index>`` beyond division 0,
    conversation ids carry the index. ``parent`` is the org's previous commit (one linear
    history), ``change0`` the number of commits before this division.
    """
    check_args(spec.people, weeks, start)
    k, people = spec.index, spec.people
    rng = np.random.default_rng(seed if k == 0 else [seed, k])
    tag = f"s{seed}" if k == 0 else f"s{seed}d{k}"
    planted_here = k == 0
    config = Config()
    ppl, roles = make_people(rng, people, first=spec.first, width=spec.width, first_team=spec.first_team,
                             head_manager=spec.head_manager, planted=planted_here)
    d0, ndays = 14, 7 * weeks + 28
    roster, clock = make_roster(ppl, [], start - timedelta(days=d0), ndays, config, roles)
    cal = Calendar(roster, clock, rng, seed, d0, weeks, tag=tag, planted=planted_here)
    cal.team_series()
    cal.adhoc()
    cal.team_events()
    quiet = np.zeros(len(roster.ids), bool)
    if planted_here:
        extra_mail, extra_chat, extra_commits, spec_planted = plant(cal, roles)
        for key in ("night_pinger", "weekend_worker", "daily_rest", "daily_rest_partner", "seven_day_week",
                    "long_span"):
            quiet[int(np.nonzero(roster.ids == roles[key])[0][0])] = True
        for p in roles["dst_meeting"]:
            quiet[int(np.nonzero(roster.ids == p)[0][0])] = True
    else:
        extra_mail, extra_chat, extra_commits, spec_planted = [], [], [], {}
    traffic = Traffic(roster, clock, rng, d0, weeks, quiet)
    mail = drop_night_pings(traffic.mail(extra_mail), traffic)
    names = cal.team_names
    convs = chatmod.team_convs(traffic, names)
    chat, convs = chatmod.chat(traffic, convs, extra_chat)
    c_author, c_time, c_tag = chatmod.commits(traffic, extra_commits)

    messages, recipients, tagged = _messages(roster, clock, tag, k, mail, chat, convs)
    channels = pd.DataFrame({
        "conv_id": [_conv_id(kind, i, k) for i, kind in enumerate(convs.kind)],
        "name": convs.name, "kind": convs.kind,
        "members": [tuple(roster.ids[list(m)]) for m in convs.members],
    })
    if spec.total > people:  # one org-wide #general, in division 0
        general = _conv_id("channel", len(roster.team_size), k)
        if k == 0:
            channels.at[len(roster.team_size), "members"] = spec.all_ids()
        else:
            channels = channels.loc[channels["conv_id"] != general].reset_index(drop=True)
            messages = messages.loc[messages["conv_id"] != general].reset_index(drop=True)
    commits, commit_tags = _commits(roster, clock, c_author, c_time, c_tag, rng, parent, change0)
    meetings = pd.concat([pd.DataFrame(cal.occ)] + [f[0] for f in cal.frames], ignore_index=True)
    meetings = meetings.sort_values(["start_utc", "meeting_key"], kind="stable").reset_index(drop=True)
    attendees = _compact(pd.concat([pd.DataFrame(cal.att)] + [f[1] for f in cal.frames], ignore_index=True))
    series = pd.DataFrame(cal.series)

    end = start + timedelta(days=7 * weeks - 1)
    holidays = {j: [(d.isoformat(), n) for _, d, n in holiday_rows([j], start, end)]
                for j in sorted(set(x for x in ppl["jurisdiction"] if x))}
    if planted_here:
        evening = series.loc[series["organizer_id"] == roster.ids[roster.team_start[1]]]
        evening = evening.loc[evening["title"].str.contains("standup|status", regex=True)]
        planted = {
            "seed": seed, "people": spec.total, "weeks": weeks, "start": start.isoformat(),
            "background_rules": [
                "background activity instants (sent messages, attended meetings, commits) lie on the "
                "person's workdays inside working hours, plus at most one evening burst per week "
                "(Mon-Thu, within 2 h after work_end) for non-planted people",
                "no background message from a manager reaches a direct report outside the report's "
                "local 07:00-21:00 or on the report's non-workday",
                "background meetings lie inside each attending invitee's working hours, except the "
                "evening standup of the planted team",
            ],
            **spec_planted,
            "evening_standup": {"team": names[1], "organizer": roster.ids[roster.team_start[1]],
                                "series_uids": evening["uid"].tolist(),
                                "members": roster.ids[roster.team_start[1] + 1:roster.team_start[1] + roster.team_size[1]].tolist()},
            "defaults_used": roles["defaults_used"],
            "holidays": holidays,
            "message_keys": {TAGS[t]: v for t, v in tagged.items()},
            "commit_keys": {TAGS[t]: v for t, v in commit_tags.items()},
        }
        if spec.total > people:
            planted["divisions"] = spec.layout_json()
    else:
        planted = {"seed": seed, "people": people, "weeks": weeks, "start": start.isoformat(),
                   "division": k, "defaults_used": {}, "holidays": holidays}
    people_df = ppl.drop(columns=["_team", "_m"])
    log.info("synth division %d: %d people, %d weeks, %d meeting occurrences, %d messages, %d commits",
             k, people, weeks, len(meetings), len(messages), len(commits))
    return Org(seed=seed, start=start, weeks=weeks, people=people_df, series=series, meetings=meetings,
               meeting_attendees=attendees, messages=messages, message_recipients=recipients,
               channels=channels, commits=commits, planted=planted, division=k)


def _conv_id(kind: str, i: int, division: int = 0) -> str:
    """Slack conversation id: C/G/D + 7 digits; beyond division 0, + 3 digits of the division first."""
    head = {"channel": "C", "mpim": "G", "dm": "D"}[kind]
    return head + (f"{division:03d}" if division else "") + f"{i + 1:07d}"


def _messages(roster, clock, tag, division, mail, chat, convs):
    ids = roster.ids
    # -- e-mail, ordered by time ----------------------------------------------------------
    n = len(mail.sender)
    order = np.lexsort((np.arange(n), mail.sent))
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    mid = np.array([f"e{p + 1:08d}.{tag}@synth.example.com" for p in pos], dtype=object)
    # References: the parent's References plus the parent (threads are at most 3 deep)
    par = np.maximum(mail.parent, 0)
    refs = np.where(mail.level == 1, "<" + mid[par] + ">",
                    np.where(mail.level == 2, "<" + mid[mail.root] + "> <" + mid[par] + ">", ""))
    base = np.array([f"{SUBJECTS[s]} #{pos[r] + 1}" for s, r in zip(mail.subj, mail.root)], dtype=object)
    subject = np.where(mail.is_auto, "Automatic reply: " + base, np.where(mail.parent >= 0, "Re: " + base, base))
    email = pd.DataFrame({
        "message_key": mid, "message_id": mid, "channel": "email", "sender_id": ids[mail.sender],
        "sent_utc": mail.sent, "thread_id": mid[mail.root],
        "in_reply_to": np.where(mail.parent >= 0, mid[np.maximum(mail.parent, 0)], None),
        "subject_or_channel": subject, "is_auto": mail.is_auto, "conv_id": None, "ts": None,
        "thread_ts": None, "subtype": None, "references": np.where(refs == "", None, refs),
        "text": None, "_tag": mail.tag,
    }).iloc[order]
    email = _compact(email)
    erec = pd.DataFrame({"message_key": mid[mail.rmsg], "person_id": ids[mail.rperson],
                         "kind": np.array(["to", "cc", "bcc"], dtype=object)[mail.rkind], "_order": pos[mail.rmsg]})
    erec = erec.iloc[np.lexsort((mail.rperson, mail.rkind, pos[mail.rmsg]))].drop(columns="_order")
    # -- chat -----------------------------------------------------------------------------
    conv_ids = np.array([_conv_id(k, i, division) for i, k in enumerate(convs.kind)], dtype=object)
    cname = np.array([nm if k != "dm" else _conv_id(k, i, division) for i, (k, nm) in enumerate(zip(convs.kind, convs.name))], dtype=object)
    ts = np.array([f"{s}.000000" for s in chat.sent], dtype=object)
    cid = conv_ids[chat.conv]
    key = cid + ":" + ts
    has_root = chat.root >= 0
    is_root = np.zeros(len(chat.sent), bool)
    is_root[chat.root[has_root]] = True
    thread_ts = np.where(has_root, ts[np.maximum(chat.root, 0)], np.where(is_root, ts, None))
    sender = np.where(chat.sender >= 0, ids[np.maximum(chat.sender, 0)], None)
    text = np.array([CHAT_TEXTS[t] if t >= 0 else "Weekly digest: see the wiki" for t in chat.text], dtype=object)
    chats = pd.DataFrame({
        "message_key": key, "message_id": ts, "channel": "chat", "sender_id": sender,
        "sent_utc": chat.sent,
        "thread_id": np.where(thread_ts != None, cid + ":" + thread_ts.astype(str), None),  # noqa: E711
        "in_reply_to": np.where(has_root, key[np.maximum(chat.root, 0)], None),
        "subject_or_channel": cname[chat.conv], "is_auto": chat.is_auto, "conv_id": cid, "ts": ts,
        "thread_ts": thread_ts, "subtype": np.where(chat.is_auto, "bot_message", None),
        "references": None, "text": text, "_tag": chat.tag,
    })
    corder = np.lexsort((chat.conv, chat.sent))  # ts is unique per conversation: a total order
    chats = _compact(chats.iloc[corder])
    # DM / MPIM recipients: the other members
    conv_sorted = chat.conv[corder]
    send_sorted = chat.sender[corder]
    private = [i for i, k in enumerate(convs.kind) if k != "channel"]
    members = pd.DataFrame({"conv": np.repeat(private, [len(convs.members[i]) for i in private]),
                            "member": np.fromiter((m for i in private for m in convs.members[i]), dtype=np.int64)})
    posted = pd.DataFrame({"message_key": chats["message_key"].to_numpy(), "conv": conv_sorted,
                           "sender": send_sorted, "_o": np.arange(len(chats))})
    crec = posted.merge(members, on="conv", how="inner")
    crec = crec.loc[crec["member"] != crec["sender"]].sort_values(["_o", "member"], kind="stable")
    crec = pd.DataFrame({"message_key": crec["message_key"].to_numpy(), "person_id": ids[crec["member"].to_numpy()],
                         "kind": "to"})
    messages = pd.concat([email, chats], ignore_index=True)
    tagged = {int(t): messages.loc[messages["_tag"] == t, "message_key"].tolist()
              for t in sorted(set(messages["_tag"])) if t}
    # time order; e-mail before chat at the same second, each already in its own total order
    messages = messages.drop(columns="_tag")
    messages = messages.iloc[np.argsort(messages["sent_utc"].to_numpy(), kind="stable")].reset_index(drop=True)
    recipients = pd.concat([erec, crec], ignore_index=True)
    return messages, _compact(recipients), tagged


def _compact(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns of strings (with None) as Arrow-backed strings: ~4x less memory."""
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype("str")
    return df


def offset_str(off: int) -> str:
    sign = "+" if off >= 0 else "-"
    off = abs(int(off))
    return f"{sign}{off // 3600:02d}{off % 3600 // 60:02d}"


def commit_object(name: str, email: str, at: int, off: int, title: str, parent: str | None) -> bytes:
    """The raw git commit object (empty tree) that ``git fast-import`` writes for a commit."""
    lines = [f"tree {EMPTY_TREE}"]
    if parent:
        lines.append(f"parent {parent}")
    who = f"{name} <{email}> {at} {offset_str(off)}"
    lines += [f"author {who}", f"committer {who}", "", title, ""]
    return "\n".join(lines).encode("utf-8")


def _commits(roster, clock, author, at, tag, rng, parent: str | None = None, change0: int = 0):
    order = np.lexsort((author, at))
    author, at, tag = author[order], at[order], tag[order]
    off = clock.offset_at(roster.zone[author], at)
    names = roster.people["display_name"].to_numpy()
    titles = rng.integers(0, len(COMMIT_TITLES), len(author))
    hashes, rows = [], []
    for i, (p, t, o, k) in enumerate(zip(author, at, off, titles)):
        title = f"{COMMIT_TITLES[k]} (change {change0 + i + 1})"
        body = commit_object(names[p], roster.ids[p], int(t), int(o), title, parent)
        h = hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()
        hashes.append(h)
        parent = h
        rows.append(title)
    commits = pd.DataFrame({"outcome_key": hashes, "person_id": roster.ids[author], "at_utc": at,
                            "offset_s": off, "title": rows, "author_name": names[author]})
    tagged = {int(t): [h for h, g in zip(hashes, tag) if g == t] for t in sorted(set(tag.tolist())) if t}
    return commits, tagged

