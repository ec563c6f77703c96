"""Reading the set-aside input, newest first."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tickets.models import DeadLetter


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
    stmt = sa.select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)  # type: ignore[union-attr]
    if channel is not None:
        stmt = stmt.where(DeadLetter.channel == channel)
    if reason is not None:
        stmt = stmt.where(DeadLetter.reason == reason)
    if pending_only:
        stmt = stmt.where(DeadLetter.resolved_message_id.is_(None))  # type: ignore[union-attr]
    if before_id is not None:
        stmt = stmt.where(DeadLetter.id < before_id)  # type: ignore[operator]
    return list((await session.execute(stmt)).scalars())


async def reason_counts(session: AsyncSession, channel: str | None = None) -> dict[str, int]:
    """How many dead letters there are of each reason (all, retried or not)."""
    stmt = sa.select(DeadLetter.reason, sa.func.count()).group_by(DeadLetter.reason)
    if channel is not None:
        stmt = stmt.where(DeadLetter.channel == channel)
    return {reason: int(count) for reason, count in (await session.execute(stmt)).all()}
