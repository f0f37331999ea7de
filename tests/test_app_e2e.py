"""The web app in a real browser: every role signs in on the demo organisation and visits every page.

Drives Debian's Chromium (``/usr/bin/chromium``, or ``WORKLIFE_CHROMIUM``) with the
``playwright`` package against a live uvicorn server; skips cleanly when either is
missing (``make test`` installs both). Each page is checked for what it shows and
what it must not show, for drawn charts, for console errors and with axe-core (no
serious or critical violations); screenshots go to ``out/screenshots/``.
``WORKLIFE_E2E_DB`` points the test at an existing demo store instead of building one.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright (make test does)")
CHROMIUM = os.environ.get("WORKLIFE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium (apt-get install -y chromium; make test does)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright

from worklife.app import create_app
from worklife.app.demo import create_demo_accounts
from worklife.config import Config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "fixtures" / "axe" / "axe.min.js"
SHOTS = ROOT / "out" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
        "--disable-extensions", "--no-first-run"]

# role -> the menu it must see, in order
NAV = {
    "employee": ["My week", "My trends", "Boundaries", "Guard"],
    "manager": ["My week", "My trends", "Boundaries", "Guard", "Team", "Digest"],
    "analyst": ["Team", "Organisation", "Policy findings"],
    "admin": ["Admin"],
}
PERSON_ID = re.compile(r"user\d{3}@example\.com")
# a URL each role must not reach (answers the 404 page)
FORBIDDEN = {"employee": "/org", "manager": "/findings", "analyst": "/me/week", "admin": "/team"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(store path, accounts by role): the demo store and one demo account per role."""
    given = os.environ.get("WORKLIFE_E2E_DB")
    config = Config()
    if given:
        path = Path(given)
    else:
        pytest.importorskip("worklife.synth")
        from worklife import synth
        from worklife.store import connect

        path = tmp_path_factory.mktemp("e2e") / "worklife.duckdb"
        with connect(path) as store:
            synth.load_into_store(synth.generate(people=200, weeks=12, seed=0), store)
    _, accounts = create_demo_accounts(path, config)
    by_role = {a.role: a for a in accounts}
    queue = tmp_path_factory.mktemp("guard") / "guard.sqlite"
    _guard_queue(queue, [(by_role["employee"].email, "held-for@example.net"),
                         ("someone@example.net", "not-mine@example.net")])
    config.set("app.guard_queue", str(queue))
    return path, config, by_role


def _guard_queue(path: Path, pairs: list[tuple[str, str]]) -> None:
    """A guard queue holding one message per (sender, recipient)."""
    from worklife.guard.queue import NewDelivery, Queue

    with Queue(path) as q:
        for sender, recipient in pairs:
            q.add(sender, b"Subject: x\r\n\r\nbody", [NewDelivery(recipient, "UTC", "hold", 2_000_000_000_000,
                                                                    2_000_000_000_000)], 1_700_000_000_000).result()


@pytest.fixture(scope="module")
def server(demo):
    import uvicorn

    path, config, _ = demo
    app = create_app(path, config)
    app.state.data.warm()
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def sign_in(browser, base: str, email: str, password: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page, errors


def axe_violations(page: Page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # DevTools evaluation: the page's CSP stays strict
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {v['nodes'][0]['target']}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def visit(page: Page, url: str, shot: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    plots = page.locator(".plot")
    for i in range(plots.count()):
        plots.nth(i).locator("svg.main-svg").first.wait_for(timeout=10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)


@pytest.mark.parametrize("role", list(NAV))
def test_each_role_sees_its_pages_and_only_those(browser, server, demo, role):
    _, _, accounts = demo
    account = accounts[role]
    page, errors = sign_in(browser, server, account.email, account.password)
    menu = page.locator("header nav a")
    assert [menu.nth(i).inner_text() for i in range(menu.count())] == NAV[role]
    hrefs = [menu.nth(i).get_attribute("href") for i in range(menu.count())]
    for label, href in zip(NAV[role], hrefs):
        visit(page, server + href, f"{role}-{label.lower().replace(' ', '-')}")
        assert page.locator("h1").inner_text().startswith((label.split()[0], "Team", "Digest")), page.url
        problems = axe_violations(page)
        assert not problems, f"{role} {href}: {problems}"
        if role == "analyst" or href == "/team":  # aggregates: no person's id anywhere on the page
            assert not PERSON_ID.search(page.locator("main").inner_text()), f"{role} {href} names a person"
    assert not errors, errors
    page.goto(server + FORBIDDEN[role])
    assert page.locator("h1").inner_text() == "Not found"
    page.context.close()


def test_sign_in_and_not_found_pages_are_accessible(browser, server):
    page = browser.new_page()
    page.goto(server + "/login")
    assert not axe_violations(page)
    assert page.evaluate("document.activeElement.id") == "email"  # autofocus
    page.keyboard.type("nobody@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("a-wrong-password")
    page.keyboard.press("Enter")  # the form submits from the keyboard
    page.wait_for_load_state("networkidle")
    assert "Wrong e-mail or password" in page.locator("[role=alert]").inner_text()
    page.goto(server + "/login?next=//evil.example.com")
    assert page.locator("input[name=next]").get_attribute("value") == "/"
    page.close()


def test_employee_explains_a_number_down_to_events(browser, server, demo):
    account = demo[2]["employee"]
    page, errors = sign_in(browser, server, account.email, account.password)
    page.click("text=explain Meetings >> nth=0")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Explain: Meetings"
    assert page.locator("#ex-meetings tbody tr").count() > 0
    visit(page, page.url, "employee-explain")
    assert not axe_violations(page)
    assert not errors
    page.context.close()


def test_employee_sees_own_guard_messages_only(browser, server, demo):
    account = demo[2]["employee"]
    page, _ = sign_in(browser, server, account.email, account.password)
    page.goto(server + "/me/guard")
    main = page.locator("main").inner_text()
    assert "held-for@example.net" in main and "not-mine@example.net" not in main
    page.context.close()


def test_manager_sees_team_aggregates_not_individuals(browser, server, demo):
    account = demo[2]["manager"]
    page, _ = sign_in(browser, server, account.email, account.password)
    page.goto(server + "/team")
    main = page.locator("main").inner_text()
    assert "No individual's numbers are shown" in main
    assert "@example.com" not in main
    assert page.locator("#status-series").count() == 1  # the status-meeting cost
    page.context.close()


def test_tables_sort_and_page_with_the_keyboard(browser, server, demo):
    account = demo[2]["analyst"]
    page, _ = sign_in(browser, server, account.email, account.password)
    page.goto(server + "/findings")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    status = page.locator("#findings + .pager .status")
    first = status.inner_text()
    assert first.startswith("Rows 1–25 of ")
    page.locator("#findings + .pager .next").focus()
    page.keyboard.press("Enter")
    assert status.inner_text().startswith("Rows 26–50 of ")
    header = page.locator("#findings thead th").nth(6)  # "Times"
    header.locator("button").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    times = [int(t) for t in page.locator("#findings tbody tr:not([hidden]) td:nth-child(7)").all_inner_texts()]
    assert times == sorted(times, reverse=True) and status.inner_text().startswith("Rows 1–25 of ")
    page.context.close()


def test_sign_out_ends_the_session_in_the_browser(browser, server, demo):
    account = demo[2]["admin"]
    page, _ = sign_in(browser, server, account.email, account.password)
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-worklife")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    page.click("form.signout button")
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url
    page.goto(server + "/admin")
    assert "/login" in page.url
    page.context.close()
