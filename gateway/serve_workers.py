"""`gateway serve --workers N`: N serving processes sharing one listening socket.

The parent migrates once, binds the HTTP port once and starts N processes (spawned, so
each builds its own engine, pool and LISTEN connection); the kernel hands each new
connection to one of them. Every process serves HTTP, websockets and webhooks and runs
the delivery workers, which are safe side by side (SKIP LOCKED leases). The channels'
single listeners and pollers (SMTP, IMAP, Telegram polling) run in the first process
only: one port, one mailbox reader. If any process exits, the parent stops the rest
and exits non-zero, so the supervisor (systemd, the container runtime) restarts the
set whole instead of leaving a gateway with a missing listener.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import structlog

from gateway import migrate, server
from gateway.db import is_sqlite
from gateway.errors import GatewayError
from gateway.logging import configure_logging
from gateway.settings import Settings

log = structlog.get_logger()

STOP_GRACE_SECONDS = 30.0


def run_workers(settings: Settings, workers: int) -> int:
    """Run `workers` serving processes until a signal or until one of them exits."""
    if workers < 1:
        raise GatewayError("--workers must be at least 1")
    if is_sqlite(settings.database.url):
        raise GatewayError(
            "--workers needs PostgreSQL (GATEWAY_DATABASE_URL): on SQLite the processes "
            "could not wake each other; run one `gateway serve`"
        )
    log.info("gateway.migrating", database=server._safe_url(settings.database.url))
    # Called from the command's event loop, where Alembic cannot start its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(migrate.upgrade, settings.database.url).result()
    listener = socket.create_server(
        (settings.http.host, settings.http.port), backlog=2048, reuse_port=False
    )
    listener.set_inheritable(True)
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(
            target=_serve_one,
            args=(settings, listener, index == 0),
            name=f"gateway-serve-{index}",
        )
        for index in range(workers)
    ]
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        log.info("gateway.workers_started", workers=workers, port=settings.http.port)
        while not stop.is_set() and all(p.is_alive() for p in processes):
            stop.wait(0.5)
        crashed = [p.name for p in processes if not p.is_alive()]
        if crashed:
            log.error("gateway.worker_exited", workers=crashed)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: the process finishes what it is doing
        for process in processes:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        listener.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("gateway.workers_stopped")
    return 1 if crashed else 0


def _serve_one(settings: Settings, listener: socket.socket, primary: bool) -> None:
    """One serving process (the spawned child's entry point)."""
    configure_logging(settings.log.level, json_format=settings.log.json_format)
    server.run_serving(
        server.run(
            settings,
            http=True,
            sockets=[listener],
            channel_listeners=primary,
            migrate_first=False,
        )
    )
