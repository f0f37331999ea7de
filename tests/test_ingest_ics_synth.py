"""Round trip through the synthetic organisation: synth writes one .ics per person, the
iCalendar adapter reads them back, and the store must hold synth's own meetings and
attendees (series with EXDATEs and overrides in many zones, the same meeting in every
invitee's file, each person's own response).
"""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from worklife import ingest
from worklife.config import Config

synth = pytest.importorskip("worklife.synth")
from worklife.synth.write_ics import write_calendars  # noqa: E402

PARSED = Config({"privacy.keep_titles": True})  # parser tests read titles as parsed (docs/privacy.md)


def _key(key: str) -> str:
    """meeting_key with the recurrence id's separators dropped (compare across conventions)."""
    return key.replace("-", "").replace(":", "")


@pytest.fixture(scope="module")
def org_and_store(tmp_path_factory):
    from worklife.store import connect

    org = synth.generate(people=48, weeks=2, seed=11)
    folder = tmp_path_factory.mktemp("synth") / "calendars"
    write_calendars(org, folder)
    truth = synth.canonical_tables(org)
    store = connect(":memory:")
    store.upsert("people", pa.Table.from_pandas(truth["people"], preserve_index=False))
    window = (org.start - timedelta(days=7), org.start + timedelta(days=7 * org.weeks + 7))
    (summary,) = ingest.run([folder], store, PARSED, kind="ics", window=window)
    yield org, truth, store, summary
    store.close()


def test_every_synthetic_meeting_comes_back_once_with_its_times(org_and_store):
    _, truth, store, summary = org_and_store
    assert summary.quarantined == 0
    want = {(_key(r.meeting_key), r.start_utc.to_pydatetime(), r.end_utc.to_pydatetime(), r.status, r.transp,
             r.organizer_id, r.title, bool(r.is_recurring))
            for r in truth["meetings"].itertuples() if not r.all_day}
    got = {(_key(k), s, e, st, tr, o, t, rec) for k, s, e, st, tr, o, t, rec, all_day in store.con.execute(
        "SELECT meeting_key, start_utc, end_utc, status, transp, organizer_id, title, is_recurring, all_day "
        "FROM meetings").fetchall() if not all_day}
    assert got == want


def test_every_attendee_and_response_comes_back(org_and_store):
    _, truth, store, _ = org_and_store
    want = {(_key(r.meeting_key), r.person_id, r.response, bool(r.is_organizer))
            for r in truth["meeting_attendees"].itertuples()}
    got = {(_key(k), p, resp, org) for k, p, resp, org in store.con.execute(
        "SELECT meeting_key, person_id, response, is_organizer FROM meeting_attendees").fetchall()}
    assert got == want
