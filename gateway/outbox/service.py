"""The outbox's two doors: `enqueue` is how anything leaves the desk, and
`mark_undeliverable` is how a send that will never arrive is recorded.

Nothing else writes outbox rows or moves one to a failed state. Callers own the
transaction; both functions flush. A reply, a greeting, a copy on another channel, and
later notifications and webhooks all go through `enqueue`, so each gets the same
message row, outbox row, audit event and worker wake-up.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit, notify
from gateway.blobs import BlobStore
from gateway.notify import Notifier
from gateway.outbox.models import Outbox, OutboxState, move
from gateway.tickets.models import ActorType, Attachment, DeliveryState, Direction, Message

# Only gateway/outbox imports the outbox table (pyproject.toml's contract): a flow that
# is handed a locked row names its type and states by these.
OutboxRow = Outbox
__all__ = [
    "OutboxRow",
    "OutboxState",
    "OutgoingFile",
    "delivery_progress",
    "enqueue",
    "mark_undeliverable",
    "record_progress",
]


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A file to send with a message (bytes in hand, validated by the caller)."""

    filename: str
    content_type: str
    data: bytes


async def enqueue(
    session: AsyncSession,
    *,
    ticket_id: int,
    channel: str,
    text: str,
    notifier: Notifier | None,
    action: str,
    author_type: ActorType = ActorType.system,
    author_agent_id: int | None = None,
    audit_actor: ActorType | None = None,
    external_id: str | None = None,
    language: str | None = None,
    files: Sequence[OutgoingFile] = (),
    blobs: BlobStore | None = None,
    created_at: datetime | None = None,
    recipient: str | None = None,
    **audit_data: Any,
) -> Message:
    """Queue one outbound message on `channel` for the ticket's customer, or, with a
    `recipient`, a notice about the ticket to a desk member (an agent's email, an on-call
    Telegram chat): then the message is a note, never shown to the customer, outside the
    customer's thread, with no external id a reply could thread on.

    Writes the message (with `files`, stored in `blobs`), its outbox row and the audit
    event `action` (its `message_id` is the new message; `audit_data` rides along, the
    actor is `audit_actor` or the author), and wakes the delivery workers after commit.
    `external_id` defaults to a fresh id: channels derive their own ids from it (an
    email's Message-ID), so a resend after a crash carries the same one. Without a
    `notifier` the workers find the row at their next poll. Flushes.
    """
    message = Message(
        ticket_id=ticket_id,
        channel=channel,
        external_id=None if recipient else external_id or uuid.uuid4().hex,
        direction=Direction.note if recipient else Direction.outbound,
        author_type=author_type,
        author_agent_id=author_agent_id,
        text=text,
        language=language,
        delivery_state=DeliveryState.pending,
    )
    if created_at is not None:
        message.created_at = created_at
    session.add(message)
    await session.flush()
    assert message.id is not None
    for file in files:
        assert blobs is not None, "files need the blob store"
        key = await blobs.put(file.data)
        session.add(
            Attachment(
                message_id=message.id,
                filename=file.filename,
                content_type=file.content_type,
                size=len(file.data),
                sha256=key,
                blob_key=key,
            )
        )
    row = Outbox(message_id=message.id, ticket_id=ticket_id, channel=channel, recipient=recipient)
    session.add(row)
    actor = audit_actor or author_type
    audit.record(
        session,
        action,
        ticket_id=ticket_id,
        actor_type=actor,
        actor_agent_id=author_agent_id if actor == ActorType.agent else None,
        message_id=message.id,
        **audit_data,
    )
    await session.flush()
    if notifier is not None:
        await notifier.publish(session, notify.OUTBOX, str(row.id))
    return message


# What each way of failing is called in the audit trail.
UNDELIVERABLE_ACTIONS = {
    OutboxState.failed: "message.delivery_failed",
    OutboxState.dead: "message.delivery_dead",
}


async def mark_undeliverable(
    session: AsyncSession,
    row: Outbox,
    *,
    state: OutboxState,
    detail: str,
    action: str | None = None,
    **audit_data: Any,
) -> Message | None:
    """Record that the row's message will never arrive: the row becomes `state`
    (`failed`: the channel refused it, or it bounced after sending; `dead`: attempts
    used up), the message says so, and the audit event `action` records the error.

    Returns the message, or None when the row could not move (already failed or dead),
    so a repeated bounce is recorded once. The row should be locked by the caller.
    Flagging the ticket is the caller's: see `gateway.flows.undelivered`. Flushes.
    """
    if state not in UNDELIVERABLE_ACTIONS:
        raise ValueError(f"{state} is not a failed state")
    if not move(row, state):
        return None
    row.last_error = detail[:2000]
    row.lease_until = None
    row.leased_by = None
    message = await session.get_one(Message, row.message_id)
    message.delivery_state = DeliveryState(str(state))
    audit.record(
        session,
        action or UNDELIVERABLE_ACTIONS[state],
        ticket_id=row.ticket_id,
        message_id=row.message_id,
        error=detail[:500],
        **audit_data,
    )
    await session.flush()
    return message


async def delivery_progress(session: AsyncSession, outbox_id: int) -> list[int]:
    """What a delivery in several parts already sent (kept on its row, gone with it)."""
    row = await session.get(Outbox, outbox_id)
    return list(row.progress or []) if row is not None else []


async def record_progress(session: AsyncSession, outbox_id: int, parts: Sequence[int]) -> None:
    """Note the parts sent so far, so a retry continues after them. Flushes."""
    await session.execute(
        sa.update(Outbox).where(col(Outbox.id) == outbox_id).values(progress=list(parts))
    )
