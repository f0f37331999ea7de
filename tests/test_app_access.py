"""Every route of the web app as every role: what answers 200, what redirects, what is 404.

Runs in process (Starlette TestClient). A changed id in a URL (a colleague, another
team, a suppressed team) must answer exactly like a route that does not exist.
"""

from __future__ import annotations

import re
import warnings

import pytest

from tests._app_env import ACCOUNTS, PASSWORD, build_env

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from worklife.app import create_app

ROLES = ["anon", *ACCOUNTS]
TIED = {"employee", "manager", "manager_small"}


def allow(*roles: str, anon: int = 303, other: int = 404, ok: int = 200) -> dict[str, int]:
    """Expected status per role: ``ok`` for ``roles``, ``anon`` signed out, ``other`` for the rest."""
    return {r: (anon if r == "anon" else ok if r in roles else other) for r in ROLES}


def api(*roles: str) -> dict[str, int]:
    return allow(*roles, anon=401)


# (url, expected status per role); "{week}" is the store's first ISO week.
MATRIX: list[tuple[str, dict[str, int]]] = [
    ("/", allow(*ACCOUNTS, ok=303)),
    ("/login", {r: 200 if r == "anon" else 303 for r in ROLES}),
    ("/nothing", allow(*ACCOUNTS)),
    ("/me/week", allow(*TIED)),
    ("/me/week?week=2099-W01", allow(*TIED)),
    ("/me/trends", allow(*TIED)),
    ("/me/boundaries", allow(*TIED)),
    ("/me/guard", allow(*TIED)),
    ("/me/explain?week={week}&metric=meeting_hours", allow(*TIED)),
    ("/me/explain?week={week}", allow(*TIED)),
    ("/me/explain?week=1999-W01&metric=meeting_hours", allow()),
    ("/me/explain?week={week}&metric=no_such_metric", allow()),
    ("/team", allow("manager", "manager_small", "analyst", ok=303)),
    ("/team/Atlas", allow("manager", "analyst")),
    ("/team/Borealis", allow("analyst")),
    ("/team/Deneb", allow("manager_small")),
    ("/team/No%20such%20team", allow()),
    ("/digest", allow("manager", "manager_small", ok=303)),
    ("/digest/Atlas", allow("manager")),
    ("/digest/Atlas?week={week}", allow("manager")),
    ("/digest/Borealis", allow()),
    ("/org", allow("analyst")),
    ("/findings", allow("analyst")),
    ("/export/teams.csv", allow("analyst")),
    ("/export/org-weeks.csv", allow("analyst")),
    ("/export/findings.csv", allow("analyst")),
    ("/export/people.csv", allow()),
    ("/admin", allow("admin")),
    ("/api/me/weeks", api(*TIED)),
    ("/api/people/user002@example.com/weeks", api("employee")),
    ("/api/people/USER002@example.com/weeks", api("employee")),
    ("/api/people/u-two@chat.example.com/weeks", api("employee")),
    ("/api/people/user003@example.com/weeks", api()),
    ("/api/people/user001@example.com/weeks", api("manager")),
    ("/api/people/analyst@example.com/weeks", api()),
    ("/api/teams/Atlas/weeks", api("manager", "analyst")),
    ("/api/teams/Borealis/weeks", api("analyst")),
    ("/api/teams/Deneb/weeks", api("manager_small")),
    ("/api/teams/Nobody/weeks", api()),
    ("/api/findings", api("analyst")),
    ("/api/openapi.json", {r: 200 for r in ROLES}),
    ("/static/app.js", {r: 200 for r in ROLES}),
    ("/static/app.css", {r: 200 for r in ROLES}),
    ("/static-vendor/plotly.min.js", {r: 200 for r in ROLES}),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    pytest.importorskip("worklife.synth")
    return build_env(tmp_path_factory.mktemp("app"))


@pytest.fixture(scope="module")
def app(env):
    return create_app(env.store_path, env.config)


@pytest.fixture(scope="module")
def clients(app):
    """One signed-in client per role (and one signed out), with its CSRF token."""
    out = {"anon": (TestClient(app, base_url="https://testserver"), "")}
    for role, (email, _, _) in ACCOUNTS.items():
        c = TestClient(app, base_url="https://testserver")
        r = c.post("/api/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        out[role] = (c, r.json()["csrf"])
    return out


@pytest.fixture(scope="module")
def week(app):
    return app.state.data.weeks()[0]


CASES = [(url, role, want[role]) for url, want in MATRIX for role in ROLES]


@pytest.mark.parametrize(("url", "role", "status"), CASES, ids=[f"{r}:{u}" for u, r, _ in CASES])
def test_route_answers_as_the_role_allows(clients, week, url, role, status):
    client, _ = clients[role]
    r = client.get(url.format(week=week), follow_redirects=False)
    assert r.status_code == status, r.text[:300]
    if status == 404 and url.startswith("/api/"):
        assert r.json() == {"ok": False, "error": "not found", "status": 404}
    if status == 401:
        assert r.json()["ok"] is False


def _get_routes(app):
    from worklife.app import api, pages_admin, pages_group, pages_me, pages_session

    routes = [r for r in app.routes if hasattr(r, "path_regex") and hasattr(r, "methods")]
    for module in (pages_session, pages_me, pages_group, pages_admin, api):
        routes += module.router.routes
    return [r for r in routes if "GET" in r.methods]


def test_every_get_route_is_in_the_matrix(app):
    urls = [u.split("?")[0].replace("%20", " ") for u, _ in MATRIX]
    routes = _get_routes(app)
    assert len(routes) >= 20
    for route in routes:
        assert any(route.path_regex.match(u) for u in urls), f"route {route.path} is not tried by every role"


POSTS = [
    ("/admin/users/add", {"email": "new@example.com", "role": "analyst", "password": "a-long-password"}, {"admin"}),
    ("/admin/users/role", {"email": "new@example.com", "role": "employee"}, {"admin"}),
    ("/admin/users/remove", {"email": "new@example.com"}, {"admin"}),
    ("/me/correction", {"field": "tz", "value": "Europe/Lisbon", "note": "moved"}, TIED),
]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anon"])
@pytest.mark.parametrize(("url", "form", "allowed"), POSTS, ids=[p[0] for p in POSTS])
def test_forms_answer_as_the_role_allows(clients, role, url, form, allowed):
    client, csrf = clients[role]
    r = client.post(url, data={**form, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == (303 if role in allowed else 404), r.text[:300]


@pytest.mark.parametrize(("url", "form", "allowed"), POSTS, ids=[p[0] for p in POSTS])
def test_forms_without_the_csrf_token_are_refused(clients, url, form, allowed):
    role = min(allowed)
    client, _ = clients[role]
    r = client.post(url, data=form, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(url, data={**form, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403


def test_signed_out_forms_go_to_sign_in(clients):
    client, _ = clients["anon"]
    r = client.post("/me/correction", data={"field": "tz", "value": "UTC"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_manager_pages_show_no_individual(clients, app):
    client, _ = clients["manager"]
    people = app.state.data.people()
    atlas = [p for p in people[people.team == "Atlas"].person_id if p != "user001@example.com"]
    html = client.get("/team/Atlas").text
    assert "Atlas: weekly means per person" in html
    for pid in atlas:
        assert pid not in html
    body = client.get("/api/teams/Atlas/weeks").json()
    assert body["suppressed"] is False and body["weeks"]
    assert all(w["people"] >= 10 for w in body["weeks"])
    assert "person_id" not in str(body)


def test_a_team_under_the_minimum_size_shows_no_numbers(clients):
    client, _ = clients["manager_small"]
    body = client.get("/api/teams/Deneb/weeks").json()
    assert body == {"ok": True, "team": "Deneb", "people": 9, "suppressed": True, "min_group_size": 10, "weeks": []}
    html = client.get("/team/Deneb").text
    assert "fewer than the minimum group size" in html and 'class="plot"' not in html


def test_findings_are_pseudonymised(clients, app):
    client, _ = clients["analyst"]
    body = client.get("/api/findings").json()
    ids = set(app.state.data.people().person_id)
    assert body["pseudonymised"] is True and body["findings"]
    people = {f["person"] for f in body["findings"]} | {f["counterpart"] for f in body["findings"]}
    assert not people & ids
    assert not any(pid in client.get("/findings").text for pid in ids)
    assert not any(pid in client.get("/export/findings.csv").text for pid in ids)


def test_findings_name_people_when_the_setting_says_so(env):
    from worklife.config import Config

    cfg = Config({"app.identify_findings": True})
    client = TestClient(create_app(env.store_path, cfg), base_url="https://testserver")
    client.post("/api/login", json={"email": "analyst@example.com", "password": PASSWORD})
    body = client.get("/api/findings").json()
    assert body["pseudonymised"] is False
    assert {f["person"] for f in body["findings"]} & set(client.app.state.data.people().person_id)


def test_openapi_documents_the_api(clients):
    paths = clients["anon"][0].get("/api/openapi.json").json()["paths"]
    for p in ("/api/login", "/api/me/weeks", "/api/people/{person_id}/weeks", "/api/teams/{team}/weeks",
              "/api/findings"):
        assert p in paths
    assert not any(re.match(r"^/(me|team|org|admin)", p) for p in paths)


def test_no_suppressed_team_can_be_derived_from_what_an_analyst_sees(app):
    """Org means minus the shown teams' means never leave a group under the minimum size."""
    data = app.state.data
    org = data.group_weeks(None).set_index("week")["people"]
    shown_per_week: dict[str, int] = {}
    for team in data.team_sizes():
        if not data.team_shown(team):
            assert data.group_weeks(team).empty or not data.team_shown(team)
            continue
        for week, n in data.group_weeks(team).set_index("week")["people"].items():
            shown_per_week[week] = shown_per_week.get(week, 0) + int(n)
    for week, total in org.items():
        rest = int(total) - shown_per_week.get(week, 0)
        assert rest == 0 or rest >= data.min_group, (week, rest)
    teams, small = data.team_table()
    rest = int(data.person_weeks().person_id.nunique()) - int(teams.people.sum())
    assert rest == 0 or rest >= data.min_group
    assert set(small) >= {t for t, n in data.team_sizes().items() if n < data.min_group}


def test_a_team_that_would_reveal_a_smaller_one_is_hidden_too(tmp_path):
    """One small team alone (Deneb, 9): the next-smallest team is hidden as its complement."""
    from worklife.app.access import visible_teams
    from worklife.app.users import User

    env = build_env(tmp_path, two_small_teams=False)
    data = create_app(env.store_path, env.config).state.data
    hidden = {t for t in data.team_sizes() if not data.team_shown(t)}
    assert "Deneb" in hidden and len(hidden) == 2
    (complement,) = hidden - {"Deneb"}
    assert data.team_sizes()[complement] >= data.min_group
    assert data.grid().reason(complement) == "complementary"
    analyst = User(email="analyst@example.com", role="analyst", person_id=None, teams=())
    assert complement not in visible_teams(analyst, data)
    teams, small = data.team_table()
    assert complement in small and complement not in set(teams.team)
