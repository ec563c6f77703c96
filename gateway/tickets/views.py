"""The tickets read model: what agents see of a ticket, its list rows and its events.

Queries only; nothing here changes a ticket (its actions are in tickets/service.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from gateway import audit
from gateway.agents.models import Agent
from gateway.audit_chain import Carried
from gateway.db import detached_loaded, pk
from gateway.errors import Conflict, NotFound
from gateway.queues.models import Queue
from gateway.statements import Statement
from gateway.tickets.models import (
    Attachment,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    ticket_ref,
)
from gateway.tickets.schemas import (
    AttachmentPublic,
    CustomerPublic,
    EventPublic,
    MessagePublic,
    TicketPublic,
    TicketSummary,
)


async def _names(session: AsyncSession, agent_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in agent_ids if i is not None}
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(pk(Agent.id), col(Agent.name)).where(col(Agent.id).in_(ids))
    )
    return {row[0]: row[1] for row in rows}


async def _queue_names(session: AsyncSession, queue_ids: Iterable[int]) -> dict[int, str]:
    rows = await session.execute(
        sa.select(pk(Queue.id), col(Queue.name)).where(col(Queue.id).in_(set(queue_ids)))
    )
    return {row[0]: row[1] for row in rows}


def _summary_fields(
    ticket: Ticket, queues: dict[int, str], agents: dict[int, str]
) -> dict[str, object]:
    return {
        "ref": ticket.ref,
        "status": ticket.status,
        "severity": ticket.severity,
        "category": ticket.category,
        "language": ticket.language,
        "channel": ticket.channel,
        "queue": queues.get(ticket.queue_id, "?"),
        "assignee": agents.get(ticket.assignee_id) if ticket.assignee_id else None,
        "subject": ticket.subject,
        "order_ref": ticket.order_ref,
        "amount": ticket.amount,
        "currency": ticket.currency,
        "escalation_level": ticket.escalation_level,
        "needs_attention": ticket.needs_attention,
        "attention_reason": ticket.attention_reason,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_due": ticket.first_response_due,
        "next_response_due": ticket.next_response_due,
        "resolution_due": ticket.resolution_due,
        "sla_state": ticket.sla_state,
    }


async def summaries(session: AsyncSession, tickets: list[Ticket]) -> list[TicketSummary]:
    queues = await _queue_names(session, (t.queue_id for t in tickets))
    agents = await _names(session, (t.assignee_id for t in tickets))
    return [TicketSummary.model_validate(_summary_fields(t, queues, agents)) for t in tickets]


# Built once (every claim answers with the whole ticket): the customer, every message,
# its attachments and its author's name.
_author = aliased(Agent)


def _whole_ticket(*columns: Any) -> sa.Select[Any]:
    return (
        sa.select(*columns)
        .select_from(Customer)
        .outerjoin(Message, col(Message.ticket_id) == sa.bindparam("ticket_id", type_=sa.Integer))
        .outerjoin(Attachment, col(Attachment.message_id) == col(Message.id))
        .outerjoin(_author, col(_author.id) == col(Message.author_agent_id))
        .where(col(Customer.id) == sa.bindparam("customer_id", type_=sa.Integer))
        .order_by(col(Message.id), col(Attachment.id))
    )


_WHOLE_TICKET = _whole_ticket(Customer, Message, Attachment, col(_author.name))
# The same read as columns, for a claim: built into detached instances instead of
# loaded by the ORM, and on PostgreSQL run straight on asyncpg (gateway/statements.py).
_ENTITY_COLUMNS = tuple(
    (model, tuple(prop.key for prop in sa.inspect(model).column_attrs))
    for model in (Customer, Message, Attachment)
)
_WHOLE_TICKET_COLUMNS = _whole_ticket(
    *(getattr(model, key) for model, keys in _ENTITY_COLUMNS for key in keys),
    col(_author.name),
)


@functools.cache
def _whole_ticket_carrying(cte: Any) -> Statement:
    statement = _WHOLE_TICKET_COLUMNS.add_cte(cte)
    return Statement(statement, [c.type for c in statement.selected_columns])


def _entities(
    row: Sequence[Any],
) -> tuple[Customer, Message | None, Attachment | None, str | None]:
    """One row of `_WHOLE_TICKET_COLUMNS` as the ORM read would give it."""
    built: list[Any] = []
    at = 0
    for model, keys in _ENTITY_COLUMNS:
        values = row[at : at + len(keys)]
        at += len(keys)
        # An outer join's missing side: every column NULL, the primary key first among them.
        present = values[keys.index("id")] is not None
        built.append(detached_loaded(model, zip(keys, values, strict=True)) if present else None)
    return built[0], built[1], built[2], row[at]


async def public(
    session: AsyncSession,
    ticket: Ticket,
    *,
    queue_name: str | None = None,
    assignee_name: str | None = None,
    carrying: Carried | None = None,
) -> TicketPublic:
    """The whole ticket as an agent sees it: messages, notes, attachments' metadata.

    One statement reads the customer, every message, its attachments and its author's
    name (outer joins, a row per attachment); a caller that knows the queue's and the
    assignee's names (a claim) passes them and saves the reads of those, and may have
    the same statement write its audit event (`carrying`, see audit_chain.carried)
    instead of spending a round trip on it."""
    params = {"ticket_id": ticket.id, "customer_id": ticket.customer_id}
    rows: Iterable[Sequence[Any]]
    if carrying is not None:
        if carrying.params.get("ticket_id", ticket.id) != ticket.id:
            raise ValueError("a carried event shares the ticket_id parameter: same ticket")
        carried = _whole_ticket_carrying(carrying.cte)
        rows = [_entities(row) for row in await carried.rows(session, carrying.params | params)]
    else:
        rows = await session.execute(_WHOLE_TICKET, params)
    customer: Customer | None = None
    messages: list[Message] = []
    attachments: dict[int, list[AttachmentPublic]] = {}
    agents: dict[int, str] = {}
    for row_customer, message, att, author_name in rows:
        customer = row_customer
        if message is None:
            continue
        if not messages or messages[-1] is not message:
            messages.append(message)
        if att is not None:
            attachments.setdefault(att.message_id, []).append(
                AttachmentPublic.model_validate(att, from_attributes=True)
            )
        if message.author_agent_id is not None and author_name is not None:
            agents[message.author_agent_id] = author_name
    if customer is None:
        customer = await session.get_one(Customer, ticket.customer_id)
    if ticket.assignee_id is not None:
        if assignee_name is not None:
            agents[ticket.assignee_id] = assignee_name
        elif ticket.assignee_id not in agents:
            agents |= await _names(session, [ticket.assignee_id])
    queues = (
        {ticket.queue_id: queue_name}
        if queue_name is not None
        else await _queue_names(session, [ticket.queue_id])
    )
    return TicketPublic.model_validate(
        _summary_fields(ticket, queues, agents)
        | {
            "customer": CustomerPublic(
                id=customer.id,  # type: ignore[arg-type]
                name=customer.display_name,
                email=customer.email,
                exchange_user_id=customer.exchange_user_id,
                language=customer.language,
            ),
            "parent": ticket_ref(ticket.parent_ticket_id) if ticket.parent_ticket_id else None,
            "routing_reasons": ticket.routing_reasons,
            "messages": [
                MessagePublic(
                    id=m.id,  # type: ignore[arg-type]
                    direction=Direction(m.direction),
                    author=agents.get(m.author_agent_id, "agent")
                    if m.author_agent_id
                    else str(m.author_type),
                    text=m.text,
                    html=m.html,
                    subject=m.subject,
                    language=m.language,
                    delivery_state=DeliveryState(m.delivery_state),
                    created_at=m.created_at,
                    edited_at=m.edited_at,
                    attachments=attachments.get(m.id, []),  # type: ignore[arg-type]
                )
                for m in messages
            ],
        }
    )


async def attachment_for(session: AsyncSession, ticket: Ticket, attachment_id: int) -> Attachment:
    """An attachment of one of this ticket's messages (404 for any other id)."""
    row = await session.execute(
        sa.select(Attachment)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(col(Attachment.id) == attachment_id, col(Message.ticket_id) == ticket.id)
    )
    attachment = row.scalar_one_or_none()
    if attachment is None:
        raise NotFound(f"no attachment {attachment_id} on ticket {ticket.ref}")
    if attachment.blob_key is None:
        raise Conflict(f"attachment {attachment_id} is {attachment.state}, not stored yet")
    return attachment


async def events(session: AsyncSession, ticket: Ticket) -> list[EventPublic]:
    rows = await audit.for_ticket(session, ticket.id)  # type: ignore[arg-type]
    agents = await _names(session, (e.actor_agent_id for e in rows))
    return [
        EventPublic(
            id=e.id,  # type: ignore[arg-type]
            action=e.action,
            actor=agents.get(e.actor_agent_id, "agent") if e.actor_agent_id else e.actor_type,
            data=e.data,
            created_at=e.created_at,
        )
        for e in rows
    ]
