"""The ingest adapter registry: an explicit table, each adapter saying what it reads (issue 17)."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from worklife import ingest
from worklife.cli import app
from worklife.config import Config
from worklife.errors import IngestError
from worklife.ingest import registry
from worklife.store import connect

# Most specific first: a GitHub or Jira export before the generic JSON/CSV tables.
DETECTION_ORDER = ["github", "jira", "graph", "slack", "ics", "git", "maildir", "mbox", "eml", "outcomes_csv", "csv"]


def test_the_registry_lists_every_adapter_in_detection_order():
    assert list(ingest.ADAPTERS) == DETECTION_ORDER
    assert [a.kind for a in registry.BUILTIN] == DETECTION_ORDER


@pytest.mark.parametrize("adapter", registry.BUILTIN, ids=lambda a: a.kind)
def test_every_adapter_says_what_it_reads(adapter):
    assert adapter.reads and len(adapter.reads) <= 60
    assert all(s.startswith(".") and s == s.lower() for s in adapter.suffixes)
    assert callable(adapter.detect) and callable(adapter.read)


@pytest.mark.parametrize("name, text, kind", [
    ("a.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "ics"),
    ("a.mbox", "From alice@example.com Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n", "mbox"),
    ("a.eml", "Subject: x\nFrom: alice@example.com\n\nbody\n", "eml"),
    ("people.csv", "email,team\nalice@example.com,Team A\n", "csv"),
])
def test_a_declared_suffix_is_read_by_its_adapter(tmp_path, name, text, kind):
    path = tmp_path / name
    path.write_text(text)
    assert Path(name).suffix in ingest.ADAPTERS[kind].suffixes
    assert ingest.detect_kind(path) == kind


def test_an_unknown_kind_is_one_message_listing_what_is_supported(tmp_path):
    (tmp_path / "a.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    with connect(tmp_path / "s.duckdb") as store, pytest.raises(IngestError) as err:
        ingest.run([tmp_path / "a.ics"], store, Config(), kind="viva")
    message = str(err.value)
    assert message.startswith("unknown kind 'viva'; supported: auto")
    assert all(f"{a.kind} ({a.reads})" in message for a in registry.BUILTIN) and "\n" not in message


def test_an_unrecognised_source_names_every_kind(tmp_path):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"\x00\x01 nothing anyone exports")
    with pytest.raises(IngestError) as err:
        ingest.detect_kind(path)
    assert str(err.value).startswith(f"{path}: cannot tell what kind of export this is; pass --kind KIND")
    assert all(f"{kind} (" in str(err.value) for kind in DETECTION_ORDER)


def test_the_cli_offers_exactly_the_registered_kinds(tmp_path):
    result = CliRunner().invoke(app, ["ingest", str(tmp_path), "--db", str(tmp_path / "s.duckdb"), "--kind", "viva"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    flat = re.sub(r"[\s│╭╮╰╯─]+", "", result.stderr)
    assert "isnotoneof" + ",".join(f"'{k}'" for k in ["auto", *DETECTION_ORDER]) in flat


def test_a_registered_adapter_is_detected_after_the_builtin_ones(tmp_path, monkeypatch):
    module = types.SimpleNamespace(KIND="notes", READS="plain notes .notes", SUFFIXES=(".notes",),
                                   detect=lambda p: p.suffix == ".notes", read=lambda p, ctx: iter(()))
    monkeypatch.setattr(ingest, "ADAPTERS", dict(ingest.ADAPTERS))
    adapter = ingest.register(module)
    assert adapter.kind == "notes" and list(ingest.ADAPTERS)[-1] == "notes"
    path = tmp_path / "a.notes"
    path.write_text("x")
    assert ingest.detect_kind(path) == "notes"
    with pytest.raises(TypeError, match="not an ingest adapter"):
        ingest.register(types.SimpleNamespace(KIND="half"))
