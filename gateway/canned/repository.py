"""All SQL of canned replies. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.canned.models import CannedReply


async def all_replies(session: AsyncSession) -> list[CannedReply]:
    stmt = sa.select(CannedReply).order_by(col(CannedReply.category), col(CannedReply.name))
    return list((await session.execute(stmt)).scalars())


async def for_category(session: AsyncSession, category: str) -> list[CannedReply]:
    """The replies for this category, then those for every category."""
    stmt = (
        sa.select(CannedReply)
        .where(sa.or_(col(CannedReply.category) == category, col(CannedReply.category).is_(None)))
        .order_by(col(CannedReply.category).is_(None), col(CannedReply.name))
    )
    return list((await session.execute(stmt)).scalars())


async def by_name(session: AsyncSession, name: str) -> CannedReply | None:
    stmt = sa.select(CannedReply).where(col(CannedReply.name) == name)
    return (await session.execute(stmt)).scalar_one_or_none()
