"""One process: SMTP relay + HTTP API (uvicorn) on one asyncio loop, delivery worker in a thread.

``serve(options)`` blocks until SIGINT/SIGTERM, then stops accepting, lets the worker
finish its round and closes the queue. A kill -9 at any point loses nothing that was
acknowledged: see worklife.guard.queue and docs/guard.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from worklife.config import Config
from worklife.errors import GuardError
from worklife.guard.api import create_app
from worklife.guard.auth import Tokens, parse_networks
from worklife.guard.clock import Clock, SystemClock
from worklife.guard.delivery import Deliverer, parse_hostport
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService
from worklife.guard.smtp import start_smtp

log = logging.getLogger(__name__)


@dataclass
class ServeOptions:
    """Everything ``worklife guard serve`` needs (ports 0 = pick a free one)."""

    db: Path
    config: Config
    host: str = "127.0.0.1"
    smtp_port: int = 2525
    http_port: int = 8025
    upstream: str | None = None
    store: Path | None = None
    people: Path | None = None
    default_tz: str | None = None
    tokens: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def relay_domains(configured: list[str], tokens: Tokens, directory: Directory) -> list[str]:
    """``guard.relay_domains``, or when empty the domains of the senders and of the people listed."""
    if configured:
        return [str(d).lower() for d in configured]
    found = {a.rpartition("@")[2] for a in [*tokens.senders, *tokens.aliases] if "@" in a} | directory.domains()
    return sorted(found)


def build_service(opts: ServeOptions, clock: Clock | None = None) -> tuple[GuardService, Deliverer]:
    """Open the queue, load directory and tokens, and wire the worker."""
    cfg = opts.config
    policy = GuardPolicy.from_config(cfg)
    directory = Directory.from_sources(cfg, store=opts.store, people=opts.people, fallback_tz=opts.default_tz)
    if len(directory) == 0 and directory.fallback_tz is None:
        raise GuardError("no recipients known: pass --store, --people or --default-tz", 400)
    tokens_path = opts.tokens or (Path(cfg["guard.tokens_file"]) if cfg["guard.tokens_file"] else None)
    tokens = Tokens.load(tokens_path) if tokens_path else Tokens()
    if not tokens.senders:
        log.warning("no sender tokens configured: nobody can send (pass --tokens)")
    if directory.fallback_tz is not None:
        directory.relay_domains = relay_domains(cfg["guard.relay_domains"], tokens, directory)
        log.warning("--default-tz: unlisted recipients accepted only in %s",
                    ", ".join(directory.relay_domains) or "no domain (set guard.relay_domains)")
    upstream = opts.upstream or cfg["guard.upstream"]
    parse_hostport(upstream)
    queue = Queue(opts.db, synchronous=cfg["guard.sqlite_synchronous"])
    clock = clock or SystemClock()
    service = GuardService(queue, directory, policy, clock, tokens, parse_networks(cfg["guard.smtp_networks"]))
    deliverer = Deliverer(queue, directory, policy, clock, upstream)
    service.wake = deliverer.wake
    return service, deliverer


def http_config(app: object, opts: ServeOptions) -> uvicorn.Config:
    """uvicorn's settings for the HTTP API. ``proxy_headers`` is off: uvicorn's default trusts
    ``X-Forwarded-For`` from 127.0.0.1, where every local client of a loopback guard comes from,
    so any of them could name a fresh address per request and escape the failed-token throttle."""
    return uvicorn.Config(app, host=opts.host, port=opts.http_port, log_level="warning", access_log=False,
                          lifespan="off", proxy_headers=False, server_header=False,
                          ssl_certfile=str(opts.tls_cert) if opts.tls_cert else None,
                          ssl_keyfile=str(opts.tls_key) if opts.tls_key else None)


async def _run(opts: ServeOptions, service: GuardService, deliverer: Deliverer,
               ready: threading.Event | None = None) -> None:
    tls = None
    if opts.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(str(opts.tls_cert), str(opts.tls_key) if opts.tls_key else None)
    try:
        smtp_server = await start_smtp(service, opts.host, opts.smtp_port, tls_context=tls,
                                       allow_plain_auth=is_loopback(opts.host))
    except OSError as exc:
        service.queue.close()
        raise GuardError(f"cannot listen for SMTP on {opts.host}:{opts.smtp_port}: {exc.strerror or exc}", 500) from exc
    server = uvicorn.Server(http_config(create_app(service), opts))
    stop = threading.Event()
    worker = threading.Thread(target=deliverer.run_forever, args=(stop,), name="guard-delivery", daemon=True)
    worker.start()
    smtp_port = smtp_server.sockets[0].getsockname()[1]
    log.info("guard: SMTP on %s:%s, HTTP on %s:%s, upstream %s:%s", opts.host, smtp_port, opts.host,
             opts.http_port, *deliverer.upstream)
    if ready is not None:
        ready.set()
    try:
        await server.serve()
    finally:
        smtp_server.close()
        await smtp_server.wait_closed()
        stop.set()
        deliverer.wake.set()
        worker.join(timeout=60)
        service.queue.close()


def serve(opts: ServeOptions, clock: Clock | None = None) -> None:
    """Run the guard until interrupted."""
    if opts.tls_cert is None and not is_loopback(opts.host):
        raise GuardError(f"--host {opts.host} is not a loopback address: pass --tls-cert/--tls-key "
                         "(SMTP AUTH and bearer tokens must not travel in clear)", 400)
    service, deliverer = build_service(opts, clock)
    print(f"worklife guard: SMTP {opts.host}:{opts.smtp_port}  HTTP http://{opts.host}:{opts.http_port} "
          f"(schema at /openapi.json)  queue {opts.db}  upstream {deliverer.upstream[0]}:{deliverer.upstream[1]}",
          flush=True)
    asyncio.run(_run(opts, service, deliverer))
