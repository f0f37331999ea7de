"""`worklife users add|list|remove|set-role` and `worklife serve` as a user types them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests._app_env import EMPLOYEE, build_env
from worklife.app.users import AppDb, users_db_path
from worklife.cli import app


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    pytest.importorskip("worklife.synth")
    return build_env(tmp_path_factory.mktemp("cli"))


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_add_list_set_role_remove(env):
    db = str(env.store_path)
    r = run("users", "add", "USER004@example.com", "--role", "employee", "--db", db, "--password-stdin",
            stdin="a-long-password\n")
    assert r.exit_code == 0, r.output
    assert "added user004@example.com as employee (person user004@example.com)" in r.output
    appdb = AppDb(users_db_path(env.store_path, env.config))
    assert appdb.verify("user004@example.com", "a-long-password") is not None
    r = run("users", "list", "--db", db)
    assert "user004@example.com" in r.output and "employee" in r.output
    assert run("users", "set-role", "user004@example.com", "analyst", "--db", db).exit_code == 0
    assert appdb.get_user("user004@example.com").role == "analyst"
    assert run("users", "remove", "user004@example.com", "--db", db).exit_code == 0
    assert appdb.get_user("user004@example.com") is None
    appdb.close()


def test_generated_password_is_printed_once_and_works(env):
    r = run("users", "add", "ops@example.com", "--role", "admin", "--db", str(env.store_path), "--generate-password")
    assert r.exit_code == 0
    password = r.output.split("password: ")[1].split()[0]
    appdb = AppDb(users_db_path(env.store_path, env.config))
    assert appdb.verify("ops@example.com", password) is not None
    appdb.close()


def test_an_alias_ties_the_account_to_its_person(env):
    r = run("users", "add", "someone@example.com", "--role", "employee", "--person", "u-two@chat.example.com",
            "--db", str(env.store_path), "--password-stdin", stdin="a-long-password\n")
    assert r.exit_code == 0 and f"(person {EMPLOYEE})" in r.output


@pytest.mark.parametrize(("args", "code", "says"), [
    (["stranger@example.com", "--role", "employee"], 2, "not a person"),
    (["x@example.com", "--role", "employee", "--person", "nobody@example.com"], 2, "no person"),
    (["boss@example.com", "--role", "manager", "--team", "Nowhere"], 2, "no team"),
    (["user005@example.com", "--role", "emperor"], 2, "role must be one of"),
    (["user002@example.com", "--role", "employee"], 1, "exists"),
], ids=["not-a-person", "unknown-person", "unknown-team", "bad-role", "taken"])
def test_bad_usage_is_one_clear_line(env, args, code, says):
    r = run("users", "add", *args, "--db", str(env.store_path), "--password-stdin", stdin="a-long-password\n")
    assert r.exit_code == code and says in r.output
    assert "Traceback" not in r.output


def test_short_password_is_refused(env):
    r = run("users", "add", "user006@example.com", "--role", "employee", "--db", str(env.store_path),
            "--password-stdin", stdin="short\n")
    assert r.exit_code == 1 and "at least 10 characters" in r.output


def test_remove_unknown_account_fails(env):
    r = run("users", "remove", "ghost@example.com", "--db", str(env.store_path))
    assert r.exit_code == 1 and "no account" in r.output


def test_serve_needs_an_existing_store(tmp_path):
    r = run("serve", "--db", str(tmp_path / "missing.duckdb"))
    assert r.exit_code == 1 and "no such store" in r.output


def test_demo_accounts_one_per_role_and_printed_once(env, capsys):
    from worklife.app.data import AppData
    from worklife.app.demo import create_demo_accounts

    _, accounts = create_demo_accounts(env.store_path, env.config)
    assert [a.role for a in accounts] == ["employee", "manager", "analyst", "admin"]
    appdb = AppDb(users_db_path(env.store_path, env.config))
    assert all(appdb.verify(a.email, a.password) for a in accounts)
    assert len(appdb.users()) == 4  # the demo replaces earlier accounts
    appdb.close()
    data = AppData(env.store_path, env.config)
    employee, manager = accounts[0], accounts[1]
    assert data.person(employee.person_id)["manager_id"] == manager.person_id
    assert data.team_sizes()[data.managed_teams(manager.person_id)[0]] >= 10


@pytest.mark.parametrize("command", ["remove", "set-role"])
def test_an_unknown_account_is_named_literally(env, command):
    """What the user typed comes back as typed: no markup escapes ("\\[") in the message."""
    extra = ["analyst"] if command == "set-role" else []
    r = run("users", command, "ghost[1]@example.com", *extra, "--db", str(env.store_path))
    assert r.exit_code == 1 and "no account ghost[1]@example.com" in r.output and "\\[" not in r.output
