"""Large synthetic organisations as a stream of divisions (``generate_divisions``).

What a user of a 10,000-person org relies on, checked on tiny divisions of 48 people:
small orgs are exactly what they were, divisions are deterministic, every key is unique
across the whole org, only division 0 plants behaviours, and the streamed store, files
and ground truth still agree to the second.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from worklife import ingest
from worklife.config import Config
from worklife.errors import ConfigError
from worklife.metrics import METRIC_COLUMNS, compute
from worklife.policy import check, load_policy
from worklife.store import connect
from worklife.synth import (concat_divisions, division_layout, generate, generate_divisions, load_into_store,
                            person_week_metrics, write)

ORG = {"people": 96, "weeks": 3, "seed": 5, "start": date(2025, 3, 17)}  # spans the European DST change
DIVISION = 48
TABLES = ("people", "series", "meetings", "meeting_attendees", "messages", "message_recipients", "channels",
          "commits")


@pytest.fixture(scope="module")
def parts():
    return list(generate_divisions(**ORG, division_size=DIVISION))


@pytest.fixture(scope="module")
def org(parts):
    return concat_divisions(parts)


@pytest.fixture(scope="module")
def truth(org):
    return person_week_metrics(org)


@pytest.mark.parametrize("people, size, layout", [
    (2000, 1000, [(0, 1000), (1000, 1000)]),
    (1001, 1000, [(0, 501), (501, 500)]),
    (200, 1000, [(0, 200)]),
    (95, 48, [(0, 95)]),                 # two divisions would be under 48 people each
    (144, 48, [(0, 48), (48, 48), (96, 48)]),
], ids=["2000", "1001-splits-evenly", "200-one-division", "95-never-under-48", "144-three-of-48"])
def test_division_layout(people, size, layout):
    assert division_layout(people, size) == layout


def test_division_size_under_48_is_refused():
    with pytest.raises(ConfigError, match="at least 48"):
        division_layout(200, 40)


def test_an_org_within_one_division_is_generate_itself():
    (only,) = generate_divisions(60, 2, 4)
    whole = generate(60, 2, 4)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(only, t), getattr(whole, t))
    assert only.planted == whole.planted and "divisions" not in only.planted


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.relative_to(root).parts[0] != "git":
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    head = subprocess.run(["git", "rev-parse", "main"], cwd=root / "git", capture_output=True, text=True).stdout
    return h.hexdigest()[:16] + " " + head.strip()


def test_small_org_files_are_byte_identical_to_before_divisions(tmp_path):
    """The digest of a 48 x 2 org's files (git: its HEAD) as written before divisions existed (main at 06d6036)."""
    write(generate(48, 2, 3, date(2025, 3, 17)), tmp_path, ground_truth=False)
    assert _digest(tmp_path) == "3bb588cc02369ab4 47ddf02d35d283d34fa47fd2b8d7afd4954a0393"


def test_divisions_are_deterministic(parts):
    again = list(generate_divisions(**ORG, division_size=DIVISION))
    assert len(again) == len(parts) == 2
    for a, b in zip(parts, again):
        for t in TABLES:
            pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))
    other = next(iter(generate_divisions(**{**ORG, "seed": 6}, division_size=DIVISION)))
    assert not other.messages["sent_utc"].equals(parts[0].messages["sent_utc"])


def test_divisions_differ_from_each_other(parts):
    assert len(set(len(p.messages) for p in parts)) > 1


@pytest.mark.parametrize("table, column", [
    ("people", "person_id"), ("people", "slack_id"), ("people", "display_name"), ("series", "uid"),
    ("meetings", "meeting_key"), ("messages", "message_key"), ("channels", "conv_id"), ("commits", "outcome_key"),
], ids=lambda x: x)
def test_keys_are_unique_across_the_org(org, table, column):
    values = getattr(org, table)[column]
    assert values.is_unique and len(values) > 0


def test_team_and_channel_names_are_unique_across_the_org(org):
    managers = org.people.loc[org.people["level"].isin(["M1", "M2"])]
    assert managers["team"].is_unique and org.people["team"].nunique() == len(managers)
    named = org.channels.loc[org.channels["kind"] != "dm", "name"]
    assert named.is_unique and (named == "general").sum() == 1


def test_people_are_numbered_across_divisions_and_heads_report_to_the_org_head(parts, org):
    assert org.people["person_id"].tolist() == [f"user{i:03d}@example.com" for i in range(1, 97)]
    heads = org.people.loc[org.people["level"] == "M2"]
    top = heads.loc[heads["manager_id"].isna(), "person_id"]
    assert len(heads) == 2 and len(top) == 1
    assert set(heads["manager_id"].dropna()) == set(top) and top.iloc[0] in set(parts[0].people["person_id"])


def test_general_channel_lists_everyone_once(org):
    general = org.channels.loc[org.channels["name"] == "general"].iloc[0]
    assert list(general["members"]) == org.people["person_id"].tolist()
    bot = org.messages.loc[org.messages["is_auto"] & (org.messages["channel"] == "chat")]
    assert (bot["conv_id"] == general["conv_id"]).all() and len(bot) == ORG["weeks"]


def test_only_division_0_plants(parts, org):
    first_people = set(parts[0].people["person_id"])
    p = org.planted
    planted_people = {p["night_pinger"]["manager"], p["weekend_worker"]["person"], p["long_span"]["person"],
                      p["seven_day_week"]["person"], *p["dst_meeting"]["attendees"], *p["defaults_used"]}
    assert planted_people <= first_people
    keys = {k for ks in p["message_keys"].values() for k in ks}
    assert keys <= set(parts[0].messages["message_key"])
    for later in parts[1:]:
        assert later.people["tz"].notna().all() and later.people["work_start"].notna().all()
        assert not later.meetings["kind"].isin(["midnight", "dst"]).any()
        assert "night_pinger" not in later.planted and later.planted["defaults_used"] == {}
    assert [d["people"] for d in p["divisions"]] == [48, 48] and p["people"] == 96


def _by_person_week(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["person_id", "week"]).reset_index(drop=True)


def test_truth_of_the_org_is_the_truth_of_its_divisions(parts, truth):
    whole = truth
    pieces = pd.concat([person_week_metrics(x) for x in parts], ignore_index=True)
    pd.testing.assert_frame_equal(_by_person_week(whole), _by_person_week(pieces))


@pytest.fixture(scope="module")
def streamed_store():
    store = connect(":memory:")
    counts = load_into_store(generate_divisions(**ORG, division_size=DIVISION), store)
    yield store, counts
    store.close()


def test_streamed_store_holds_every_canonical_row(streamed_store, org):
    store, counts = streamed_store
    assert counts["messages"] == len(org.messages) == store.count("messages")
    assert counts["message_recipients"] == len(org.all_recipients())
    assert store.count("people") == 96 and store.count("outcomes") == len(org.commits)


def test_metrics_of_the_streamed_store_equal_the_ground_truth(streamed_store, truth):
    store, _ = streamed_store
    ours = compute(store, Config())
    m = truth.merge(ours, on=["person_id", "week"], suffixes=("_truth", "_ours"), how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == 96 * 3
    for column in [c for c in METRIC_COLUMNS if c != "weekend_collaboration_hours"]:
        a, b = m[f"{column}_truth"], m[f"{column}_ours"]
        if column.endswith("hours") or column == "workweek_span":
            a, b = (a * 3600).round().astype("int64"), (b * 3600).round().astype("int64")
        assert (a.values == b.values).all(), column


def test_working_time_and_manager_contact_findings_are_division_0_planted_cases(streamed_store, org, tmp_path):
    """As tests/test_policy_synth.py, on two divisions: the planted cases, nobody else.

    (``rtd.contact``, colleagues' evening e-mail to people where any off-hours contact is
    prohibited, is background in every org with PT/CO/CL people, divisioned or not.)"""
    store, _ = streamed_store
    policy = tmp_path / "policy.toml"
    policy.write_text('preset = "auto"\nmanager_contact = true\n[quiet_hours]\nstart = "21:00"\nend = "07:00"\n',
                      encoding="utf-8")
    findings = check(store, Config(), load_policy(policy))
    p = org.planted
    contact = {(f.person_id, f.counterpart_id) for f in findings if f.rule == "charter.manager_contact"}
    assert contact == {(r, p["night_pinger"]["manager"]) for r in p["night_pinger"]["reports"]}
    rest = {(f.person_id, f.value) for f in findings if f.rule == "wt.daily_rest"}
    assert rest == {(b["person"], round(b["rest_hours"], 2)) for b in p["daily_rest_breaches"] if b["rest_hours"]}
    weekly = {f.person_id for f in findings if f.rule == "wt.weekly_rest"}
    assert p["seven_day_week"]["person"] in weekly
    assert weekly <= {p["seven_day_week"]["person"], *p["dst_meeting"]["attendees"]}


QUERIES = {
    "people": "SELECT person_id, email, display_name, tz, work_start, work_end, manager_id, team FROM people",
    "messages": "SELECT message_key, channel, sender_id, sent_utc, thread_id, in_reply_to, is_auto FROM messages",
    "message_recipients": "SELECT message_key, person_id, kind FROM message_recipients",
    "outcomes": "SELECT outcome_key, person_id, at_utc, title FROM outcomes",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth-divisions")
    summary = write(generate_divisions(**ORG, division_size=DIVISION), out, mail_format="maildir")
    return out, summary


def test_streamed_files_ingest_to_the_canonical_rows(written, streamed_store):
    out, summary = written
    expected, _ = streamed_store
    got = connect(":memory:")
    summaries = ingest.run([out / "mail", out / "slack", out / "git"], got, Config(), people=out / "people.csv")
    assert all(s.quarantined == 0 and s.error is None for s in summaries)
    for q in QUERIES.values():
        assert sorted(got.con.execute(q).fetchall(), key=repr) == sorted(expected.con.execute(q).fetchall(), key=repr)
    got.close()
    assert summary["divisions"] == 2 and len(list((out / "calendars").glob("*.ics"))) == 96


def test_streamed_ground_truth_and_planted_json(written, org, truth):
    out, _ = written
    streamed = pd.read_parquet(out / "ground_truth.parquet")
    pd.testing.assert_frame_equal(_by_person_week(streamed), _by_person_week(truth), check_dtype=False)
    planted = json.loads((out / "planted.json").read_text())
    assert planted["people"] == 96 and len(planted["divisions"]) == 2
    assert set(planted["holidays"]) == set(org.people["jurisdiction"].dropna())


def test_git_history_is_one_chain_through_all_divisions(written, org):
    out, _ = written
    log = subprocess.run(["git", "rev-list", "main"], cwd=out / "git", capture_output=True, text=True).stdout.split()
    assert log[::-1] == org.commits["outcome_key"].tolist()


def test_loading_the_same_divisions_again_changes_nothing(parts):
    store = connect(":memory:")
    first = load_into_store(iter(parts), store)      # empty tables: plain INSERTs
    again = load_into_store(iter(parts), store)      # tables hold rows: upserts
    assert first["messages"] == sum(len(p.messages) for p in parts) and set(again.values()) == {0}
    store.close()


def test_store_insert_refuses_a_key_already_present(parts):
    import pyarrow as pa

    from worklife.errors import StoreError
    from worklife.synth import canonical_tables

    store = connect(":memory:")
    people = pa.Table.from_pandas(canonical_tables(parts[1])["people"], preserve_index=False)
    assert store.insert("people", people) == 48
    with pytest.raises(StoreError, match="already present"):
        store.insert("people", people.slice(0, 1))
    assert store.count("people") == 48
    store.close()
