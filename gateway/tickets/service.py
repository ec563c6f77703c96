"""What agents do to tickets. Every change is an audit event. Functions flush only."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit, notify
from gateway.agents.context import AgentContext
from gateway.blobs import BlobStore
from gateway.db import utcnow
from gateway.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    TicketClosed,
)
from gateway.notify import Notifier
from gateway.outbox import service as outbox
from gateway.outbox.service import OutgoingFile
from gateway.queues import repository as queues_repo
from gateway.queues.models import Queue
from gateway.tickets import repository as repo
from gateway.tickets.models import (
    CLAIMABLE_STATUSES,
    INTERNAL_CHANNEL,
    ActorType,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    TicketStatus,
    parse_ticket_ref,
)
from gateway.tickets.schemas import (
    ReplyAttachment,
)
from gateway.webhooks import events as webhook_events
from gateway.webhooks.models import EventType

S = TicketStatus
# The one table of status changes an agent may make: from -> allowed targets.
# `escalated` is entered only through escalate(); `new` only by intake.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.new: frozenset({S.open, S.pending_customer, S.resolved, S.closed}),
    S.open: frozenset({S.pending_customer, S.resolved, S.closed}),
    S.pending_customer: frozenset({S.open, S.resolved, S.closed}),
    S.escalated: frozenset({S.open, S.pending_customer, S.resolved, S.closed}),
    S.resolved: frozenset({S.open, S.closed}),
    S.closed: frozenset({S.open}),  # a supervisor's reopen, nothing else
}
SUPERVISOR_ONLY: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset({(S.closed, S.open)})


async def ticket_for(
    session: AsyncSession, ctx: AgentContext, ref: str, *, for_update: bool = False
) -> Ticket:
    """The ticket if the caller may see it. A ticket that exists but is not theirs gets
    the same 404 as one that does not exist, so references cannot be probed."""
    ticket_id = parse_ticket_ref(ref)
    ticket = await repo.get_ticket(session, ticket_id, for_update=for_update) if ticket_id else None
    if ticket is None or not ctx.can_see(ticket):
        raise NotFound(f"no ticket {ref} in your queues")
    return ticket


def _ensure_may_act(ctx: AgentContext, ticket: Ticket) -> None:
    """Only the holder (or a supervisor) acts on a ticket someone holds."""
    if ticket.assignee_id not in (None, ctx.id) and not ctx.sees_all:
        raise Conflict(f"ticket {ticket.ref} is held by another agent; ask a supervisor")


def _touch(ctx: AgentContext, ticket: Ticket) -> None:
    now = utcnow()
    ticket.updated_at = now
    if ticket.assignee_id == ctx.id:
        ticket.agent_touched_at = now


def decode_files(
    items: Sequence[ReplyAttachment], *, max_files: int, max_bytes: int
) -> list[OutgoingFile]:
    """The reply's files from their base64, refused whole if one is bad or too large."""
    if len(items) > max_files:
        raise InvalidRequest(f"{len(items)} attachments; at most {max_files} per reply")
    files = []
    for item in items:
        if len(item.content_base64) > (max_bytes * 4) // 3 + 4:  # refuse before decoding
            raise PayloadTooLarge(f"attachment {item.filename!r} is over {max_bytes} bytes")
        try:
            data = base64.b64decode(item.content_base64, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII characters
            raise InvalidRequest(f"attachment {item.filename!r} is not valid base64") from None
        if not data:
            raise InvalidRequest(f"attachment {item.filename!r} is empty")
        if len(data) > max_bytes:
            raise PayloadTooLarge(f"attachment {item.filename!r} is over {max_bytes} bytes")
        files.append(OutgoingFile(_safe_filename(item.filename), item.content_type.lower(), data))
    return files


def _safe_filename(name: str) -> str:
    """No paths and no control characters: the name travels into mail headers and UIs."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return cleaned[:255] or "attachment"


async def reply(
    session: AsyncSession,
    ctx: AgentContext,
    ticket: Ticket,
    text: str,
    *,
    max_chars: int,
    notifier: Notifier,
    files: Sequence[OutgoingFile] = (),
    blobs: BlobStore | None = None,
) -> Message:
    """Store the reply, its files and its outbox row in the caller's transaction."""
    text = clean_text(text, max_chars)
    if ticket.status == S.closed:
        raise TicketClosed(f"ticket {ticket.ref} is closed; a supervisor can reopen it")
    if ticket.channel == INTERNAL_CHANNEL:
        # A risk ticket speaks about an account, never to it.
        raise Conflict(f"ticket {ticket.ref} is internal: nobody receives replies; add a note")
    _ensure_may_act(ctx, ticket)
    before = webhook_events.snapshot(ticket)
    message = await outbox.enqueue(
        session,
        ticket_id=ticket.id,  # type: ignore[arg-type]
        channel=ticket.channel,
        text=text,
        notifier=notifier,
        action="message.replied",
        author_type=ActorType.agent,
        author_agent_id=ctx.id,
        files=files,
        blobs=blobs,
    )
    if ticket.first_responded_at is None:
        ticket.first_responded_at = message.created_at
    if ticket.status == S.new:
        ticket.status = S.open
    _touch(ctx, ticket)
    await session.flush()
    await webhook_events.emit_ticket_updated(session, ticket, before, notifier=notifier)
    await webhook_events.emit(
        session, EventType.message_created, ticket=ticket, message_id=message.id, notifier=notifier
    )
    return message


def flag(session: AsyncSession, ticket: Ticket, reason: str, **audit_data: Any) -> None:
    """Ask a supervisor to look at the ticket, saying why: the one place a ticket is
    flagged (a failed delivery, a blocked bot, an escalation past the last level)."""
    ticket.needs_attention = True
    ticket.attention_reason = reason[:500]
    audit.record(session, "ticket.flagged", ticket_id=ticket.id, reason=reason[:500], **audit_data)


async def note(
    session: AsyncSession, ctx: AgentContext, ticket: Ticket, text: str, *, max_chars: int
) -> Message:
    """A private note: stored with the ticket, never sent to the customer."""
    text = clean_text(text, max_chars)
    message = Message(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        channel=ticket.channel,
        direction=Direction.note,
        author_type=ActorType.agent,
        author_agent_id=ctx.id,
        text=text,
        delivery_state=DeliveryState.internal,
    )
    session.add(message)
    await session.flush()
    _touch(ctx, ticket)
    audit.record(
        session,
        "note.added",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        message_id=message.id,
    )
    await webhook_events.emit(
        session, EventType.message_created, ticket=ticket, message_id=message.id, note=True
    )
    return message


async def change_status(
    session: AsyncSession,
    ctx: AgentContext,
    ticket: Ticket,
    target: TicketStatus,
    notifier: Notifier,
) -> None:
    current = TicketStatus(ticket.status)
    if target == current:
        return
    if target not in TRANSITIONS[current]:
        raise Conflict(f"ticket {ticket.ref} is {current}; it cannot become {target}")
    if (current, target) in SUPERVISOR_ONLY and not ctx.sees_all:
        raise Forbidden(f"only a supervisor can move a {current} ticket to {target}")
    _ensure_may_act(ctx, ticket)
    before = webhook_events.snapshot(ticket)
    now = utcnow()
    ticket.status = target
    if target == S.resolved:
        ticket.resolved_at = now
    elif target == S.closed:
        ticket.closed_at = now
    else:
        ticket.resolved_at = ticket.closed_at = None
    if target in (S.resolved, S.closed):
        # Finished work frees the agent's capacity.
        ticket.assignee_id = None
    _touch(ctx, ticket)
    audit.record(
        session,
        "ticket.status_changed",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        old=current,
        new=target,
    )
    await _announce_if_claimable(session, ticket, notifier)
    await webhook_events.emit_ticket_updated(session, ticket, before, notifier=notifier)


async def transfer(
    session: AsyncSession, ctx: AgentContext, ticket: Ticket, queue_name: str, notifier: Notifier
) -> None:
    """Move the ticket to another queue, unassigned, so that queue's agents can claim it."""
    if ticket.status == S.closed:
        raise TicketClosed(f"ticket {ticket.ref} is closed")
    _ensure_may_act(ctx, ticket)
    queue = await queues_repo.queue_by_name(session, queue_name)
    if queue is None:
        raise NotFound(f"no queue named {queue_name!r}")
    before = webhook_events.snapshot(ticket)
    old_queue = ticket.queue_id
    ticket.queue_id = queue.id  # type: ignore[assignment]
    ticket.assignee_id = None
    _touch(ctx, ticket)
    audit.record(
        session,
        "ticket.transferred",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        from_queue=old_queue,
        to_queue=queue.id,
    )
    await _announce_if_claimable(session, ticket, notifier)
    await webhook_events.emit_ticket_updated(session, ticket, before, notifier=notifier)


async def escalate(
    session: AsyncSession, ctx: AgentContext, ticket: Ticket, reason: str, notifier: Notifier
) -> None:
    """One level up the escalation matrix: the queue's `escalates_to`, unassigned; a queue
    with no next level keeps the ticket and flags it for a supervisor."""
    if ticket.status in (S.resolved, S.closed):
        raise Conflict(f"ticket {ticket.ref} is {ticket.status}; reopen it first")
    _ensure_may_act(ctx, ticket)
    queue = await session.get_one(Queue, ticket.queue_id)
    before = webhook_events.snapshot(ticket)
    old_status = ticket.status
    ticket.status = S.escalated
    # Matrix levels (gateway/sla/escalation.py): level 1 is the assignee or queue, where
    # the ticket already is, so the first step up reaches level 2, the line manager.
    ticket.escalation_level = max(ticket.escalation_level + 1, 2)
    if queue.escalates_to_id is not None:
        ticket.queue_id = queue.escalates_to_id
        ticket.assignee_id = None
    else:
        flag(session, ticket, f"escalated past the last level: {reason}")
    _touch(ctx, ticket)
    audit.record(
        session,
        "ticket.escalated",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        reason=reason,
        level=ticket.escalation_level,
        from_queue=queue.id,
        to_queue=ticket.queue_id,
        old=old_status,
    )
    await _announce_if_claimable(session, ticket, notifier)
    next_queue = await session.get_one(Queue, ticket.queue_id)
    await webhook_events.emit(
        session,
        EventType.ticket_escalated,
        ticket=ticket,
        data={
            "reason": reason,
            "level": ticket.escalation_level,
            "from_queue": queue.name,
            "to_queue": next_queue.name,
            "past_last_level": queue.escalates_to_id is None,
        },
        notifier=notifier,
    )
    await webhook_events.emit_ticket_updated(session, ticket, before, notifier=notifier)


async def release(
    session: AsyncSession, ctx: AgentContext, ticket: Ticket, notifier: Notifier
) -> None:
    if ticket.assignee_id is None:
        raise Conflict(f"ticket {ticket.ref} is not assigned")
    if ticket.assignee_id != ctx.id and not ctx.sees_all:
        raise Conflict(f"ticket {ticket.ref} is held by another agent")
    before = webhook_events.snapshot(ticket)
    previous = ticket.assignee_id
    ticket.assignee_id = None
    ticket.updated_at = utcnow()
    audit.record(
        session,
        "ticket.released",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        previous_assignee=previous,
    )
    await _announce_if_claimable(session, ticket, notifier)
    await webhook_events.emit_ticket_updated(session, ticket, before, notifier=notifier)


async def set_customer_language(
    session: AsyncSession, ctx: AgentContext, ticket: Ticket, language: str
) -> None:
    """An agent's word on the customer's language wins over detection from now on.
    The same access rule as a reply: the holder (or a supervisor), never on a closed
    ticket, since it changes what the customer is sent."""
    if ticket.status == S.closed:
        raise TicketClosed(f"ticket {ticket.ref} is closed; a supervisor can reopen it")
    _ensure_may_act(ctx, ticket)
    customer = await session.get_one(Customer, ticket.customer_id)
    old = customer.language
    customer.language = language
    ticket.language = language
    _touch(ctx, ticket)
    audit.record(
        session,
        "customer.language_set",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        old=old,
        new=language,
    )


async def _announce_if_claimable(session: AsyncSession, ticket: Ticket, notifier: Notifier) -> None:
    if ticket.assignee_id is None and ticket.status in CLAIMABLE_STATUSES:
        await notifier.publish(session, notify.TICKETS, str(ticket.queue_id))


def clean_text(text: str, max_chars: int) -> str:
    if "\x00" in text:
        raise InvalidRequest("text contains NUL characters")
    if not text.strip():
        raise InvalidRequest("text is empty")
    if len(text) > max_chars:
        raise InvalidRequest(f"text is {len(text)} characters; the limit is {max_chars}")
    return text
