"""The web app as an outsider and as a signed-in user acting against others would use it
(in process, Starlette TestClient): where sign-in may send you, session rotation, headers
on every answer including crashes, CSRF on every state-changing route, odd inputs that
must not leak paths or tracebacks."""

from __future__ import annotations

import warnings
from urllib.parse import urljoin, urlsplit

import pytest

from tests._app_env import EMPLOYEE, PASSWORD, build_env

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from worklife.app import create_app

BASE = "https://testserver"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    pytest.importorskip("worklife.synth")
    return build_env(tmp_path_factory.mktemp("appsec"))


@pytest.fixture(scope="module")
def app(env):
    return create_app(env.store_path, env.config)


def client(app) -> TestClient:
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


def login_form(c: TestClient, email: str = EMPLOYEE, next: str = "/"):
    c.get("/login")
    return c.post("/login", data={"email": email, "password": PASSWORD, "csrf": c.cookies.get("__Host-wl_login"),
                                  "next": next}, follow_redirects=False)


@pytest.mark.parametrize("target", [
    "/\t/evil.example.com", "/\n/evil.example.com", "\\\\evil.example.com", "/%5Cevil.example.com",
    "/%2F%2Fevil.example.com", "%2F%2Fevil.example.com", "/..//evil.example.com", "/.//evil.example.com",
    "https:evil.example.com", "javascript:alert(1)", "/\u2028/evil.example.com", "/@evil.example.com",
    "///evil.example.com", "/\\/evil.example.com", " //evil.example.com", "\t//evil.example.com"])
def test_sign_in_sends_you_only_to_this_site(app, target):
    r = login_form(client(app), next=target)
    assert r.status_code == 303
    where = urlsplit(urljoin(BASE + "/", r.headers["location"]))
    assert (where.scheme, where.netloc) == ("https", "testserver"), r.headers["location"]


@pytest.mark.parametrize("how", ["form", "api"])
def test_signing_in_again_ends_the_earlier_session(app, how):
    """Someone signing in on a browser where another account was signed in must not leave that
    account's session alive behind the new cookie (shared computers, fixation)."""
    c = client(app)
    assert c.post("/api/login", json={"email": "user001@example.com", "password": PASSWORD}).status_code == 200
    first = c.cookies.get("__Host-worklife")
    if how == "form":  # a sign-in form opened earlier in this browser, posted now
        c.cookies.set("__Host-wl_login", "form-token")
        r = c.post("/login", data={"email": EMPLOYEE, "password": PASSWORD, "csrf": "form-token", "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303
    else:
        assert c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD}).status_code == 200
    second = c.cookies.get("__Host-worklife")
    assert second and second != first
    old = client(app)
    old.cookies.set("__Host-worklife", first)
    assert old.get("/api/me/weeks").status_code == 401
    new = client(app)
    new.cookies.set("__Host-worklife", second)
    assert new.get("/api/me/weeks").status_code == 200


@pytest.mark.parametrize("url", ["/me/week", "/api/me/weeks"])
def test_a_crash_answers_with_the_same_headers_and_no_details(app, url, monkeypatch):
    c = client(app)
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})

    def crash(person_id):
        raise RuntimeError("boom in /srv/secret/worklife.duckdb")

    monkeypatch.setattr(app.state.data, "person_rows", crash)
    r = c.get(url)
    assert r.status_code == 500
    assert r.headers.get("cache-control") == "no-store"
    assert "script-src 'self'" in r.headers.get("content-security-policy", "")
    assert r.headers.get("x-content-type-options") == "nosniff" and r.headers.get("x-frame-options") == "DENY"
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text


@pytest.mark.parametrize("url", [
    "/me/explain?week=%00", "/me/week?week=" + "x" * 11, "/api/people/%00/weeks", "/api/people/" + "a" * 5000 + "/weeks",
    "/team/%00", "/digest/..%2F..%2Fetc", "/export/..%2Fx.csv", "/static/%2e%2e/%2e%2e/etc/passwd",
    "/api/teams/%FF/weeks", "/me/explain?week=2026-W01&metric=" + "m" * 61, "/nope"])
def test_odd_urls_answer_4xx_without_paths_or_tracebacks(app, env, url):
    c = client(app)
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})
    r = c.get(url)
    assert 400 <= r.status_code < 500
    assert str(env.store_path.parent) not in r.text and "Traceback" not in r.text
    if not url.startswith("/static"):
        assert r.headers.get("cache-control") == "no-store"


def test_every_state_changing_route_is_csrf_checked(app):
    """Every non-GET route is a sign-in (its own pre-session token or a JSON body) or is in the
    CSRF matrix of test_app_access (which posts each without and with a forged token)."""
    from tests.test_app_access import POSTS

    checked = {url for url, _, _ in POSTS} | {"/login", "/api/login", "/logout", "/api/logout"}
    for route in app.routes:
        methods = set(getattr(route, "methods", None) or ()) - {"GET", "HEAD"}
        if methods:
            assert route.path in checked, f"{sorted(methods)} {route.path} has no CSRF test"


def test_cross_site_forms_cannot_sign_in_through_the_api(app):
    """A cross-site page can post a form (urlencoded or text/plain) but not application/json."""
    for kind, body in [("application/x-www-form-urlencoded", f"email={EMPLOYEE}&password={PASSWORD}"),
                       ("text/plain", f'{{"email": "{EMPLOYEE}", "password": "{PASSWORD}"}}')]:
        r = client(app).post("/api/login", content=body, headers={"content-type": kind})
        assert r.status_code in (415, 422) and "set-cookie" not in r.headers


def test_the_guard_page_shows_a_recipient_only_what_reached_them(env, tmp_path):
    """A sender's held, recalled or dead message never reached its recipient: the recipient's
    Guard page must not reveal it (a recall is meant to leave no trace at the recipient);
    their own messages they see in every state."""
    import sqlite3

    from worklife.config import Config
    from worklife.guard.queue import NewDelivery, Queue

    colleague = "user003@example.com"
    path = tmp_path / "guard.sqlite"
    q = Queue(path)
    rows = {}
    for state in ("held", "recalled", "dead", "delivered"):
        ids, _ = q.add(colleague, b"Subject: s\r\n\r\nx\r\n", [NewDelivery(EMPLOYEE, "UTC", "hold", 0, 0)],
                       0).result()
        rows[ids[0]] = state
    mine, _ = q.add(EMPLOYEE, b"Subject: s\r\n\r\nx\r\n", [NewDelivery(colleague, "UTC", "hold", 0, 0)], 0).result()
    q.close()
    with sqlite3.connect(path) as con:
        con.executemany("UPDATE deliveries SET state=? WHERE id=?", [(s, i) for i, s in rows.items()])
        con.execute("UPDATE deliveries SET state='recalled' WHERE id=?", (mine[0],))
    c = TestClient(create_app(env.store_path, Config({"app.guard_queue": str(path)})), base_url=BASE)
    c.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD})
    html = c.get("/me/guard").text
    shown = {i for i in [*rows, mine[0]] if f'data-sort="{i}"' in html}
    delivered = next(i for i, s in rows.items() if s == "delivered")
    assert shown == {delivered, mine[0]}


def test_the_sign_in_throttle_counts_an_ipv6_64_as_one_client(env):
    """Password spraying (a different e-mail each time) from rotating addresses of one /64 is
    one client: after 4 x app.login_max_failures failures it waits like any other."""
    from worklife.config import Config

    app = create_app(env.store_path, Config({"app.login_max_failures": 2}))
    codes = []
    for i in range(10):
        c = TestClient(app, base_url=BASE, client=(f"2001:db8:5:6::{i + 1:x}", 4000))
        codes.append(c.post("/api/login", json={"email": f"user{i + 10:03d}@example.com",
                                                "password": "wrong-password"}).status_code)
    assert codes == [401] * 8 + [429, 429]
    other = TestClient(app, base_url=BASE, client=("2001:db8:5:7::1", 4000))
    assert other.post("/api/login", json={"email": EMPLOYEE, "password": PASSWORD}).status_code == 200


def test_the_sign_in_form_cookie_cannot_be_planted_by_a_sibling_host(app):
    """A host under the same site (evil.example.com) is same-site: SameSite does not stop it
    from setting a cookie for the parent domain. The sign-in form's token cookie is a
    ``__Host-`` cookie (Secure, Path=/, no Domain), which browsers let only this host set —
    else a planted token would let that host sign a victim in to the attacker's account."""
    r = client(app).get("/login")
    cookie = next(h for h in r.headers.get_list("set-cookie") if "wl_login" in h)
    assert cookie.startswith("__Host-wl_login=")
    low = cookie.lower()
    assert "secure" in low and "path=/" in low and "domain=" not in low and "httponly" in low


def test_a_pseudonym_is_not_tied_to_a_jurisdiction_of_fewer_than_the_minimum(app):
    """The synthetic org has one person in India, one in Nepal and two in California: a
    pseudonymised finding that names its jurisdiction names the person to anyone who knows
    who works there, and so links the pseudonym everywhere else it appears."""
    c = client(app)
    c.post("/api/login", json={"email": "analyst@example.com", "password": PASSWORD})
    findings = c.get("/api/findings").json()["findings"]
    people = app.state.data.people()
    codes = people.jurisdiction.fillna("").str.upper()
    small = {j for j in set(codes) if j and (codes == j).sum() < app.state.data.min_group}
    assert {"IN", "NP", "US-CA"} <= small
    personal = [f for f in findings if f["person"] != "(organisation)"]
    assert personal
    for f in personal:
        assert f["jurisdiction"] not in small, f
        assert not any(f"'{j}'" in f["message"] for j in small), f
    withheld = [f for f in personal if f["person"] == "(withheld)"]
    assert len(withheld) >= 4 and all(f["jurisdiction"] == "" for f in withheld)
    csv = c.get("/export/findings.csv").text
    assert "'IN'" not in csv and ",IN," not in csv and ",NP," not in csv
