"""`worklife guard next-window` and `guard serve` argument handling; the directory sources."""

from __future__ import annotations

import pytest
from test_guard_support import PEOPLE_CSV, utc

from worklife.cli import main
from worklife.config import Config
from worklife.errors import GuardError
from worklife.guard.clock import ManualClock, to_ms
from worklife.guard.delivery import Deliverer
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy, enqueue
from worklife.guard.queue import Queue


def run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


@pytest.mark.parametrize(("args", "expected"), [
    # Fri 2026-03-06 18:00 CET -> Mon 09:00 CET = 08:00Z.
    pytest.param(["Europe/Paris", "--at", "2026-03-06T18:00:00+01:00"],
                 "2026-03-09T08:00:00Z  (2026-03-09T09:00:00+01:00 Europe/Paris)", id="zone"),
    # Kathmandu +05:45: 00:00Z = 05:45 local -> 09:00 local = 03:15Z.
    pytest.param(["Asia/Kathmandu", "--at", "2026-03-02T00:00Z"],
                 "2026-03-02T03:15:00Z  (2026-03-02T09:00:00+05:45 Asia/Kathmandu)", id="kathmandu"),
])
def test_next_window_prints_utc_and_local(args, expected, capsys):
    code, out, _ = run(["guard", "next-window", *args], capsys)
    assert code == 0 and out.strip() == expected


def test_next_window_for_a_person_in_people_csv(tmp_path, capsys):
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE_CSV)
    # user01 is in Paris with FR holidays and 12:00-13:00 quiet hours: Wed 12:15 CET -> 13:00 CET.
    code, out, _ = run(["guard", "next-window", "user01@example.com", "--at", "2026-03-04T11:15Z",
                        "--people", str(people)], capsys)
    assert code == 0 and out.startswith("2026-03-04T12:00:00Z")
    # user04 is in AR: delivered at once, and the output says so.
    code, out, _ = run(["guard", "next-window", "user04@example.com", "--at", "2026-03-04T10:00Z",
                        "--people", str(people)], capsys)
    assert "deliver_now" in out


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["Europe/Paris", "--at", "2026-03-06T18:00"], 2, "no UTC offset", id="naive-at"),
    pytest.param(["Europe/Paris", "--at", "friday"], 2, "not an ISO 8601", id="bad-at"),
    pytest.param(["Mars/Olympus", "--at", "2026-03-06T18:00Z"], 1, "neither a known time zone", id="unknown"),
])
def test_next_window_bad_input_is_one_line(args, code, message, capsys):
    got, _, err = run(["guard", "next-window", *args], capsys)
    assert got == code and message in err and "Traceback" not in err


def test_serve_without_any_recipient_source_fails_clearly(tmp_path, capsys):
    code, _, err = run(["guard", "serve", "--db", str(tmp_path / "q.sqlite"), "--upstream", "127.0.0.1:25"], capsys)
    assert code == 1 and "no recipients known" in err


def test_directory_from_a_worklife_store(tmp_path):
    from worklife.store import connect

    path = tmp_path / "wl.duckdb"
    with connect(path) as store:
        store.upsert("people", [{"person_id": "user07@example.com", "email": "user07@example.com",
                                 "tz": "Asia/Kolkata", "work_start": "10:00", "work_end": "18:00",
                                 "workdays": "Mon-Fri", "jurisdiction": "IN", "is_internal": True}])
        store.upsert("person_aliases", [{"alias": "u7@corp.example.com", "person_id": "user07@example.com",
                                         "kind": "email", "source": "test"}])
    directory = Directory.from_sources(Config(), store=path)
    via_alias = directory.lookup("U7@corp.example.com")
    assert (via_alias.tz, via_alias.work.work_start_s) == ("Asia/Kolkata", 10 * 3600)
    with pytest.raises(GuardError, match="unknown recipient"):
        directory.lookup("nobody@example.com")


def test_an_edited_people_file_replans_held_messages(tmp_path):
    """A recipient moves from New York to Paris: their held message is re-planned earlier."""
    people = tmp_path / "people.csv"
    people.write_text("person_id,email,tz\nuser07@example.com,user07@example.com,America/New_York\n")
    config = Config()
    directory = Directory.from_sources(config, people=people)
    clock = ManualClock(utc(2026, 3, 4, 6))  # Wed 01:00 EST; 07:00 CET
    with Queue(tmp_path / "q.sqlite") as queue:
        (mid,) = enqueue(queue, "sender01@example.com", ["user07@example.com"], "s", "b",
                         directory=directory, now=clock.now())
        assert queue.get(mid)["due_ms"] == to_ms(utc(2026, 3, 4, 14))  # 09:00 EST
        people.write_text("person_id,email,tz\nuser07@example.com,user07@example.com,Europe/Paris\n")
        import os

        os.utime(people, (1, 1))  # make the change visible even within one mtime tick
        assert directory.maybe_reload()
        worker = Deliverer(queue, directory, GuardPolicy.from_config(config), clock, "127.0.0.1:9")
        assert worker.replan_held() == 1
        assert queue.get(mid)["due_ms"] == to_ms(utc(2026, 3, 4, 8))  # 09:00 CET
        assert queue.get(mid)["tz"] == "Europe/Paris"


def test_serve_refuses_a_public_address_without_tls(tmp_path, capsys):
    code, _, err = run(["guard", "serve", "--db", str(tmp_path / "q.sqlite"), "--host", "0.0.0.0",
                        "--default-tz", "UTC"], capsys)
    assert code == 1 and "--tls-cert" in err


def test_default_tz_relays_only_to_the_senders_and_peoples_domains(tmp_path):
    from test_guard_support import TOKENS_TOML

    from worklife.guard.server import ServeOptions, build_service

    people = tmp_path / "people.csv"
    people.write_text("person_id,email,tz\nuser07@corp.example.org,user07@corp.example.org,Europe/Paris\n")
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(TOKENS_TOML)
    opts = ServeOptions(db=tmp_path / "q.sqlite", config=Config(), upstream="127.0.0.1:9", people=people,
                        default_tz="UTC", tokens=tokens)
    service, _ = build_service(opts)
    try:
        assert service.directory.relay_domains == ["corp.example.org", "example.com"]
        assert service.directory.lookup("anyone@example.com").tz.endswith("UTC")
        with pytest.raises(GuardError, match="guard.relay_domains") as info:
            service.directory.lookup("victim@elsewhere.test")
        assert info.value.status == 403
    finally:
        service.queue.close()
    configured = ServeOptions(db=tmp_path / "q2.sqlite", config=Config({"guard.relay_domains": [".example.net"]}),
                              upstream="127.0.0.1:9", default_tz="UTC", tokens=tokens)
    service, _ = build_service(configured)
    try:
        assert service.directory.lookup("a@mail.example.net").tz.endswith("UTC")
        with pytest.raises(GuardError):
            service.directory.lookup("a@example.com")
    finally:
        service.queue.close()
