"""Order facts: what the exchange pushed, or pulled on demand when it is configured."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.cases import linking
from gateway.clock import Clock
from gateway.orders import repository as repo
from gateway.orders.models import OrderFact, OrderSource
from gateway.risk import service as risk

__all__ = ["OrderSource", "facts_for"]
from gateway.orders.pull import ExchangeOrderClient


async def facts_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    order_ref: str,
    *,
    client: ExchangeOrderClient | None,
    clock: Clock,
    cache_seconds: float,
) -> OrderFact | None:
    """The stored facts while fresh; otherwise, with a pull URL configured, the
    exchange's, stored. The network call runs outside any transaction, so a slow
    exchange never holds a database lock."""
    async with sessionmaker() as session:
        row = await repo.by_ref(session, order_ref)
    now = clock.now()
    if client is None:
        return row
    if row is not None and now - row.fetched_at < timedelta(seconds=cache_seconds):
        return row
    facts = await client.fetch(order_ref, now=now)
    if facts is None:
        return row  # the exchange forgot it; what it told us before still stands
    async with sessionmaker.begin() as session:
        row, _created = await repo.upsert(
            session, order_ref, facts, source=OrderSource.pull, now=clock.now()
        )
        await linking.refresh_parties(session, row)
        await risk.on_order(session, row, now=clock.now())
    return row
