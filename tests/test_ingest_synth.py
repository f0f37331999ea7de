"""Round trip with the synthetic organisation: its raw files, ingested, give exactly its canonical rows."""

from __future__ import annotations

from datetime import date

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.store import connect

synth = pytest.importorskip("worklife.synth")

QUERIES = {
    "people": "SELECT person_id, email, display_name, tz, work_start, work_end, workdays, manager_id, team, "
              "level, jurisdiction, is_internal FROM people",
    "person_aliases": "SELECT alias, person_id FROM person_aliases",
    "messages": "SELECT message_key, message_id, channel, sender_id, sent_utc, thread_id, in_reply_to, "
                "subject_or_channel, is_auto FROM messages",
    "message_recipients": "SELECT message_key, person_id, kind FROM message_recipients",
    "outcomes": "SELECT outcome_key, person_id, at_utc, kind, ref, title FROM outcomes",
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    org = synth.generate(people=48, weeks=2, seed=1, start=date(2025, 3, 24))  # spans the EU DST change
    out = tmp_path_factory.mktemp("synth")
    synth.write(org, out, mail_format="maildir", ground_truth=False)
    expected, got = connect(":memory:"), connect(":memory:")
    cfg = Config({"privacy.key_file": str(out / "pseudonym.key")})  # one key: the same subject hashes
    synth.load_into_store(org, expected, config=cfg)
    summaries = ingest.run([out / "mail", out / "slack", out / "git"], got, cfg, people=out / "people.csv")
    yield expected, got, summaries, out
    expected.close()
    got.close()


def rows(store, table):
    return sorted(store.con.execute(QUERIES[table]).fetchall(), key=repr)


@pytest.mark.parametrize("table", list(QUERIES))
def test_ingest_of_synth_files_equals_its_canonical_rows(stores, table):
    expected, got, _, _ = stores
    assert rows(got, table) == rows(expected, table)


def test_nothing_quarantined_and_joins_skipped(stores):
    _, _, summaries, _ = stores
    assert [s.kind for s in summaries] == ["csv", "maildir", "slack", "git"]
    assert all(s.quarantined == 0 and s.error is None for s in summaries)
    assert summaries[2].skipped > 0  # channel_join messages are export noise


def test_mbox_layout_gives_the_same_messages(tmp_path):
    org = synth.generate(people=48, weeks=1, seed=2, start=date(2025, 3, 24))
    synth.write(org, tmp_path, mail_format="mbox", ground_truth=False)
    expected, got = connect(":memory:"), connect(":memory:")
    cfg = Config({"privacy.key_file": str(tmp_path / "pseudonym.key")})
    synth.load_into_store(org, expected, config=cfg)
    ingest.run(sorted((tmp_path / "mail").glob("*.mbox")), got, cfg, people=tmp_path / "people.csv")
    email = " WHERE channel = 'email'"
    q = QUERIES["messages"] + email
    assert sorted(got.con.execute(q).fetchall()) == sorted(expected.con.execute(q).fetchall())
