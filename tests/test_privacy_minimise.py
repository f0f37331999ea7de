"""The store keeps only what a metric needs: titles, subjects and channel names reduced at ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.privacy.minimise import Minimiser
from worklife.store import connect

KEY = "k" * 32


def test_a_title_keeps_only_the_phrases_the_rules_match():
    m = Minimiser(Config(), KEY)
    assert m.title("Weekly status sync – Project Falcon") == "status · sync"
    assert m.title("Falcon 1:1 with the acquisition lawyer") == "1:1"
    assert m.title("Lunch with the board") == ""
    assert m.title(None) is None


def test_a_subject_keeps_its_phrases_and_a_keyed_thread_hash():
    m = Minimiser(Config(), KEY)
    a = m.subject("URGENT: merger terms for Falcon")
    assert a.startswith("URGENT #") and "merger" not in a and "Falcon" not in a
    assert m.subject("Re: RE: urgent: merger terms for falcon").split()[-1] == a.split()[-1]  # same thread
    assert m.subject("Fwd: other things").split()[-1] != a.split()[-1]
    assert Minimiser(Config(), "other" * 8).subject("URGENT: merger terms for Falcon") != a  # keyed
    assert m.thread("subject:merger terms") == "subject:" + m.thread_hash("merger terms")
    assert m.thread("<id@example.com>") == "<id@example.com>"


def test_rules_give_the_same_answer_on_the_reduced_text():
    """Status, categories and urgency: every configured rule matches the reduced text iff the original."""
    import re

    cfg = Config()
    m = Minimiser(cfg, KEY)
    titles = ["Daily stand-up", "Sprint planning", "Design review", "Friday huddle (Falcon)", "Focus time",
              "Incident postmortem", "Weekly update meeting", "Team lunch", "Check-in: Q3 numbers"]
    rules = list(cfg["metrics.status_title_patterns"]) + [
        p for ps in cfg["metrics.work_about_work_categories"].values() for p in ps] + [r"\burgent\b"]
    for t in titles:
        for r in rules:
            assert bool(re.search(r, t, re.I)) == bool(re.search(r, m.title(t), re.I)), (t, r)


def _mbox(path: Path) -> Path:
    path.write_text(
        "From x Mon Jan  6 10:00:00 2025\nFrom: user01@example.com\nTo: user02@example.com\n"
        "Date: Mon, 6 Jan 2025 10:00:00 +0000\nSubject: Falcon acquisition: weekly status\n\nbody\n\n"
        "From x Mon Jan  6 11:00:00 2025\nFrom: user02@example.com\nTo: user01@example.com\n"
        "Date: Mon, 6 Jan 2025 11:00:00 +0000\nSubject: Re: Falcon acquisition: weekly status\n\nbody\n",
        encoding="utf-8")
    return path


@pytest.mark.parametrize("keep", [False, True], ids=["default", "keep_titles"])
def test_ingest_stores_the_reduced_subject_unless_asked_to_keep_it(tmp_path, keep):
    db = tmp_path / "w.duckdb"
    with connect(db) as store:
        ingest.run([_mbox(tmp_path / "a.mbox")], store, Config({"privacy.keep_titles": keep}))
        rows = store.con.execute("SELECT subject_or_channel, thread_id FROM messages ORDER BY sent_utc").fetchall()
    text = repr(rows)
    if keep:
        assert "Falcon acquisition" in text
        return
    assert "Falcon" not in text and "acquisition" not in text
    assert rows[0][0].startswith("status #") and rows[0][0] == rows[1][0]  # one thread, one hash
    assert (tmp_path / "w.duckdb.key").exists()
