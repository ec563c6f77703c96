"""All SQL of canned replies. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.canned.models import CannedReply


async def all_replies(session: AsyncSession) -> list[CannedReply]:
    stmt = sa.select(CannedReply).order_by(CannedReply.category, CannedReply.name)
    return list((await session.execute(stmt)).scalars())


async def for_category(session: AsyncSession, category: str) -> list[CannedReply]:
    """The replies for this category, then those for every category."""
    stmt = (
        sa.select(CannedReply)
        .where(sa.or_(CannedReply.category == category, CannedReply.category.is_(None)))
        .order_by(CannedReply.category.is_(None), CannedReply.name)
    )
    return list((await session.execute(stmt)).scalars())


async def by_name(session: AsyncSession, name: str) -> CannedReply | None:
    stmt = sa.select(CannedReply).where(CannedReply.name == name)
    return (await session.execute(stmt)).scalar_one_or_none()
