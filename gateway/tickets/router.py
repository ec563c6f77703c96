"""Agent routes on one ticket: read, answer, note, status, transfer, escalate, release."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Response

from gateway.agents.dependencies import CurrentAgent
from gateway.csat import service as csat
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.sla import escalation as sla_escalation
from gateway.sla import repository as sla_repo
from gateway.sla import service as sla
from gateway.tickets import service, views
from gateway.tickets.models import DeliveryState, Direction, Message, TicketStatus
from gateway.tickets.schemas import (
    EscalateBody,
    EventList,
    LanguageBody,
    MessagePublic,
    ReplyBody,
    StatusBody,
    TextBody,
    TicketPublic,
    TicketSummary,
    TransferBody,
)
from gateway.validation import IdPath

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such ticket in the caller's queues"}
}
router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], responses=NOT_FOUND)


@router.get("/{ref}", response_model=TicketPublic)
async def get_ticket(ref: str, session: SessionDep, ctx: CurrentAgent) -> TicketPublic:
    """The ticket with its messages, private notes and attachments' metadata."""
    ticket = await service.ticket_for(session, ctx, ref)
    return await views.public(session, ticket)


@router.post("/{ref}/replies", status_code=201, response_model=MessagePublic)
async def post_reply(
    ref: str, body: ReplyBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> MessagePublic:
    """Answer the customer, optionally with files; delivered through the ticket's channel
    by the outbox (Telegram uploads them, email attaches them)."""
    limits = runtime.settings.outbox
    files = service.decode_files(
        body.attachments, max_files=limits.max_attachments, max_bytes=limits.max_attachment_bytes
    )
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    message = await service.reply(
        session,
        ctx,
        ticket,
        body.text,
        max_chars=runtime.settings.ingest.max_text_chars,
        notifier=runtime.notifier,
        files=files,
        blobs=runtime.blobs,
    )
    await sla.refresh(session, ticket, runtime.clock.now(), notifier=runtime.notifier)
    return _message(message, ctx.agent.name)


@router.get(
    "/{ref}/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        409: {"description": "Not fetched yet"},
    },
)
async def get_attachment(
    ref: str, attachment_id: IdPath, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> Response:
    """The bytes of a customer's (or agent's) file, always as a download: a file is
    never rendered as a page of ours, whatever its declared type."""
    ticket = await service.ticket_for(session, ctx, ref)
    attachment = await views.attachment_for(session, ticket, attachment_id)
    data = await runtime.blobs.get(attachment.blob_key)  # type: ignore[arg-type]
    return Response(
        data,
        media_type=attachment.content_type
        if attachment.content_type.startswith("image/")
        and attachment.content_type != "image/svg+xml"
        else "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.post("/{ref}/notes", status_code=201, response_model=MessagePublic)
async def post_note(
    ref: str, body: TextBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> MessagePublic:
    """A private note for the desk; never sent to the customer."""
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    message = await service.note(
        session, ctx, ticket, body.text, max_chars=runtime.settings.ingest.max_text_chars
    )
    return _message(message, ctx.agent.name)


@router.post("/{ref}/status", response_model=TicketSummary)
async def post_status(
    ref: str, body: StatusBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> TicketSummary:
    """Move the ticket along its status table (409 for a change it does not allow).
    Resolving it asks the customer for a rating (see gateway/csat/service.py)."""
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    resolver = ticket.assignee_id or ctx.id  # resolving frees the assignee
    was = ticket.status
    await service.change_status(session, ctx, ticket, TicketStatus(body.status), runtime.notifier)
    await sla.refresh(session, ticket, runtime.clock.now(), notifier=runtime.notifier)
    if ticket.status == TicketStatus.resolved and was != TicketStatus.resolved:
        await csat.ask_after_resolution(
            session,
            ticket,
            agent_id=resolver,
            settings=runtime.settings,
            notifier=runtime.notifier,
            now=runtime.clock.now(),
        )
    return (await views.summaries(session, [ticket]))[0]


@router.post("/{ref}/transfer", response_model=TicketSummary)
async def post_transfer(
    ref: str, body: TransferBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> TicketSummary:
    """Put the ticket in another queue, unassigned."""
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    await service.transfer(session, ctx, ticket, body.queue, runtime.notifier)
    await sla.refresh(session, ticket, runtime.clock.now(), notifier=runtime.notifier)
    return (await views.summaries(session, [ticket]))[0]


@router.post("/{ref}/escalate", response_model=TicketSummary)
async def post_escalate(
    ref: str, body: EscalateBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> TicketSummary:
    """Send the ticket to the next level of the escalation matrix: its queue's
    `escalates_to` queue, and a notice to the people at the new level."""
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    await service.escalate(session, ctx, ticket, body.reason, runtime.notifier)
    now = runtime.clock.now()
    config = await sla_repo.load_config(session)
    await sla_escalation.record_manual(
        session, ticket, body.reason, config, now, actor_agent_id=ctx.id, notifier=runtime.notifier
    )
    await sla.refresh(session, ticket, now, config=config, notifier=runtime.notifier)
    return (await views.summaries(session, [ticket]))[0]


@router.post("/{ref}/release", response_model=TicketSummary)
async def post_release(
    ref: str, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> TicketSummary:
    """Give an assigned ticket back to its queue."""
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    await service.release(session, ctx, ticket, runtime.notifier)
    return (await views.summaries(session, [ticket]))[0]


@router.post("/{ref}/customer-language", response_model=TicketSummary)
async def post_customer_language(
    ref: str, body: LanguageBody, session: SessionDep, ctx: CurrentAgent
) -> TicketSummary:
    """Set the customer's language; it wins over detection from now on."""
    ticket = await service.ticket_for(session, ctx, ref, for_update=True)
    await service.set_customer_language(session, ctx, ticket, body.language)
    return (await views.summaries(session, [ticket]))[0]


@router.get("/{ref}/events", response_model=EventList)
async def get_events(ref: str, session: SessionDep, ctx: CurrentAgent) -> EventList:
    """The ticket's audit trail, oldest first."""
    ticket = await service.ticket_for(session, ctx, ref)
    return EventList(items=await views.events(session, ticket))


def _message(message: Message, author: str) -> MessagePublic:
    return MessagePublic(
        id=message.id,  # type: ignore[arg-type]
        direction=Direction(message.direction),
        author=author,
        text=message.text,
        delivery_state=DeliveryState(message.delivery_state),
        created_at=message.created_at,
    )
