"""Evidence items: every inbound file on a case ticket, hashed, typed by its bytes,
reviewed by an agent. Functions flush only."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.blobs import BlobStore
from gateway.cases.models import CaseTicket, Evidence, EvidenceRequest, ReviewState
from gateway.sla import service as sla_service
from gateway.sniff import kind_of, sniff
from gateway.tickets.models import (
    ActorType,
    Attachment,
    ChannelIdentity,
    Direction,
    Message,
    Ticket,
)

# Enough of a file to recognise its type.
SNIFF_BYTES = 64


def _fill(evidence: Evidence, attachment: Attachment, head: bytes | None) -> None:
    evidence.sha256 = attachment.sha256
    evidence.size = attachment.size
    if head is not None:
        evidence.mime = sniff(head) or "application/octet-stream"
        evidence.kind = kind_of(evidence.mime)


async def _head(blobs: BlobStore | None, attachment: Attachment) -> bytes | None:
    if blobs is None or attachment.blob_key is None:
        return None
    return (await blobs.get(attachment.blob_key))[:SNIFF_BYTES]


async def record_for_messages(
    session: AsyncSession,
    link: CaseTicket,
    ticket: Ticket,
    message_ids: list[int],
    blobs: BlobStore | None,
    now: datetime,
) -> list[Evidence]:
    """Evidence rows for the customer's files on these messages (once each). Inline
    parts (mail signatures, logos) are not evidence; a customer's attached file is."""
    if not message_ids:
        return []
    rows = await session.execute(
        sa.select(Attachment, Message)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(
            col(Attachment.message_id).in_(message_ids),
            col(Message.direction) == Direction.inbound,
            col(Attachment.inline).is_(False),
            ~sa.exists().where(col(Evidence.attachment_id) == col(Attachment.id)),
        )
        .order_by(col(Attachment.id))
    )
    pairs = [(row[0], row[1]) for row in rows]
    if not pairs:
        return []
    identity = await session.get_one(ChannelIdentity, ticket.identity_id)
    uploader = link.party_user_id or f"{identity.channel}:{identity.address}"
    items = []
    for attachment, message in pairs:
        evidence = Evidence(
            case_id=link.case_id,
            ticket_id=ticket.id,  # type: ignore[arg-type]
            message_id=message.id,  # type: ignore[arg-type]
            attachment_id=attachment.id,  # type: ignore[arg-type]
            party=link.party,
            uploader=uploader[:320],
            channel=message.channel,
            filename=attachment.filename,
            declared_type=attachment.content_type,
            received_at=message.created_at,
        )
        _fill(evidence, attachment, await _head(blobs, attachment))
        session.add(evidence)
        items.append(evidence)
    await session.flush()
    for evidence in items:
        audit.record(
            session,
            "evidence.received",
            ticket_id=ticket.id,
            case_id=link.case_id,
            actor_type=ActorType.customer,
            evidence_id=evidence.id,
            sha256=evidence.sha256,
            kind=evidence.kind,
            party=evidence.party,
        )
    await _fulfil_requests(session, link, items[0], now)
    return items


async def _fulfil_requests(
    session: AsyncSession, link: CaseTicket, evidence: Evidence, now: datetime
) -> None:
    """The party's open requests on this case are answered by their new file."""
    result = await session.execute(
        sa.select(EvidenceRequest).where(
            col(EvidenceRequest.case_id) == link.case_id,
            col(EvidenceRequest.party) == link.party,
            col(EvidenceRequest.fulfilled_at).is_(None),
        )
    )
    answered: set[int] = set()
    for request in result.scalars():
        answered.add(request.ticket_id)
        request.fulfilled_at = now
        request.fulfilled_by_evidence_id = evidence.id
        audit.record(
            session,
            "evidence.request_fulfilled",
            ticket_id=request.ticket_id,
            case_id=request.case_id,
            request_id=request.id,
            evidence_id=evidence.id,
            late=now > request.deadline_at,
        )
    await session.flush()
    # Each request is an SLA target of its ticket: record it fulfilled now rather than
    # when the worker next looks (a fulfilment escalates nobody, so no notifier).
    for ticket_id in sorted(answered):
        await sla_service.refresh(session, await session.get_one(Ticket, ticket_id), now)


async def attachment_stored(session: AsyncSession, attachment_id: int, data: bytes) -> None:
    """A file fetched after its message (Telegram): complete its evidence item. Flushes."""
    evidence = (
        await session.execute(
            sa.select(Evidence).where(col(Evidence.attachment_id) == attachment_id)
        )
    ).scalar_one_or_none()
    if evidence is None:
        return
    attachment = await session.get_one(Attachment, attachment_id)
    _fill(evidence, attachment, data[:SNIFF_BYTES])
    audit.record(
        session,
        "evidence.stored",
        ticket_id=evidence.ticket_id,
        case_id=evidence.case_id,
        evidence_id=evidence.id,
        sha256=evidence.sha256,
        kind=evidence.kind,
    )
    await session.flush()


def review(
    session: AsyncSession,
    evidence: Evidence,
    state: ReviewState,
    reason: str | None,
    *,
    agent_id: int,
    now: datetime,
) -> None:
    """Accept or reject (with a reason) an item; audited on the item's ticket."""
    old = evidence.review_state
    evidence.review_state = state
    evidence.review_reason = reason
    evidence.reviewed_by = agent_id
    evidence.reviewed_at = now
    audit.record(
        session,
        "evidence.reviewed",
        ticket_id=evidence.ticket_id,
        case_id=evidence.case_id,
        actor_type=ActorType.agent,
        actor_agent_id=agent_id,
        evidence_id=evidence.id,
        old=old,
        new=state,
        reason=reason,
    )
