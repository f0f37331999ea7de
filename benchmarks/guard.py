"""Guard benchmark: durable acceptance rate and ack latency (HTTP and SMTP, localhost), and
the due-scan over a queue of 1,000,000 held messages.

    python benchmarks/guard.py [--messages 2000] [--clients 16] [--held 1000000]

Starts `worklife guard serve` as a subprocess (synchronous=FULL: every ack follows an
fsync'd commit), with the recipient held (nothing is delivered during the run, so the
figures are intake only). Prints one line per measure. Aims: >= 1,000 msg/s, p99 < 50 ms,
due-scan < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from worklife.guard.queue import Queue

SENDER, TOKEN, OPERATOR = "bench@example.com", "bench-token", "bench-operator"
# Works one minute a week (Mon 00:00-00:01 UTC): every message is held during the run.
PEOPLE = "person_id,email,tz,work_start,work_end,workdays\nheld@example.com,held@example.com,UTC,00:00,00:01,Mon\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, latencies_s: list[float], wall_s: float, cpu_s: float) -> None:
    ms = [x * 1000 for x in latencies_s]
    per = cpu_s / len(ms) * 1000
    print(f"{name:<5} accepted {len(ms):>6} msgs in {wall_s:6.2f} s = {len(ms) / wall_s:7.0f} msg/s;"
          f" ack latency p50 {pct(ms, 50):6.2f} ms  p99 {pct(ms, 99):6.2f} ms  max {max(ms):7.2f} ms;"
          f" server CPU {per:.2f} ms/msg (= {1000 / per:.0f} msg/s per free core)")


def start_guard(tmp: Path, synchronous: str) -> tuple[subprocess.Popen, int, int]:
    (tmp / "guard.toml").write_text(f'[guard]\nsqlite_synchronous = "{synchronous}"\n')
    (tmp / "people.csv").write_text(PEOPLE)
    (tmp / "tokens.toml").write_text(f'operator = "{OPERATOR}"\n[senders]\n"{SENDER}" = "{TOKEN}"\n')
    smtp_port, http_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "worklife.cli", "guard", "serve", "--db", str(tmp / "queue.sqlite"),
         "--smtp-port", str(smtp_port), "--http-port", str(http_port), "--upstream", "127.0.0.1:9",
         "--people", str(tmp / "people.csv"), "--tokens", str(tmp / "tokens.toml"),
         "--config", str(tmp / "guard.toml")],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")}, stdout=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=1)
            return proc, smtp_port, http_port
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("guard did not start")


class RawHTTP:
    """A minimal keep-alive HTTP/1.1 client on one socket: on 2 shared cores a full client
    library would spend more CPU than the server and hide the server's latency."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(self, path: str, body: dict) -> int:
        data = json.dumps(body).encode()
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: guard\r\nAuthorization: Bearer {TOKEN}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += self.sock.recv(65536)
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(int(h.split(b":")[1]) for h in lines if h.lower().startswith(b"content-length"))
        while len(rest) < length:
            rest += self.sock.recv(65536)
        return int(lines[0].split()[1])


def bench_http(port: int, n: int, clients: int, pid: int) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def client() -> None:
        conn = RawHTTP(port)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            body = {"sender": SENDER, "recipients": ["held@example.com"], "subject": f"bench {i}",
                    "body": "x" * 500}
            t = time.perf_counter()
            status = conn.post("/messages", body)
            with lock:
                latencies.append(time.perf_counter() - t)
            if status != 202:
                raise SystemExit(f"HTTP {status}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report("HTTP", latencies, time.perf_counter() - t0, cpu_seconds(pid) - cpu0)


def bench_smtp(port: int, n: int, clients: int, pid: int) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))
    data = (f"From: {SENDER}\r\nTo: held@example.com\r\nSubject: bench\r\n\r\n" + "x" * 500 + "\r\n").encode()

    def client() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.login(SENDER, TOKEN)
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t = time.perf_counter()
                s.sendmail(SENDER, ["held@example.com"], data)
                with lock:
                    latencies.append(time.perf_counter() - t)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report("SMTP", latencies, time.perf_counter() - t0, cpu_seconds(pid) - cpu0)


FLOOR_SERVERS = """
import asyncio, logging, sys
import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

logging.getLogger("mail.log").setLevel(logging.ERROR)
app = FastAPI()

class Msg(BaseModel):
    sender: str
    recipients: list[str]
    subject: str | None = None
    body: str | None = None

@app.post("/messages", status_code=202)
async def post(m: Msg):
    return JSONResponse({"ok": True, "ids": [1]}, status_code=202)

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

def auth(server, session, envelope, mechanism, data):
    return AuthResult(success=True, handled=False)

async def main():
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: SMTP(Handler(), authenticator=auth, auth_required=True,
                                          auth_require_tls=False), "127.0.0.1", int(sys.argv[1]))
    await uvicorn.Server(uvicorn.Config(app, port=int(sys.argv[2]), log_level="warning",
                                        access_log=False, lifespan="off")).serve()

asyncio.run(main())
"""


def bench_floor(tmp: Path, n: int, clients: int) -> None:
    """The same clients against no-op servers (FastAPI endpoint, aiosmtpd handler): the
    framework floor on this machine, for comparison with the guard's figures."""
    (tmp / "floor.py").write_text(FLOOR_SERVERS)
    smtp_port, http_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, str(tmp / "floor.py"), str(smtp_port), str(http_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", http_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        print("floor: no-op servers, same clients (what the frameworks alone allow here)")
        bench_http(http_port, n, clients, proc.pid)
        bench_smtp(smtp_port, n, clients, proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def bench_due_scan(tmp: Path, held: int) -> None:
    path = tmp / "big.sqlite"
    q = Queue(path)
    now_ms = 1_772_618_400_000
    week = 7 * 86_400_000
    t0 = time.perf_counter()

    def fill(con) -> None:
        # Generated inside SQLite (a recursive CTE): due instants spread uniformly over a week
        # centred on now, so about half of the rows are due.
        con.execute("INSERT INTO submissions (batch, sender, idempotency_key, raw, accepted_ms, via) "
                    "VALUES ('b', ?, NULL, ?, ?, 'bench')", (SENDER, b"x", now_ms))
        con.execute(
            "INSERT INTO deliveries (batch, sender, recipient, tz, mode, state, due_ms, window_ms) "
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1) "
            "SELECT 'b', ?, 'user' || (i % 5000) || '@example.com', 'UTC', 'hold', 'held', d, d "
            "FROM (SELECT i, ? - ? / 2 + abs(random()) % ? AS d FROM n)",
            (held, SENDER, now_ms, week, week))

    q.write(fill)
    print(f"due   built a queue of {held:,} held messages in {time.perf_counter() - t0:.1f} s"
          f" ({path.stat().st_size / 1e6:.0f} MB)")
    q.close()
    q = Queue(path)  # cold connection, as after a restart

    def timed(label: str, fn, repeat: int = 5) -> None:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        print(f"due   {label:<52} first {times[0] * 1000:7.2f} ms  median {statistics.median(times) * 1000:7.2f} ms"
              f"  ({out})")

    timed("find the 500 earliest due (indexed scan)", lambda: f"{len(q.find_due(now_ms, 500))} ids")
    count_sql = "SELECT count(*) FROM deliveries WHERE state='held' AND due_ms<=?"
    timed("count all due (index range count)", lambda: f"{q.read(count_sql, (now_ms,))[0][0]:,} due")
    timed("claim 100 due atomically (UPDATE ... RETURNING)",
          lambda: f"{len(q.claim(now_ms, 100, 60_000))} claimed")
    q.close()


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_body_limit(port: int, pid: int, megabytes: int = 200) -> None:
    """Stream a ``megabytes`` body to POST /messages, declared and chunked; report how much the
    server read before its 413 and its resident memory before and after."""
    chunk = b" " * 65536
    for mode in ("content-length", "chunked"):
        before = rss_mb(pid)
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = (f"POST /messages HTTP/1.1\r\nHost: guard\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: application/json\r\n")
        head += (f"Content-Length: {megabytes << 20}\r\n\r\n" if mode == "content-length"
                 else "Transfer-Encoding: chunked\r\n\r\n")
        sock.sendall(head.encode())
        sent, t0 = 0, time.perf_counter()
        try:
            while sent < megabytes << 20:
                piece = chunk if mode == "content-length" else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                sock.sendall(piece)
                sent += len(chunk)
        except OSError:
            pass  # the server answered and closed: it stopped reading
        try:
            status = sock.recv(200).split(b"\r\n", 1)[0].decode(errors="replace")
        except OSError as exc:
            status = f"connection closed ({exc.__class__.__name__})"
        sock.close()
        print(f"body  {mode:<15} {megabytes} MB offered: client got {sent / 2**20:7.1f} MB out before the server "
              f"stopped it in {time.perf_counter() - t0:5.2f} s; reply {status!r}; server RSS {before:.0f} -> "
              f"{rss_mb(pid):.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--held", type=int, default=1_000_000)
    ap.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"])
    ap.add_argument("--no-floor", action="store_true", help="Skip the no-op framework floor.")
    args = ap.parse_args()
    print(f"guard benchmark: {os.cpu_count()} cores, synchronous={args.synchronous}, "
          f"{args.clients} concurrent clients, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc, smtp_port, http_port = start_guard(tmp, args.synchronous)
        try:
            bench_http(http_port, args.messages, args.clients, proc.pid)
            bench_smtp(smtp_port, args.messages, args.clients, proc.pid)
            bench_body_limit(http_port, proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
        if not args.no_floor:
            bench_floor(tmp, args.messages, args.clients)
        bench_due_scan(tmp, args.held)


if __name__ == "__main__":
    main()
