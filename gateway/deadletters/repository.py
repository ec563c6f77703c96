"""Set-aside input: the one writer of dead letters (`set_aside`, every channel's), and
the reads, newest first."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.db import lock_key
from gateway.tickets.models import DeadLetter


async def set_aside(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str | None,
    reason: str,
    error: str | None,
    raw_blob_key: str | None,
    sender: str | None = None,
    resolved_message_id: int | None = None,
) -> DeadLetter:
    """Record input set aside, once per (channel, external id, raw bytes) however often
    it comes (a resent mail, a re-posted Telegram update). Flushes."""
    await lock_key(session, "dead_letter", channel, external_id or raw_blob_key or "")
    existing = (
        await session.execute(
            sa.select(DeadLetter).where(
                col(DeadLetter.channel) == channel,
                col(DeadLetter.external_id) == external_id,
                col(DeadLetter.raw_blob_key) == raw_blob_key,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    letter = DeadLetter(
        channel=channel,
        external_id=external_id[:998] if external_id else None,
        reason=reason[:32],
        error=error,
        raw_blob_key=raw_blob_key,
        sender=sender[:320] if sender else None,
        resolved_message_id=resolved_message_id,
    )
    session.add(letter)
    await session.flush()
    return letter


async def list_dead_letters(
    session: AsyncSession,
    *,
    channel: str | None = None,
    reason: str | None = None,
    pending_only: bool = False,
    before_id: int | None = None,
    limit: int = 50,
) -> Sequence[DeadLetter]:
    """Dead letters newest first, filtered; `before_id` pages on from a previous page."""
    stmt = sa.select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
    if channel is not None:
        stmt = stmt.where(col(DeadLetter.channel) == channel)
    if reason is not None:
        stmt = stmt.where(col(DeadLetter.reason) == reason)
    if pending_only:
        stmt = stmt.where(col(DeadLetter.resolved_message_id).is_(None))
    if before_id is not None:
        stmt = stmt.where(col(DeadLetter.id) < before_id)
    return list((await session.execute(stmt)).scalars())


async def reason_counts(session: AsyncSession, channel: str | None = None) -> dict[str, int]:
    """How many dead letters there are of each reason (all, retried or not)."""
    stmt = sa.select(col(DeadLetter.reason), sa.func.count()).group_by(col(DeadLetter.reason))
    if channel is not None:
        stmt = stmt.where(col(DeadLetter.channel) == channel)
    return {reason: int(count) for reason, count in (await session.execute(stmt)).all()}
