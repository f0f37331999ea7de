"""Mail ingest: headers into messages and recipients, exactly, once, with nothing lost."""

from __future__ import annotations

import mailbox
import re
from datetime import datetime
from email.header import Header
from email.utils import formataddr
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.ingest.mail import ParsedMail, Rejected, normalise_subject, parse_header_block
from worklife.store import connect

PARSED = Config({"privacy.keep_titles": True})  # parser tests read titles as parsed (docs/privacy.md)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENRON = DATA / "enron" / "skilling-j"
NOTMUCH = DATA / "mail" / "notmuch-default"
ENRON_IDS = re.compile(r"\.JavaMail\.evans@thyme$")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test data)")
    return path


def snapshot(store) -> dict[str, list[tuple]]:
    """Every canonical table, sorted: equal snapshots mean nothing changed."""
    return {t: sorted(store.con.execute(f"SELECT * EXCLUDE (first_seen_utc) FROM {t}" if t == "quarantine"
                                        else f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("people", "person_aliases", "messages", "message_recipients", "quarantine")}


def header(**fields: str) -> bytes:
    return "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in fields.items()).encode() + b"\n"


# -- one header block ---------------------------------------------------------------------

@pytest.mark.parametrize("date, utc", [
    ("Sun, 31 Mar 2024 01:30:00 +0100", "2024-03-31 00:30:00"),  # the night Europe moves to DST
    ("Sun, 07 Apr 2024 02:30:00 +1100", "2024-04-06 15:30:00"),  # Sydney, the night DST ends
    ("Wed, 9 May 2001 18:23:00 -0700 (PDT)", "2001-05-10 01:23:00"),
    ("Mon, 1 Jan 2024 09:00:00 -0000", "2024-01-01 09:00:00"),  # -0000: zone unknown, taken as UTC
    ("1 Jan 2024 09:00:00", "2024-01-01 09:00:00"),  # no zone at all: UTC
], ids=["eu-dst-start", "sydney-dst-end", "enron-pdt", "minus-zero", "no-zone"])
def test_dates_become_exact_utc(date, utc):
    p = parse_header_block(header(From="a@example.com", Date=date), "x")
    assert isinstance(p, ParsedMail)
    assert p.sent_utc.strftime("%Y-%m-%d %H:%M:%S") == utc


@pytest.mark.parametrize("date, reason", [
    ("Mon, 31 Dec 1979 16:00:00 -0800 (PST)", "placeholder"),
    ("Fri, 1 Jan 2200 00:00:00 +0000", "placeholder"),
    ("yesterday at noon", "unparseable"),
    (None, "no Date"),
], ids=["enron-1979", "year-2200", "garbage", "missing"])
def test_bad_dates_are_rejected_with_a_reason(date, reason):
    fields = {"From": "a@example.com", "Subject": "x"} | ({"Date": date} if date else {})
    p = parse_header_block(header(**fields), "box:7")
    assert isinstance(p, Rejected) and reason in p.reason and p.location == "box:7"


def test_encoded_words_and_raw_8bit_headers_are_decoded():
    raw = (b"From: =?utf-8?q?Test_Person_=C3=A9?= <User01@Example.COM>\n"
           b"To: =?iso-8859-1?q?J=F6rg?= <user02@example.com>, user03@example.com\n"
           b"Cc: Test Person 04 <user04@example.com>\n"
           b"Subject: caf\xe9 au lait\n"  # undeclared Latin-1 bytes
           b"Date: Tue, 2 Jan 2024 10:00:00 +0000\nMessage-ID: < abc@host >\n\n")
    p = parse_header_block(raw, "x")
    assert isinstance(p, ParsedMail)
    assert (p.sender, p.sender_name) == ("user01@example.com", "Test Person é")
    assert p.to == (("user02@example.com", "Jörg"), ("user03@example.com", ""))
    assert p.cc == (("user04@example.com", "Test Person 04"),)
    assert p.subject == "café au lait"
    assert p.message_id == "abc@host"


@pytest.mark.parametrize("extra, auto", [
    ({}, False),
    ({"Auto_Submitted": "auto-replied"}, True),
    ({"Auto_Submitted": "no"}, False),
    ({"Precedence": "bulk"}, True),
    ({"Precedence": "list"}, False),
    ({"X_Autoreply": "yes"}, True),
], ids=["plain", "auto-submitted", "auto-submitted-no", "bulk", "mailing-list", "x-autoreply"])
def test_automatic_mail_is_flagged(extra, auto):
    p = parse_header_block(header(From="a@example.com", Date="1 Jan 2024 09:00 +0000", **extra), "x")
    assert isinstance(p, ParsedMail) and p.is_auto is auto


def test_bounces_are_automatic():
    p = parse_header_block(header(From="MAILER-DAEMON@example.com", Date="1 Jan 2024 09:00 +0000"), "x")
    assert p.is_auto


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"), (b"\x00\x01\x02binary\xff\xfe" * 20, "binary"), (b"hello world\nno headers\n\n", "not an e-mail"),
], ids=["empty", "binary", "prose"])
def test_non_messages_are_rejected(data, reason):
    p = parse_header_block(data, "f")
    assert isinstance(p, Rejected) and reason in p.reason


def test_thread_root_is_the_first_reference_else_in_reply_to():
    p = parse_header_block(header(From="a@x", Date="1 Jan 2024 09:00 +0000", In_Reply_To="<b@x>",
                                  References="<root@x> <b@x>"), "x")
    q = parse_header_block(header(From="a@x", Date="1 Jan 2024 09:00 +0000", In_Reply_To="<b@x>"), "x")
    assert (p.thread_root, p.in_reply_to, q.thread_root) == ("root@x", "b@x", "b@x")


@pytest.mark.parametrize("subject, norm", [
    ("Re: RE: Fwd: Budget  2024", "budget 2024"), ("[team] Re: plan", "plan"), ("AW: Termin", "termin"),
], ids=["re-fwd", "list-tag", "german"])
def test_subjects_normalise_for_threading(subject, norm):
    assert normalise_subject(subject) == norm


# -- mbox ---------------------------------------------------------------------------------

def write_mbox(path: Path, n: int, body: str = "hello\nFrom the body\n") -> None:
    box = mailbox.mbox(str(path))
    for i in range(n):
        m = mailbox.mboxMessage()
        m["From"] = f"Test Person {i:02d} <user{i:02d}@example.com>"
        m["To"] = "user99@example.com"
        m["Date"] = f"Tue, 2 Jan 2024 {i % 24:02d}:00:00 +0200"
        m["Message-ID"] = f"<m{i}@example.com>"
        m["Subject"] = f"message {i}"
        m.set_payload(body)
        box.add(m)
    box.flush()
    box.close()


def test_mbox_locations_are_file_and_line_and_bodies_do_not_split_messages(store, tmp_path):
    box = tmp_path / "archive.mbox"
    write_mbox(box, 3, body="line\n\nFrom here on a body line starts with From\n")
    [s] = ingest.run([box], store, PARSED)
    assert (s.kind, s.read, s.inserted, s.quarantined) == ("mbox", 3, 3, 0)
    lines = [i for i, text in enumerate(box.read_text().splitlines(), 1) if text.startswith("From ")]
    refs = [r[0] for r in store.con.execute("SELECT source_ref FROM messages ORDER BY message_key").fetchall()]
    assert refs == [f"{box}:{n}" for n in lines]


def test_truncated_mbox_keeps_the_good_messages_and_quarantines_the_cut_one(store, tmp_path):
    box = tmp_path / "cut.mbox"
    write_mbox(box, 4)
    data = box.read_bytes()
    cut = data.rfind(b"Subject: message 3")
    box.write_bytes(data[:cut + 10])
    [s] = ingest.run([box], store, PARSED)
    assert (s.read, s.inserted, s.quarantined) == (4, 3, 1)
    (loc, reason), = store.con.execute("SELECT location, reason FROM quarantine").fetchall()
    assert loc.startswith(f"{box}:") and "truncated" in reason


def test_crlf_mbox_is_read(store, tmp_path):
    box = tmp_path / "crlf.mbox"
    write_mbox(box, 3)
    box.write_bytes(box.read_bytes().replace(b"\n", b"\r\n"))
    [s] = ingest.run([box], store, PARSED)
    assert (s.read, s.inserted, s.quarantined) == (3, 3, 0)


def test_eml_file_is_one_message(store, tmp_path):
    eml = tmp_path / "note.eml"
    eml.write_bytes(header(From="user01@example.com", To="user02@example.com", Date="1 Jan 2024 09:00 +0100",
                           Subject="hi", Message_ID="<n1@example.com>") + b"body\n")
    [s] = ingest.run([eml], store, PARSED)
    assert (s.kind, s.inserted) == ("eml", 1)
    assert store.con.execute("SELECT sender_id, sent_utc FROM messages").fetchall() == [
        ("user01@example.com", datetime(2024, 1, 1, 8, 0))]


# -- Maildir ------------------------------------------------------------------------------

def test_maildir_plus_plus_folders_dedupe_and_owner_from_sent(store, tmp_path):
    root = tmp_path / "mail"
    for folder in ("", ".Sent", ".Archive.2024"):
        for sub in ("cur", "new", "tmp"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
    sent = header(From="user01@corp.example", To="user02@corp.example, user03@other.example",
                  Date="Mon, 1 Jan 2024 09:00:00 +0000", Subject="plan", Message_ID="<p1@corp.example>")
    (root / ".Sent" / "cur" / "1:2,S").write_bytes(sent)
    (root / ".Archive.2024" / "cur" / "2:2,S").write_bytes(sent)  # the same message, archived
    (root / "new" / "3").write_bytes(header(From="user03@other.example", To="user01@corp.example",
                                            Date="Mon, 1 Jan 2024 10:00:00 +0000", Subject="Re: plan",
                                            In_Reply_To="<p1@corp.example>", Message_ID="<r1@other.example>"))
    (root / "tmp" / "4").write_bytes(b"half written")  # tmp/ is never read
    [s] = ingest.run([root], store, PARSED)
    assert (s.kind, s.read, s.inserted, s.duplicate) == ("maildir", 3, 2, 1)
    assert store.con.execute("SELECT count(DISTINCT thread_id) FROM messages").fetchone()[0] == 1
    internal = dict(store.con.execute("SELECT person_id, is_internal FROM people").fetchall())
    # the owner (inferred from .Sent) and the owner's domain are internal, others not
    assert internal == {"user01@corp.example": True, "user02@corp.example": True, "user03@other.example": False}
    kinds = store.con.execute("SELECT person_id, kind FROM message_recipients WHERE message_key='p1@corp.example' "
                              "ORDER BY 1").fetchall()
    assert kinds == [("user02@corp.example", "to"), ("user03@other.example", "to")]


def test_export_generated_message_ids_fall_back_to_a_header_hash(store, tmp_path):
    root = tmp_path / "box"
    for i, folder in enumerate(("inbox", "all_documents")):
        (root / folder).mkdir(parents=True)
        (root / folder / "1_").write_bytes(header(
            Message_ID=f"<{i}.1075840163516.JavaMail.evans@thyme>", Date="Wed, 9 May 2001 18:23:00 -0700 (PDT)",
            From="user01@example.com", To="user02@example.com", Subject="Re: question"))
    [s] = ingest.run([root], store, PARSED)
    assert (s.read, s.inserted, s.duplicate) == (2, 1, 1)
    key, mid = store.con.execute("SELECT message_key, message_id FROM messages").fetchone()
    assert key.startswith("h:") and mid is None


# -- real corpora -------------------------------------------------------------------------

def test_enron_maildir_dedupes_across_folders_and_quarantines_placeholder_dates(store):
    root = need(ENRON)
    files = sum(1 for p in root.rglob("*") if p.is_file())
    [first] = ingest.run([root], store, PARSED)
    distinct = store.count("messages")
    assert first.read == files
    assert distinct < files - first.quarantined  # the same message in several folders counted once
    assert first.inserted == distinct and first.duplicate == files - first.quarantined - distinct
    rows = store.con.execute("SELECT location, reason FROM quarantine").fetchall()
    assert len(rows) == first.quarantined >= 1
    for location, reason in rows:
        assert Path(location).is_file() and "1979" in reason
    before = snapshot(store)
    [again] = ingest.run([root], store, PARSED)
    assert snapshot(store) == before
    assert (again.inserted, again.duplicate) == (0, files - first.quarantined)


def test_notmuch_replies_share_their_parents_thread(store):
    [s] = ingest.run([need(NOTMUCH)], store, PARSED)
    assert s.quarantined == 0 and s.inserted == store.count("messages")
    pairs = store.con.execute(
        "SELECT r.thread_id, p.thread_id FROM messages r JOIN messages p ON r.in_reply_to = p.message_id"
    ).fetchall()
    assert len(pairs) >= 20
    assert all(a == b for a, b in pairs)
    assert store.con.execute("SELECT count(DISTINCT thread_id) FROM messages").fetchone()[0] < s.inserted


# -- round trip (hypothesis) --------------------------------------------------------------

hyp = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

words = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=8)
phrases = st.lists(words, min_size=1, max_size=4).map(" ".join)
mails = st.lists(st.fixed_dictionaries({
    "sender": st.integers(0, 30), "to": st.lists(st.integers(0, 30), min_size=1, max_size=3, unique=True),
    "cc": st.lists(st.integers(31, 40), max_size=2, unique=True), "name": phrases, "subject": phrases,
    "when": st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    "offset": st.integers(-14 * 4, 14 * 4).map(lambda q: q * 15),
    "charset": st.sampled_from(["utf-8", "iso-8859-1", "raw-utf-8"]),
}), min_size=1, max_size=12)


def _encode(text: str, charset: str) -> str | Header:
    if charset == "raw-utf-8":
        return text
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    return Header(text, charset).encode()


@settings(max_examples=20, deadline=None)
@given(mails=mails, layout=st.sampled_from(["mbox", "maildir"]))
def test_generated_mailboxes_round_trip(tmp_path_factory, mails, layout):
    from datetime import timedelta, timezone

    out = tmp_path_factory.mktemp("gen")
    box = mailbox.mbox(str(out / "gen.mbox")) if layout == "mbox" else mailbox.Maildir(str(out / "md"))
    expected = {}
    for i, m in enumerate(mails):
        msg = mailbox.mboxMessage() if layout == "mbox" else mailbox.MaildirMessage()
        sent = m["when"].replace(tzinfo=timezone(timedelta(minutes=m["offset"])))
        sender = f"user{m['sender']:02d}@example.com"
        name = _encode(m["name"], m["charset"])
        msg["From"] = formataddr((str(name), sender)) if m["charset"] != "raw-utf-8" else f'"{m["name"]}" <{sender}>'
        msg["To"] = ", ".join(f"user{t:02d}@example.com" for t in m["to"])
        if m["cc"]:
            msg["Cc"] = ", ".join(f"user{t:02d}@example.com" for t in m["cc"])
        msg["Subject"] = _encode(m["subject"], m["charset"])
        msg["Date"] = sent.strftime("%a, %d %b %Y %H:%M:%S %z")
        msg["Message-ID"] = f"<gen{i}@example.com>"
        msg.set_payload("body\n")
        box.add(msg)
        expected[f"gen{i}@example.com"] = (
            sender, sent.astimezone(timezone.utc).replace(tzinfo=None), m["subject"],
            sorted([(f"user{t:02d}@example.com", "to") for t in m["to"]] +
                   [(f"user{t:02d}@example.com", "cc") for t in m["cc"]]))
    box.close()
    s = connect(":memory:")
    [summary] = ingest.run([out / ("gen.mbox" if layout == "mbox" else "md")], s, PARSED)
    assert summary.quarantined == 0
    got = {}
    for key, sender, sent, subject in s.con.execute(
            "SELECT message_key, sender_id, sent_utc, subject_or_channel FROM messages").fetchall():
        rec = sorted(s.con.execute("SELECT person_id, kind FROM message_recipients WHERE message_key = ?",
                                   [key]).fetchall())
        got[key] = (sender, sent, subject, rec)
    assert got == expected
    names = dict(s.con.execute("SELECT person_id, display_name FROM people").fetchall())
    used: dict[str, set[str]] = {}
    for m in mails:  # a sender may use several names; the first one seen is kept (file order)
        used.setdefault(f"user{m['sender']:02d}@example.com", set()).add(m["name"])
    assert all(names[addr] in options for addr, options in used.items())
    s.close()


def test_mbox_postmark_lines_separate_messages_without_a_blank_line(store, tmp_path):
    box = tmp_path / "tight.mbox"
    box.write_bytes(b"".join(
        b"From user01@example.com Tue Jan  2 10:00:00 2024\n" + header(
            From="user01@example.com", Date=f"Tue, 2 Jan 2024 1{i}:00:00 +0000", Message_ID=f"<t{i}@x>")
        + b"body\nFrom here a body line\n" for i in range(3)))
    [s] = ingest.run([box], store, PARSED)
    assert (s.read, s.inserted, s.quarantined) == (3, 3, 0)


address_lists = st.lists(st.tuples(
    st.one_of(st.just(""), st.text(st.sampled_from("abcXYZ019 ._-'\"é=?,<>()@:;\\"), max_size=12)),
    st.from_regex(r"[a-z0-9._+-]{1,8}@[a-z0-9-]{1,8}\.[a-z]{2,3}", fullmatch=True),
    st.sampled_from(["bare", "angle", "quoted"]),
), min_size=1, max_size=4).map(lambda items: ", ".join(
    addr if style == "bare" else f'"{name}" <{addr}>' if style == "quoted" else f"{name} <{addr}>"
    for name, addr, style in items))


@settings(max_examples=300, deadline=None)
@given(value=address_lists)
def test_fast_address_split_agrees_with_the_stdlib(value):
    from email.utils import getaddresses

    from worklife.ingest.mail import split_addresses

    fast = split_addresses(value)
    if fast is not None:  # None: the stdlib parser takes over
        assert fast == getaddresses([value])


field_names = st.sampled_from(["From", "To", "Subject", "Date", "X-Custom", "Received", "subject", "Message-ID"])
field_values = st.text(st.sampled_from("ab c\t:;,<>@=?é\x00\x7f"), max_size=20)
header_blocks = st.lists(st.tuples(field_names, field_values, st.lists(field_values, max_size=2),
                                   st.sampled_from(["\n", "\r\n"])), min_size=1, max_size=6).map(
    lambda fields: "".join(f"{n}:{v}{nl}" + "".join(f"\t{c}{nl}" for c in cont) for n, v, cont, nl in fields))


@settings(max_examples=300, deadline=None)
@given(block=st.one_of(header_blocks, st.text(max_size=80)), eight_bit=st.booleans())
def test_fast_header_split_agrees_with_the_stdlib(block, eight_bit):
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    from worklife.ingest.mail import split_header_fields

    data = block.encode("utf-8" if eight_bit else "ascii", "replace") + b"\n"
    fast = split_header_fields(data)
    if fast is not None:
        assert fast == list(BytesHeaderParser(policy=compat32).parsebytes(data).raw_items())
