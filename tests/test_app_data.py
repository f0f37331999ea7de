"""The app's data layer: cached until the store changes; the Guard page lists only one's own messages."""

from __future__ import annotations

import warnings

import pytest

from tests._app_env import ALIAS, EMPLOYEE, PASSWORD, build_env

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from worklife.app import create_app
from worklife.app.data import AppData
from worklife.config import Config
from worklife.store import connect


@pytest.fixture
def env(tmp_path):
    pytest.importorskip("worklife.synth")
    return build_env(tmp_path, people=48, weeks=1)


def test_results_are_cached_until_the_store_changes(env):
    data = AppData(env.store_path, env.config)
    calls = []
    first = data.cached("probe", lambda: calls.append(1) or len(calls))
    assert data.cached("probe", lambda: calls.append(1) or len(calls)) == first == 1
    n = len(data.people())
    with connect(env.store_path) as store:
        store.upsert("people", [{"person_id": "newcomer@example.com", "email": "newcomer@example.com",
                                 "team": "Atlas", "is_internal": True}], update=True)
    assert len(data.people()) == n + 1
    assert data.cached("probe", lambda: calls.append(1) or len(calls)) == 2


def test_people_resolve_by_email_id_and_alias(env):
    data = AppData(env.store_path, env.config)
    assert data.resolve_person(EMPLOYEE.upper()) == EMPLOYEE
    assert data.resolve_person(ALIAS) == EMPLOYEE
    assert data.resolve_person("stranger@example.com") is None
    assert {EMPLOYEE, ALIAS} <= data.addresses(EMPLOYEE)


def _queue(path, rows):
    from worklife.guard.queue import NewDelivery, Queue

    with Queue(path) as q:
        for sender, recipient in rows:
            q.add(sender, b"Subject: x\r\n\r\nbody", [NewDelivery(recipient, "UTC", "hold", 2_000_000_000_000,
                                                                 2_000_000_000_000)], 1_700_000_000_000).result()


def test_guard_page_lists_only_my_messages(env, tmp_path):
    queue = tmp_path / "guard.sqlite"
    _queue(queue, [(EMPLOYEE, "user005@example.com"), ("user007@example.com", ALIAS),
                   ("user008@example.com", "user009@example.com")])
    app = create_app(env.store_path, Config({"app.guard_queue": str(queue)}))
    c = TestClient(app, base_url="https://testserver")
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})
    html = c.get("/me/guard").text
    assert "user005@example.com" in html  # sent by me, held
    assert "user007@example.com" not in html  # held for me: not mine to see until it reaches me
    assert "user008@example.com" not in html and "user009@example.com" not in html
    import sqlite3

    with sqlite3.connect(queue) as con:
        con.execute("UPDATE deliveries SET state='delivered' WHERE sender='user007@example.com'")
    assert "user007@example.com" in c.get("/me/guard").text  # delivered to me (by my alias)


def test_guard_page_says_when_no_queue_is_configured(env):
    c = TestClient(create_app(env.store_path, env.config), base_url="https://testserver")
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})
    assert "No guard queue is configured" in c.get("/me/guard").text


def test_charts_have_a_no_data_state_and_cannot_break_out_of_their_script_block():
    import json

    import pandas as pd

    from worklife.app.render import bar_chart, line_chart

    empty = line_chart("c", "Hours", "hours", pd.DataFrame(columns=["week", "x"]), "week", {"x": "X"},
                       message="Nothing yet.")
    assert empty.figure_json is None and empty.message == "Nothing yet." and empty.unit == "hours"
    evil = bar_chart("b", "Teams", "hours", ["</script><script>alert(1)</script>"], {"Mean": [1.0]})
    assert "<" not in evil.figure_json
    assert json.loads(evil.figure_json)["data"][0]["x"] == ["</script><script>alert(1)</script>"]


def test_a_store_that_cannot_be_opened_answers_503_not_a_traceback(env):
    c = TestClient(create_app(env.store_path, env.config), base_url="https://testserver")
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})
    env.store_path.write_bytes(b"not a duckdb file")  # as if replaced mid-write
    r = c.get("/api/me/weeks")
    assert r.status_code == 503 and r.json()["ok"] is False
    assert c.get("/me/week").status_code == 503


def test_while_the_store_cannot_be_opened_earlier_results_are_served(env):
    import os

    data = AppData(env.store_path, env.config)
    before = data.people()
    good = env.store_path.read_bytes()
    env.store_path.write_bytes(b"being rewritten")
    os.utime(env.store_path, (1, 1))  # a different file state
    assert data.people().equals(before)  # the last good answer, not an error
    with pytest.raises(Exception, match="cannot open store"):
        data.team_table()  # never computed before: nothing to fall back to
    env.store_path.write_bytes(good)
    assert len(data.people()) == len(before)
