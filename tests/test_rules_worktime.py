"""One working-time rule (``worklife.rules.worktime``): metrics, policy and digest agree.

Oracle: each instant classified in plain Python with ``zoneinfo`` and the person's
resolved calendar (``workcal.resolve_person``, ``workcal.is_public_holiday``). The
synthetic organisation spans the European DST change of 30 March 2025, people in
several zones and jurisdictions, and after-hours behaviour planted on purpose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from worklife.config import Config
from worklife.digest.numbers import quick_numbers
from worklife.policy._localtime import localize, prepare
from worklife.policy.sql import as_db
from worklife.rules.meetings import meeting_rule
from worklife.rules.worktime import is_working
from worklife.store import connect
from worklife.workcal import is_public_holiday, resolve_person

synth = pytest.importorskip("worklife.synth")
metrics = pytest.importorskip("worklife.metrics")


@pytest.fixture(scope="module")
def org_store():
    org = synth.generate(people=48, weeks=2, seed=11, start=date(2025, 3, 24))
    store = connect(":memory:")
    synth.load_into_store(org, store)
    yield store
    store.close()


def schedules(store, config):
    cur = store.con.execute("SELECT * FROM people WHERE is_internal")
    names = [d[0] for d in cur.description]
    return {r["person_id"]: resolve_person(r, config) for r in (dict(zip(names, row)) for row in cur.fetchall())}


def oracle(sched, at_utc: datetime) -> bool:
    local = at_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(sched.tz))
    workday = local.weekday() in sched.workdays and not is_public_holiday(sched.jurisdiction, local.date())
    tod = local.hour * 3600 + local.minute * 60 + local.second
    return is_working(tod, sched.work_start_s, sched.work_end_s, workday)


def sent(store) -> list[tuple[str, str, datetime]]:
    return store.con.execute("""SELECT m.message_key, m.sender_id, m.sent_utc FROM messages m
        JOIN people p ON p.person_id = m.sender_id AND p.is_internal WHERE NOT m.is_auto""").fetchall()


def test_metrics_and_policy_classify_every_sent_message_like_the_oracle(org_store):
    config = Config()
    sched = schedules(org_store, config)
    rows = sent(org_store)
    expected = {(k, p): oracle(sched[p], t) for k, p, t in rows}
    assert 0 < sum(expected.values()) < len(expected), "both working and after-hours instants"

    prepare(org_store, config)
    localized = localize("SELECT m.message_key, m.sender_id, m.sent_utc FROM messages m WHERE NOT m.is_auto",
                         "sender_id", "sent_utc", "r_")
    rows = as_db(org_store).rows(f"SELECT message_key, sender_id, r_is_work FROM ({localized})")
    policy = {(k, p): w for k, p, w in rows}
    assert {k: v for k, v in policy.items() if k in expected} == expected

    run = metrics.prepare(org_store, config)
    backend = run.engine.backend
    msgs = backend.table("messages")
    instants = msgs.filter(~msgs.is_auto & msgs.sender_id.notnull()).select(
        "message_key", person_id=msgs.sender_id, at_s=msgs.sent_utc)
    located = backend.execute(run.cal.locate(instants).select("message_key", "person_id", "is_working"))
    ours = {(r.message_key, r.person_id): bool(r.is_working) for r in located.itertuples()}
    assert ours == expected


def test_digest_after_hours_counts_equal_the_oracle(org_store):
    config = Config()
    sched = schedules(org_store, config)
    lo, hi = datetime(2025, 3, 24, tzinfo=UTC), datetime(2025, 4, 7, tzinfo=UTC)
    windows = {p: (lo, hi) for p in sched}
    got = quick_numbers(org_store, config, list(sched.values()), windows)

    rule = meeting_rule(config)
    instants = org_store.con.execute(f"""
        SELECT sender_id, sent_utc FROM messages WHERE NOT is_auto AND sender_id IS NOT NULL
        UNION ALL SELECT person_id, at_utc FROM outcomes WHERE kind = 'commit' AND person_id IS NOT NULL
        UNION ALL SELECT person_id, start_utc FROM ({rule.qualifying_attendance_sql()})""").fetchall()
    n0, n1 = lo.replace(tzinfo=None), hi.replace(tzinfo=None)
    total: dict[str, int] = {}
    after: dict[str, int] = {}
    for pid, t in instants:
        if pid in sched and n0 <= t < n1:
            total[pid] = total.get(pid, 0) + 1
            after[pid] = after.get(pid, 0) + (not oracle(sched[pid], t))
    assert sum(after.values()) > 0
    assert {p: (n.total, n.after_hours) for p, n in got.items() if n.total} == \
        {p: (total[p], after[p]) for p in total}
