"""Sign-in, sessions, cookies, CSRF, throttle, trusted-header SSO, and the numbers the API serves.

In process (Starlette TestClient). The API's numbers are checked against an
independent computation: ``worklife.metrics.compute`` on the same store, averaged
with pandas here.
"""

from __future__ import annotations

import warnings

import pytest

from tests._app_env import ALIAS, EMPLOYEE, PASSWORD, build_env

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from worklife.app import create_app
from worklife.app.users import AppDb, check_password, hash_password, users_db_path
from worklife.config import Config


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    pytest.importorskip("worklife.synth")
    return build_env(tmp_path_factory.mktemp("auth"))


@pytest.fixture(scope="module")
def app(env):
    return create_app(env.store_path, env.config)


def client(app, **kw) -> TestClient:
    return TestClient(app, base_url="https://testserver", **kw)


def login_form(c: TestClient, email: str, password: str, next: str = "/"):
    c.get("/login")
    token = c.cookies.get("__Host-wl_login")
    return c.post("/login", data={"email": email, "password": password, "csrf": token, "next": next},
                  follow_redirects=False)


def test_passwords_are_argon2_hashes():
    h = hash_password("a-long-password")
    assert h.startswith("$argon2id$") and "a-long-password" not in h
    assert check_password(h, "a-long-password") and not check_password(h, "wrong")
    assert not check_password(None, "anything") and not check_password("garbage", "x")


def test_sign_in_sets_a_secure_http_only_same_site_cookie(app):
    r = login_form(client(app), EMPLOYEE, PASSWORD, next="/me/trends")
    assert r.status_code == 303 and r.headers["location"] == "/me/trends"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("__Host-worklife=")).lower()
    for flag in ("httponly", "secure", "samesite=strict", "path=/"):
        assert flag in cookie
    assert "domain=" not in cookie


def test_session_token_is_stored_hashed(app, env):
    c = client(app)
    login_form(c, EMPLOYEE, PASSWORD)
    token = c.cookies.get("__Host-worklife")
    raw = users_db_path(env.store_path, env.config).read_bytes()
    assert token and token.encode() not in raw


def test_sign_in_form_needs_its_csrf_token(app):
    c = client(app)
    c.get("/login")
    r = c.post("/login", data={"email": EMPLOYEE, "password": PASSWORD, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "__Host-worklife" not in r.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", ["//evil.example.com/", "https://evil.example.com/", "/\\evil.example.com"])
def test_sign_in_never_redirects_off_site(app, target):
    r = login_form(client(app), EMPLOYEE, PASSWORD, next=target)
    assert r.headers["location"] == "/"


def test_wrong_password_is_refused_and_sign_in_is_throttled(env):
    app = create_app(env.store_path, Config({"app.login_max_failures": 3}))
    c = client(app)
    for _ in range(3):
        r = c.post("/api/login", json={"email": "user001@example.com", "password": "wrong-password"})
        assert r.status_code == 401 and r.json()["ok"] is False
    r = c.post("/api/login", json={"email": "user001@example.com", "password": PASSWORD})
    assert r.status_code == 429
    assert login_form(client(app), "user001@example.com", PASSWORD).status_code == 429
    assert client(app).post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD}).status_code == 200


def test_unknown_accounts_get_the_same_answer(app):
    r = client(app).post("/api/login", json={"email": "nobody@example.com", "password": "whatever-password"})
    assert r.status_code == 401 and r.json()["error"] == "wrong e-mail or password"


def test_api_login_accepts_only_json(app):
    r = client(app).post("/api/login", data={"email": EMPLOYEE, "password": PASSWORD})
    assert r.status_code in (415, 422)


def test_sign_out_ends_the_session(app):
    c = client(app)
    csrf = c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD}).json()["csrf"]
    token = c.cookies.get("__Host-worklife")
    assert c.get("/api/me/weeks").status_code == 200
    assert c.post("/logout", data={}, follow_redirects=False).status_code == 403
    r = c.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    stale = client(app)
    stale.cookies.set("__Host-worklife", token)
    assert stale.get("/api/me/weeks").status_code == 401


def test_a_role_change_ends_sessions(env):
    app = create_app(env.store_path, env.config)
    db = app.state.db
    db.add_user("temp@example.com", "analyst", PASSWORD)
    c = client(app)
    c.post("/api/login", json={"email": "temp@example.com", "password": PASSWORD})
    assert c.get("/api/findings").status_code == 200
    db.set_role("temp@example.com", "admin")
    assert c.get("/api/findings").status_code == 401
    db.remove_user("temp@example.com")


def test_security_headers(app):
    r = client(app).get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_trusted_header_is_off_by_default(app):
    c = client(app, client=("127.0.0.1", 4000))
    assert c.get("/api/me/weeks", headers={"X-Forwarded-Email": EMPLOYEE}).status_code == 401


def test_trusted_header_signs_in_only_from_a_trusted_proxy(env):
    cfg = Config({"app.trusted_header": "X-Forwarded-Email"})
    app = create_app(env.store_path, cfg)
    proxy = client(app, client=("127.0.0.1", 4000))
    r = proxy.get("/api/me/weeks", headers={"X-Forwarded-Email": EMPLOYEE})
    assert r.status_code == 200 and r.json()["weeks"][0]["person_id"] == EMPLOYEE
    outsider = client(app, client=("203.0.113.9", 4000))
    assert outsider.get("/api/me/weeks", headers={"X-Forwarded-Email": EMPLOYEE}).status_code == 401
    unknown = client(app, client=("127.0.0.1", 4001))
    assert unknown.get("/api/me/weeks", headers={"X-Forwarded-Email": "stranger@example.com"}).status_code == 401


def test_my_weeks_equal_the_metric_engine(app, env):
    from worklife.metrics import compute

    c = client(app)
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})
    got = c.get("/api/me/weeks").json()["weeks"]
    want = compute(env.store_path, env.config)
    want = want[want.person_id == EMPLOYEE].sort_values("week")
    assert [w["week"] for w in got] == list(want.week)
    for g, (_, w) in zip(got, want.iterrows()):
        assert g["meeting_hours"] == pytest.approx(w.meeting_hours)
        assert g["after_hours_collaboration_hours"] == pytest.approx(w.after_hours_collaboration_hours)
    assert c.get(f"/api/people/{ALIAS}/weeks").json()["weeks"] == got


def test_team_weeks_equal_an_independent_mean(app, env):
    from worklife.metrics import compute
    from worklife.store import connect

    c = client(app)
    c.post("/api/login", json={"email": "analyst@example.com", "password": PASSWORD})
    got = c.get("/api/teams/Borealis/weeks").json()
    pw = compute(env.store_path, env.config)
    with connect(env.store_path, read_only=True) as s:
        members = {r[0] for r in s.con.execute("SELECT person_id FROM people WHERE team = 'Borealis'").fetchall()}
    team = pw[pw.person_id.isin(members)]
    means = team.groupby("week").meeting_hours.mean()
    assert got["people"] == len(members) and len(got["weeks"]) == len(means)
    for w in got["weeks"]:
        assert w["meeting_hours"] == pytest.approx(means[w["week"]])


def test_correction_requests_reach_the_admin(app):
    c = client(app)
    csrf = c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD}).json()["csrf"]
    r = c.post("/me/correction", data={"field": "workdays", "value": "Sun-Thu", "note": "<b>hi</b>", "csrf": csrf},
               follow_redirects=False)
    assert r.status_code == 303
    admin = client(app)
    admin.post("/api/login", json={"email": "admin@example.com", "password": PASSWORD})
    html = admin.get("/admin").text
    assert "Sun-Thu" in html and "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html


def test_app_db_lives_beside_the_store(env):
    path = users_db_path(env.store_path, env.config)
    assert path.name == "worklife.app.sqlite" and path.parent == env.store_path.parent
    db = AppDb(path)
    assert {u.role for u in db.users()} >= {"employee", "manager", "analyst", "admin"}
    db.close()


def test_api_sign_out_needs_the_csrf_header(app):
    c = client(app)
    csrf = c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD}).json()["csrf"]
    assert c.post("/api/logout").status_code == 403
    assert c.post("/api/logout", headers={"X-CSRF-Token": csrf}).json() == {"ok": True}
    assert c.get("/api/me/weeks").status_code == 401
