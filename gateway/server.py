"""`gateway serve` and `gateway worker`: one process running HTTP and/or background work."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog
import uvicorn

from gateway import migrate
from gateway.app import create_app, install_channels
from gateway.flows.unseen_webchat_replies import UnseenRepliesByEmail
from gateway.outbox.worker import DeliveryWorker
from gateway.ports import BackgroundService
from gateway.queues.sweeper import LeaseSweeper
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.sla.worker import SlaWorker

log = structlog.get_logger()

T = TypeVar("T")


def run_serving(main: Coroutine[Any, Any, T]) -> T:
    """Run a serving process's coroutine on uvloop where it is installed (it is a
    dependency on Linux and macOS): libuv's loop costs less CPU per socket event than
    the stdlib loop, and every ingest is a dozen database round trips plus its HTTP
    request (bench/RESULTS.md has the figure). Without uvloop the stdlib loop runs it."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - only where uvloop has no wheel
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def run(
    settings: Settings,
    *,
    http: bool = True,
    sockets: list[socket.socket] | None = None,
    channel_listeners: bool = True,
    migrate_first: bool = True,
) -> None:
    """Migrate, then run until a signal: HTTP with every channel's services (`serve`), or
    only the delivery, claim-lease and SLA workers (`gateway worker`). `sockets`: serve
    HTTP on these already-bound sockets; `channel_listeners=False` leaves the channels'
    listeners and pollers to another process (`serve --workers`)."""
    if migrate_first:
        log.info("gateway.migrating", database=_safe_url(settings.database.url))
        await asyncio.to_thread(migrate.upgrade, settings.database.url)
    runtime = Runtime.from_settings(settings)
    plugins = install_channels(runtime)
    services = background_services(runtime)
    if http and channel_listeners:
        # Channels' listeners and pollers run beside HTTP; `gateway worker` only delivers
        # (it still needs every channel's adapter, which install_channels registered).
        services += [s for p in plugins for s in p.services]
    if http:
        # Before any listener starts: no customer's first message waits for the models.
        log.info("gateway.warming_up")
        await runtime.router.warm_up()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with asyncio.TaskGroup() as tasks:
            for service in services:
                tasks.create_task(_supervise(service, stop), name=service.name)
            if http:
                app = create_app(settings, runtime, plugins)
                config = http_config(
                    app, settings, host=settings.http.host, port=settings.http.port
                )
                server = uvicorn.Server(config)
                # uvicorn would install its own signal handlers; ours stop everything.
                # (uvicorn >= 0.29 has no such hook: it captures signals inside serve() instead.)
                server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
                tasks.create_task(server.serve(sockets=sockets), name="http")
                log.info("gateway.listening", host=settings.http.host, port=settings.http.port)
                await stop.wait()
                server.should_exit = True
            else:
                await stop.wait()
    finally:
        await runtime.close()
        log.info("gateway.stopped")


def http_config(app: object, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn as every gateway process (and the tests' servers) runs it.

    Websockets through wsproto: uvicorn's websockets-sansio protocol never answers an
    upgrade whose request line is over 8 KB, wsproto answers every request. The
    library's own message limit is the largest frame the chat's socket reads (see
    channels/webchat/socket.py) at up to 4 bytes a character in UTF-8, not 16 MiB read
    into memory before the chat's own check."""
    frame_chars = settings.webchat.max_message_chars * 4 + 64 * 1024
    defaults: dict[str, Any] = {
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "ws": "wsproto",
        "ws_max_size": frame_chars * 4,
    }
    return uvicorn.Config(app, **(defaults | options))  # type: ignore[arg-type]


def background_services(runtime: Runtime) -> list[BackgroundService]:
    """The core's own workers (delivery, lease expiry, SLA, flows that run on a timer),
    beside the channels' services."""
    services: list[BackgroundService] = [
        DeliveryWorker(runtime),
        LeaseSweeper(runtime),
        SlaWorker(runtime),
    ]
    if runtime.settings.webchat.email_copy_after_seconds:
        services.append(UnseenRepliesByEmail(runtime))
    return services


async def _supervise(service: BackgroundService, stop: asyncio.Event) -> None:
    """Keep a service running: a crash is logged and the service restarted after a pause,
    so one bad mail or network blip never takes the process down."""
    while not stop.is_set():
        try:
            await service.run(stop)
            return
        except Exception:
            log.exception("service.crashed", service=service.name)
            try:
                await asyncio.wait_for(stop.wait(), timeout=2.0)
            except TimeoutError:
                pass


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
