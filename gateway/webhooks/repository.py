"""All SQL of webhooks. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from gateway.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription


async def lease_due(
    session: AsyncSession, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[WebhookDelivery]:
    """Lease up to `limit` due deliveries, at most one per subscriber and order key: the
    oldest pending delivery of a ticket to a subscriber holds back the later ones, so a
    ticket's events arrive in order. An expired lease (a worker died mid-send) is due."""
    earlier = aliased(WebhookDelivery)
    due = (
        sa.select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
            sa.or_(
                col(WebhookDelivery.lease_until).is_(None), col(WebhookDelivery.lease_until) < now
            ),
            ~sa.exists().where(
                col(earlier.subscription_id) == col(WebhookDelivery.subscription_id),
                col(earlier.order_key) == col(WebhookDelivery.order_key),
                col(earlier.status) == DeliveryStatus.pending,
                col(earlier.id) < col(WebhookDelivery.id),
            ),
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    result = await session.execute(
        sa.update(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(due))
        .values(
            lease_until=now + lease, leased_by=worker, attempts=col(WebhookDelivery.attempts) + 1
        )
        .returning(WebhookDelivery)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars(), key=lambda row: row.id or 0)


async def lock_deliveries(session: AsyncSession, ids: Iterable[int]) -> dict[int, WebhookDelivery]:
    wanted = sorted(ids)
    if not wanted:
        return {}
    result = await session.execute(
        sa.select(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(wanted))
        .order_by(col(WebhookDelivery.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in result.scalars()}  # type: ignore[misc]


async def subscriptions(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, WebhookSubscription]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    result = await session.execute(
        sa.select(WebhookSubscription).where(col(WebhookSubscription.id).in_(wanted))
    )
    return {row.id: row for row in result.scalars()}  # type: ignore[misc]


async def deliveries_of(
    session: AsyncSession,
    subscription_id: int,
    *,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """A subscriber's deliveries, newest first, paged by id."""
    query = sa.select(WebhookDelivery).where(
        col(WebhookDelivery.subscription_id) == subscription_id
    )
    if status:
        query = query.where(col(WebhookDelivery.status) == status)
    if before_id:
        query = query.where(col(WebhookDelivery.id) < before_id)
    result = await session.execute(query.order_by(col(WebhookDelivery.id).desc()).limit(limit))
    return list(result.scalars())


async def delivery_by_public_id(
    session: AsyncSession, subscription_id: int, delivery_id: str
) -> WebhookDelivery | None:
    result = await session.execute(
        sa.select(WebhookDelivery)
        .where(
            col(WebhookDelivery.subscription_id) == subscription_id,
            col(WebhookDelivery.delivery_id) == delivery_id,
        )
        .with_for_update()
    )
    return result.scalar_one_or_none()
