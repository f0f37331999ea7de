"""privacy.pseudonymise: no command that names people shows an id, address or name."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import Config
from worklife.errors import ConfigError
from worklife.privacy import pseudonym
from worklife.privacy.pseudonyms import Scrubber, load_key
from worklife.store import connect

synth = pytest.importorskip("worklife.synth")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The synthetic org (48 people, planted night pinger and weekend worker) in a file store."""
    d = tmp_path_factory.mktemp("pseudo")
    path = d / "w.duckdb"
    s = connect(path)
    synth.load_into_store(synth.generate(people=48, weeks=2, seed=3), s)
    s.close()
    (d / "worklife.toml").write_text("[privacy]\npseudonymise = true\n")
    return path


def _people(db) -> list[str]:
    with connect(db, read_only=True) as s:
        return [r[0] for r in s.con.execute("SELECT person_id FROM people ORDER BY 1").fetchall()]


def _run(db, *args):
    r = CliRunner().invoke(app, [*args, "--db", str(db), "--config", str(db.parent / "worklife.toml")])
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize("args", [
    ("check", "--policy", "auto", "--format", "json"),
    ("check", "--policy", "auto"),
    ("boundaries", "--view", "pair", "--format", "json"),
    ("boundaries", "--view", "sender", "--format", "csv"),
    ("boundaries", "--view", "manager"),
    ("metrics", "--format", "csv"),
], ids=lambda a: " ".join(a))
def test_no_address_in_any_output(db, args):
    out = _run(db, *args)
    assert "example.com" not in out and "user0" not in out
    assert "p-" in out


def test_pseudonyms_are_the_same_in_every_command(db):
    key = load_key(db, Config())
    check = _run(db, "check", "--policy", "auto", "--format", "json")
    p = next(pseudonym(x, key) for x in _people(db) if pseudonym(x, key) in check)
    assert p in _run(db, "boundaries", "--view", "pair", "--format", "json")
    assert p in _run(db, "metrics", "--format", "csv")


def test_explain_shows_the_subject_and_pseudonymises_the_others(db):
    people = _people(db)
    with connect(db, read_only=True) as s:
        week = s.con.execute(  # a week in which the subject met others (explain keeps to its week)
            "SELECT strftime(min(m.start_utc), '%G-W%V') FROM meetings m JOIN meeting_attendees a USING (meeting_key) "
            "WHERE a.person_id = ?", [people[0]]).fetchone()[0]
    out = _run(db, "explain", "--person", people[0], "--week", week)
    assert people[0] in out and "p-" in out
    assert not any(p in out for p in people[1:])


def test_the_key_file_is_private_and_stable(tmp_path):
    db = tmp_path / "x.duckdb"
    k1 = load_key(db, Config())
    assert load_key(db, Config()) == k1 and len(k1) == 64
    assert (tmp_path / "x.duckdb.key").stat().st_mode & 0o777 == 0o600
    other = tmp_path / "k"
    other.write_text("short")
    with pytest.raises(ConfigError):
        load_key(db, Config({"privacy.key_file": str(other)}))
    with pytest.raises(ConfigError):
        load_key(":memory:", Config())


def test_scrubber_replaces_aliases_names_and_unknown_addresses_but_not_lookalikes():
    s = Scrubber("k" * 32, {"alice@example.com": "alice@example.com", "U0001": "alice@example.com",
                            "Test Person 1": "alice@example.com"})
    p = pseudonym("alice@example.com", "k" * 32)
    text = s.text("ALICE@example.com pinged U0001 and Test Person 1 cc stranger@example.org; xU0001y")
    assert text.count(p) == 3 and "stranger" not in text and pseudonym("stranger@example.org", "k" * 32) in text
    assert "xU0001y" in text


def test_digest_names_no_one_when_printed(db):
    with connect(db, read_only=True) as s:
        team, week = s.con.execute(
            "SELECT p.team, strftime(min(o.at_utc), '%G-W%V') FROM outcomes o JOIN people p USING (person_id) "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()
    r = CliRunner().invoke(app, ["digest", "--db", str(db), "--team", team, "--week", week, "--numbers", "quick",
                                 "--now", "2026-01-01T00:00:00Z",
                                 "--config", str(db.parent / "worklife.toml")])
    assert r.exit_code == 0, r.output
    assert "example.com" not in r.output and "Test Person" not in r.output and "p-" in r.output


def test_explain_accepts_a_pseudonym_and_keeps_it(db):
    people = _people(db)
    key = load_key(db, Config())
    with connect(db, read_only=True) as s:
        week = s.con.execute(  # a week in which the subject met others (explain keeps to its week)
            "SELECT strftime(min(m.start_utc), '%G-W%V') FROM meetings m JOIN meeting_attendees a USING (meeting_key) "
            "WHERE a.person_id = ?", [people[0]]).fetchone()[0]
    out = _run(db, "explain", "--person", pseudonym(people[0], key), "--week", week)
    assert pseudonym(people[0], key) in out and not any(p in out for p in people)
