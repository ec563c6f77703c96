"""The one way to tell subscribers that something happened: `emit()`.

Call it inside the transaction that made the change, after the change is flushed:

    from gateway.webhooks.events import emit
    await emit(session, "sla.breached", ticket=ticket, data={"metric": "first_response"})

It writes one delivery row per active subscriber of that event type (the webhooks'
outbox rows), so the event commits or rolls back with the change, and the delivery
worker sends it after commit. With a ticket the payload's `data.ticket` is the ticket
JSON of the API (`GET /api/v1/tickets/{ref}`, attachments with a download URL);
`data` adds the event's own fields. Payload: `{"id", "type", "created_at", "data"}`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col

from gateway import notify
from gateway.agents.models import Agent
from gateway.db import forget, pk, public_url, transaction_memo, utcnow
from gateway.notify import Notifier
from gateway.queues.models import Queue
from gateway.tickets.models import Ticket
from gateway.webhooks import cache as subscription_cache
from gateway.webhooks.cache import Subscriber
from gateway.webhooks.models import EventType, WebhookDelivery, WebhookSubscription


async def emit(
    session: AsyncSession,
    event_type: EventType | str,
    *,
    ticket: Ticket | None = None,
    data: dict[str, Any] | None = None,
    message_id: int | None = None,
    note: bool = False,
    notifier: Notifier | None = None,
) -> str | None:
    """Queue `event_type` for its subscribers; the event id, or None when nobody
    subscribes. `message_id` adds that message of the ticket as `data.message` (the
    message.created events). `note=True` marks an event about a private note: only subscribers who
    asked for notes get it. Pass the `notifier` to wake the worker at commit (otherwise
    it finds the rows within its poll interval). Flushes."""
    kind = EventType(event_type)
    subscribers = await _subscribers(session, kind, notes_only=note)
    if not subscribers:
        return None
    event_id = str(uuid.uuid4())
    created_at = utcnow()
    bodies: dict[bool, str] = {}
    for sub in subscribers:
        if sub.include_notes not in bodies:
            payload = {
                "id": event_id,
                "type": str(kind),
                "created_at": created_at.isoformat().replace("+00:00", "Z"),
                "data": await _data(
                    session, ticket, data or {}, message_id, notes=sub.include_notes
                ),
            }
            bodies[sub.include_notes] = json.dumps(payload, ensure_ascii=False, default=str)
        session.add(
            WebhookDelivery(
                delivery_id=str(uuid.uuid4()),
                subscription_id=sub.id,
                event_id=event_id,
                event_type=str(kind),
                ticket_id=ticket.id if ticket else None,
                order_key=f"ticket:{ticket.id}" if ticket else f"event:{event_id}",
                body=bodies[sub.include_notes],
                next_attempt_at=created_at,
                created_at=created_at,
            )
        )
    await session.flush()
    if notifier is not None:
        await notifier.publish(session, notify.OUTBOX, f"webhook:{event_id}")
    return event_id


async def _subscribers(
    session: AsyncSession, kind: EventType, *, notes_only: bool
) -> list[Subscriber]:
    return [
        sub
        for sub in await _active(session)
        if str(kind) in sub.event_types and (sub.include_notes or not notes_only)
    ]


_MEMO = "webhook_subscriptions"
_ACTIVE = (
    sa.select(
        pk(WebhookSubscription.id),
        col(WebhookSubscription.event_types),
        col(WebhookSubscription.include_notes),
    )
    .where(col(WebhookSubscription.active).is_(True))
    .order_by(col(WebhookSubscription.id))
)


def _subscriber(sub_id: int, types: list[str] | None, notes: bool | None) -> Subscriber:
    return Subscriber(id=sub_id, event_types=frozenset(types or ()), include_notes=bool(notes))


async def _active(session: AsyncSession) -> tuple[Subscriber, ...]:
    """The active subscriptions, read once per transaction (one ingest emits up to three
    events), and from the process's cache while it is trusted (gateway/webhooks/cache.py:
    what it costs in freshness); read again after this transaction changes any
    subscription, and then never from or into the cache."""
    memo = transaction_memo(session, _MEMO)
    if "active" in memo and not subscription_cache.pending_writes(session.sync_session):
        return memo["active"]  # type: ignore[no-any-return]
    changed = subscription_cache.changed_here(session)
    cache = None if changed else subscription_cache.for_session(session)
    if cache is not None and cache.trusted:
        active = cache.get()
        if active is None:
            generation = cache.generation
            active = await _read_active(session)
            cache.put(active, generation=generation)
    else:
        active = await _read_active(session)
    memo["active"] = active
    return active


async def _read_active(session: AsyncSession) -> tuple[Subscriber, ...]:
    rows = await (await session.connection()).execute(_ACTIVE)
    return tuple(_subscriber(*row) for row in rows)


@event.listens_for(Session, "after_flush")
def _forget_flushed_subscriptions(session: Session, _ctx: UOWTransaction) -> None:
    if subscription_cache.pending_writes(session):
        forget(session, _MEMO, "active")


async def _data(
    session: AsyncSession,
    ticket: Ticket | None,
    extra: dict[str, Any],
    message_id: int | None,
    *,
    notes: bool,
) -> dict[str, Any]:
    if ticket is None:
        return dict(extra)
    payload = await ticket_json(session, ticket, notes=notes)
    data: dict[str, Any] = {"ticket": payload}
    if message_id is not None:
        data["message"] = next((m for m in payload["messages"] if m["id"] == message_id), None)
    return data | extra


async def ticket_json(session: AsyncSession, ticket: Ticket, *, notes: bool) -> dict[str, Any]:
    """The API's ticket JSON, with each attachment's authenticated download URL (an
    agent or integration token reads it); private notes only for those who asked."""
    from gateway.tickets import views  # the tickets service emits events too

    public = (await views.public(session, ticket)).model_dump(mode="json")
    base = public_url(session)
    messages = []
    for message in public["messages"]:
        if message["direction"] == "note" and not notes:
            continue
        for attachment in message["attachments"]:
            attachment["download_url"] = (
                f"{base}/api/v1/tickets/{ticket.ref}/attachments/{attachment['id']}"
            )
        messages.append(message)
    public["messages"] = messages
    return public


# The ticket fields whose changes ticket.updated reports, by their names in the JSON.
TRACKED = {
    "status": "status",
    "severity": "severity",
    "category": "category",
    "queue_id": "queue",
    "assignee_id": "assignee",
}


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The tracked fields as last loaded or flushed: a change made but not flushed yet
    shows its old value, so a snapshot taken late still knows what changed."""
    state = sa.inspect(ticket)
    values = {}
    for name in TRACKED:
        history = state.attrs[name].history
        values[name] = history.deleted[0] if history.deleted else getattr(ticket, name)
    return values


async def emit_ticket_updated(
    session: AsyncSession,
    ticket: Ticket,
    before: dict[str, Any],
    *,
    notifier: Notifier | None = None,
    **data: Any,
) -> str | None:
    """ticket.updated with `data.changes` = {field: {"old", "new"}} for each tracked field
    that differs from `before` (a `snapshot()`); nothing when none does. Queues and
    assignees are named, as in the ticket JSON. Flushes."""
    changed = [name for name in TRACKED if before.get(name) != getattr(ticket, name)]
    if not changed or not await _subscribers(session, EventType.ticket_updated, notes_only=False):
        return None
    queue_ids = {before.get("queue_id"), ticket.queue_id} - {None}
    agent_ids = {before.get("assignee_id"), ticket.assignee_id} - {None}
    queue_rows = await session.execute(
        sa.select(col(Queue.id), col(Queue.name)).where(col(Queue.id).in_(queue_ids))
    )
    agent_rows = await session.execute(
        sa.select(col(Agent.id), col(Agent.name)).where(col(Agent.id).in_(agent_ids))
    )
    queues = {row[0]: row[1] for row in queue_rows}
    agents = {row[0]: row[1] for row in agent_rows}

    def shown(name: str, value: Any) -> Any:
        if value is None:
            return None
        if name == "queue_id":
            return queues.get(value)
        if name == "assignee_id":
            return agents.get(value)
        return str(value)

    changes = {
        TRACKED[name]: {
            "old": shown(name, before.get(name)),
            "new": shown(name, getattr(ticket, name)),
        }
        for name in changed
    }
    return await emit(
        session,
        EventType.ticket_updated,
        ticket=ticket,
        data={"changes": changes, **data},
        notifier=notifier,
    )
