"""All SQL of order facts. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.db import lock_key
from gateway.orders.models import OrderFact, OrderSource
from gateway.orders.schemas import OrderFactsIn, OrderFactsPublic


async def by_ref(session: AsyncSession, order_ref: str) -> OrderFact | None:
    result = await session.execute(
        sa.select(OrderFact).where(col(OrderFact.order_ref) == order_ref)
    )
    return result.scalar_one_or_none()


async def upsert(
    session: AsyncSession,
    order_ref: str,
    facts: OrderFactsIn,
    *,
    source: OrderSource,
    now: datetime,
) -> tuple[OrderFact, bool]:
    """Store the exchange's latest facts for one order; True when the order is new.
    Serialised per order, so two pushes of one order never both insert."""
    await lock_key(session, "order", order_ref)
    row = await by_ref(session, order_ref)
    created = row is None
    values = facts.model_dump(exclude={"created_at"})
    if row is None:
        row = OrderFact(order_ref=order_ref, created_at=now, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    row.order_created_at = facts.created_at
    row.source = source
    row.fetched_at = now
    row.updated_at = now
    await session.flush()
    return row, created


def public(row: OrderFact) -> OrderFactsPublic:
    data = row.model_dump()
    data["created_at"] = row.order_created_at
    return OrderFactsPublic.model_validate(data)
