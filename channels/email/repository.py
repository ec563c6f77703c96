"""All SQL of the email channel. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import lock_key
from gateway.ports import Channel
from gateway.tickets.models import DeadLetter, Direction, Message

EMAIL = str(Channel.email)


async def outbound_external_ids(session: AsyncSession, ids: Sequence[str]) -> list[str]:
    """External ids of our email replies known under any of `ids` (stored id or the
    Message-ID the relay accepted), so a customer's References always find them."""
    if not ids:
        return []
    result = await session.execute(
        sa.select(Message.external_id).where(
            Message.channel == EMAIL,
            Message.direction == Direction.outbound,
            sa.or_(Message.external_id.in_(list(ids)), Message.provider_id.in_(list(ids))),
        )
    )
    return [eid for eid in result.scalars() if eid]


async def set_aside(
    session: AsyncSession,
    *,
    external_id: str | None,
    reason: str,
    error: str | None,
    raw_blob_key: str | None,
    sender: str | None,
) -> DeadLetter:
    """Record a mail set aside, once per (external id, raw bytes) however often it comes."""
    await lock_key(session, "dead_letter", EMAIL, external_id or raw_blob_key or "")
    existing = (
        await session.execute(
            sa.select(DeadLetter).where(
                DeadLetter.channel == EMAIL,
                DeadLetter.external_id == external_id,
                DeadLetter.raw_blob_key == raw_blob_key,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    letter = DeadLetter(
        channel=EMAIL,
        external_id=external_id[:998] if external_id else None,
        reason=reason[:32],
        error=error,
        raw_blob_key=raw_blob_key,
        sender=sender[:320] if sender else None,
    )
    session.add(letter)
    await session.flush()
    return letter


async def dead_letter(session: AsyncSession, dead_letter_id: int) -> DeadLetter | None:
    return await session.get(DeadLetter, dead_letter_id, with_for_update=True)
