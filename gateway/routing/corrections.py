"""Agents correct triage: the ticket changes, and the correction becomes a labelled
example that `gateway routing eval` and `gateway routing train` read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit, notify
from gateway.db import utcnow
from gateway.errors import Conflict, TicketClosed
from gateway.notify import Notifier
from gateway.routing import repository as repo
from gateway.routing.dataset import Example
from gateway.routing.language import UNKNOWN, tags_for
from gateway.routing.models import RoutingCorrection
from gateway.routing.rules import RoutingFacts
from gateway.routing.rules import decide as first_match
from gateway.routing.service import MAX_REASONS
from gateway.tickets.models import (
    CLAIMABLE_STATUSES,
    SEVERITY_RANK,
    ActorType,
    Category,
    Customer,
    Direction,
    Message,
    Severity,
    Ticket,
    TicketStatus,
)
from gateway.webhooks import events as webhook_events


async def export_examples(session: AsyncSession) -> list[Example]:
    """Every correction, oldest first, as a development-set line. A ticket corrected
    twice yields its latest labels once (the last word of the desk)."""
    rows = (
        await session.execute(sa.select(RoutingCorrection).order_by(col(RoutingCorrection.id)))
    ).scalars()
    latest: dict[int, RoutingCorrection] = {}
    for row in rows:
        latest.pop(row.ticket_id, None)
        latest[row.ticket_id] = row
    return [
        Example(
            text=row.text,
            language=row.language or "unknown",
            category=row.new_category,
            severity=row.new_severity,
            source=f"correction: ticket D-{row.ticket_id} by agent {row.agent_id}",
        )
        for row in latest.values()
    ]


# What a correction keeps of the conversation: routing reads a message's head too.
MAX_CORRECTION_TEXT = 4000


async def correct(
    session: AsyncSession,
    ticket: Ticket,
    *,
    agent_id: int,
    may_act: bool,
    category: Category | None,
    severity: Severity | None,
    notifier: Notifier | None = None,
) -> RoutingCorrection | None:
    """Set the ticket's category and/or severity as an agent says, queue it where the
    rules send those values, audit old and new, and keep the correction as a labelled
    example. Returns None when nothing changed. Flushes; the caller commits."""
    if ticket.status == TicketStatus.closed:
        raise TicketClosed(f"ticket {ticket.ref} is closed")
    if not may_act:
        raise Conflict(f"ticket {ticket.ref} is held by another agent; ask a supervisor")
    old_category, old_severity = ticket.category, ticket.severity
    new_category = category or Category(old_category)
    new_severity = severity or Severity(old_severity)
    if (new_category, new_severity) == (old_category, old_severity):
        return None
    before = webhook_events.snapshot(ticket)
    ticket.category, ticket.severity = new_category, new_severity
    ticket.severity_rank = SEVERITY_RANK[new_severity]
    # An agent's word is certain: the next customer message must not route it again.
    ticket.routing_confidence = 1.0
    ticket.updated_at = utcnow()

    rule_set, queue_ids = await repo.load_rule_set(session)
    customer = await session.get_one(Customer, ticket.customer_id)
    tags = tags_for(ticket.language) if ticket.language else frozenset({UNKNOWN})
    flags = frozenset(k for k, v in customer.flags.items() if v)
    decision = first_match(
        rule_set, RoutingFacts(tags, new_severity, new_category, ticket.channel, flags)
    )
    old_queue = ticket.queue_id
    new_queue = queue_ids.get(decision.queue, old_queue)
    if new_queue != old_queue and ticket.status != TicketStatus.escalated:
        # Like a transfer: the desk the rules name claims it.
        ticket.queue_id = new_queue
        ticket.assignee_id = None
    else:
        new_queue = old_queue
    reason = (
        f"corrected by agent {agent_id}: category {old_category} -> {new_category}, "
        f"severity {old_severity} -> {new_severity}; {decision.reason}"
    )
    ticket.routing_reasons = [*ticket.routing_reasons, reason][-MAX_REASONS:]
    audit.record(
        session,
        "ticket.triage_corrected",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=agent_id,
        old_category=old_category,
        new_category=new_category,
        old_severity=old_severity,
        new_severity=new_severity,
        from_queue=old_queue,
        to_queue=new_queue,
        rule=decision.rule,
    )
    texts = (
        await session.execute(
            sa.select(col(Message.text))
            .where(col(Message.ticket_id) == ticket.id, col(Message.direction) == Direction.inbound)
            .order_by(col(Message.id))
        )
    ).scalars()
    correction = RoutingCorrection(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        agent_id=agent_id,
        text="\n".join(texts)[:MAX_CORRECTION_TEXT],
        language=ticket.language,
        old_category=old_category,
        new_category=new_category,
        old_severity=old_severity,
        new_severity=new_severity,
    )
    session.add(correction)
    await session.flush()
    if notifier is not None and ticket.assignee_id is None and ticket.status in CLAIMABLE_STATUSES:
        await notifier.publish(session, notify.TICKETS, str(ticket.queue_id))
    await webhook_events.emit_ticket_updated(
        session, ticket, before, notifier=notifier, by="triage_correction"
    )
    return correction
