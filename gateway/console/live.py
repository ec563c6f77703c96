"""New messages of an open ticket, pushed to the console as server-sent events.

The stream waits on the MESSAGES wake-up (LISTEN/NOTIFY on PostgreSQL, so a message
ingested by any gateway process arrives), then re-reads the database: a lost or
coalesced signal costs at most RECHECK_SECONDS. Each event carries one message rendered
by the same escaped template as the page, with the message id as the event id, so a
reconnecting browser (Last-Event-ID) gets exactly what it missed. Access is checked again
on every wake-up: a ticket transferred out of the agent's queues stops streaming.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from gateway import notify
from gateway.console import i18n, queries
from gateway.console.web import ConsoleUser, templates
from gateway.dependencies import RuntimeDep
from gateway.errors import NotFound
from gateway.runtime import Runtime
from gateway.tickets import service
from gateway.tickets import views as ticket_views
from gateway.tickets.models import parse_ticket_ref

router = APIRouter(prefix="/console/tickets", include_in_schema=False)
RECHECK_SECONDS = 15.0


@router.get("/{ref}/stream")
async def stream(
    request: Request,
    ref: str,
    user: ConsoleUser,
    runtime: RuntimeDep,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    async with runtime.sessionmaker() as session:
        await service.ticket_for(session, user.ctx, ref)  # 404 before any stream starts
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    lang = i18n.pick(request)
    return StreamingResponse(
        _events(request, runtime, user, ref, after, lang),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, runtime: Runtime, user: ConsoleUser, ref: str, after: int, lang: str
) -> AsyncIterator[str]:
    ticket_id = str(parse_ticket_ref(ref))
    yield "retry: 2000\n\n"
    async with runtime.notifier.subscribe(notify.MESSAGES) as signals:
        while not await request.is_disconnected():
            try:
                fragments, after = await _render_new(runtime, user, ref, after, lang)
            except NotFound:
                yield "event: gone\ndata: {}\n\n"
                return
            for message_id, html in fragments:
                yield f"id: {message_id}\ndata: {json.dumps({'id': message_id, 'html': html})}\n\n"
            if not await _wait(signals, ticket_id):
                yield ": keep-alive\n\n"


async def _render_new(
    runtime: Runtime, user: ConsoleUser, ref: str, after: int, lang: str
) -> tuple[list[tuple[int, str]], int]:
    async with runtime.sessionmaker() as session:
        ticket = await service.ticket_for(session, user.ctx, ref)
        if not await queries.new_messages(session, ticket.id, after):  # type: ignore[arg-type]
            return [], after
        public = await ticket_views.public(session, ticket)
        fresh = [m for m in public.messages if m.id > after]
        channels = await queries.message_channels(session, (m.id for m in fresh))
    fragment = templates.get_template("_message.html")
    t = i18n.translator(lang)
    out = [(m.id, fragment.render(m=m, ticket=public, channels=channels, t=t)) for m in fresh]
    return out, max(m.id for m in fresh)


async def _wait(signals: asyncio.Queue[str], ticket_id: str) -> bool:
    """True when this ticket (or "look again") was signalled, False on the recheck timer."""
    try:
        async with asyncio.timeout(RECHECK_SECONDS):
            while True:
                payload = await signals.get()
                if payload in ("", ticket_id):
                    return True
    except TimeoutError:
        return False
