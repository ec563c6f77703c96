"""Setting up a desk for tests: queues, agents with tokens, tickets in a queue."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from sqlalchemy import event

from gateway.agents.models import Role
from gateway.agents.service import create_agent
from gateway.ports import Channel, InboundMessage
from gateway.queues import repository as queues_repo
from gateway.runtime import Runtime
from gateway.tickets.intake import IngestResult, ingest
from gateway.tickets.models import SEVERITY_RANK, Severity, Ticket
from tests.processes import free_port


async def make_agent(
    runtime: Runtime,
    queues: list[str],
    *,
    role: Role = Role.agent,
    capacity: int = 10,
    name: str | None = None,
) -> str:
    """A new agent in these queues; its bearer token."""
    async with runtime.sessionmaker.begin() as session:
        _agent, token = await create_agent(
            session,
            name=name or f"agent-{uuid.uuid4().hex[:8]}",
            role=role,
            queues=queues,
            capacity=capacity,
        )
    return token


async def new_ticket(
    runtime: Runtime,
    queue: str,
    *,
    text: str = "I paid 500 USDT, seller did not release",
    severity: Severity = Severity.normal,
    channel: Channel = Channel.webchat,
    sender: str | None = None,
) -> IngestResult:
    """A customer message that opens a ticket, then placed in `queue` (created if new)."""
    sender = sender or f"visitor-{uuid.uuid4().hex[:10]}"
    async with runtime.sessionmaker.begin() as session:
        result = await ingest(
            session,
            InboundMessage(
                channel=channel,
                external_id=uuid.uuid4().hex,
                sender=sender,
                text=text,
                thread_key=sender,
            ),
            limits=runtime.settings.ingest,
        )
        target = await queues_repo.ensure_queue(session, queue)
        await session.execute(
            sa.update(Ticket)
            .where(Ticket.id == result.ticket_id)
            .values(queue_id=target.id, severity=severity, severity_rank=SEVERITY_RANK[severity])
        )
        await runtime.notifier.publish(session, "parley_tickets", str(target.id))
    return result


def client(app: FastAPI, token: str | None = None) -> httpx.AsyncClient:
    """An HTTP client on the app in this process (ASGI, no socket)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://parley.test", headers=headers
    )


@contextlib.asynccontextmanager
async def http_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app on a loopback port in this event loop; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def someone_waits_for_a_lock(runtime: Runtime) -> bool:
    """Whether a session of this test database waits for a lock now (PostgreSQL): how a
    test sees that another writer was held back."""
    async with runtime.engine.connect() as conn:
        waiting = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


@contextlib.contextmanager
def statements_reading(runtime: Runtime, table: str) -> Iterator[list[str]]:
    """The statements reading `table` (`FROM <table>`) sent while the block runs."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if f"FROM {table}" in statement:
            seen.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
