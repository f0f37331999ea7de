"""Web-app benchmark: page and API time per role on the 200 x 12 demo organisation.

    python benchmarks/app.py [--db out/worklife.duckdb] [--rounds 20]

Without --db, builds the synthetic demo organisation (200 people x 12 weeks, seed 0)
into a temporary store. Creates the demo accounts, starts `worklife serve` as a
subprocess, signs in as each role, opens every page of its menu (plus one
explanation and the JSON API) once cold, then --rounds more times warm, over HTTP on
localhost. Prints the cold (first) time of each page, then p50 / p95 / max of the warm
rounds per page and overall. Aim: p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from worklife.app.demo import create_demo_accounts
from worklife.config import Config

COOKIE = "__Host-worklife"


def pages(role: str, week: str, team: str) -> list[str]:
    me = ["/me/week", "/me/trends", "/me/boundaries", "/me/guard", f"/me/explain?week={week}&metric=meeting_hours",
          "/api/me/weeks"]
    return {
        "employee": me,
        "manager": [*me, f"/team/{team}", f"/digest/{team}", f"/api/teams/{team}/weeks"],
        "analyst": [f"/team/{team}", "/org", "/findings", "/api/findings", f"/api/teams/{team}/weeks",
                    "/export/teams.csv"],
        "admin": ["/admin"],
    }[role]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_store(folder: Path) -> Path:
    from worklife import synth
    from worklife.store import connect

    path = folder / "worklife.duckdb"
    with connect(path) as store:
        synth.load_into_store(synth.generate(people=200, weeks=12, seed=0), store)
    return path


def start(db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "worklife", "serve", "--db", str(db), "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start within 60 s")


def sign_in(base: str, email: str, password: str) -> httpx.Client:
    r = httpx.post(f"{base}/api/login", json={"email": email, "password": password})
    r.raise_for_status()
    token = r.cookies.get(COOKIE)  # Secure cookie: set it by hand for plain-HTTP localhost
    return httpx.Client(base_url=base, headers={"Cookie": f"{COOKIE}={token}"}, timeout=60)


def timed(client: httpx.Client, url: str) -> float:
    t0 = time.perf_counter()
    r = client.get(url)
    dt = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"{url}: HTTP {r.status_code}")
    return dt * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, help="an existing demo store (default: build one)")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wl-app-bench-"))
    db = args.db or build_store(tmp)
    _, accounts = create_demo_accounts(db, Config())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(db, port)
    try:
        from worklife.app.data import AppData

        data = AppData(db, Config())
        week = data.person_weeks()["week"].max()
        manager = next(a for a in accounts if a.role == "manager")
        team = data.managed_teams(manager.person_id)[0]
        warm: dict[str, list[float]] = {}
        print(f"store {db}: {len(data.people())} people, {len(data.weeks())} weeks")
        for a in accounts:
            client = sign_in(base, a.email, a.password)
            for url in pages(a.role, week, team):
                print(f"cold  {a.role:<8} {url:<48} {timed(client, url):8.1f} ms")
            for _ in range(args.rounds):
                for url in pages(a.role, week, team):
                    warm.setdefault(f"{a.role} {url}", []).append(timed(client, url))
        print(f"\nwarm, {args.rounds} rounds: p50 / p95 / max (ms)")
        every: list[float] = []
        for key, times in warm.items():
            every += times
            q = statistics.quantiles(times, n=20)
            print(f"  {key:<58} {statistics.median(times):7.1f} {q[18]:7.1f} {max(times):7.1f}")
        p95 = statistics.quantiles(every, n=20)[18]
        print(f"\nall pages: {len(every)} requests, p50 {statistics.median(every):.1f} ms, p95 {p95:.1f} ms "
              f"(aim < 300 ms: {'met' if p95 < 300 else 'NOT met'})")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
