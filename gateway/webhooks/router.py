"""Admin routes for webhook subscribers and their deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from sqlmodel import col

from gateway.agents.dependencies import CurrentAdmin
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.webhooks import repository as repo
from gateway.webhooks import service
from gateway.webhooks.models import WebhookSubscription
from gateway.webhooks.schemas import (
    DeliveryList,
    DeliveryPublic,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionPublic,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)

router = APIRouter(prefix="/api/v1/admin/webhooks", tags=["webhooks"])

# Ids fit the database's integer; delivery ids are UUIDs.
WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeliveryId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]


def _with_secret(sub: WebhookSubscription) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(**service.public(sub).model_dump(), secret=sub.secret)


@router.post("", status_code=201, response_model=SubscriptionWithSecret)
async def create_webhook(
    body: SubscriptionCreate, session: SessionDep, ctx: CurrentAdmin, runtime: RuntimeDep
) -> SubscriptionWithSecret:
    """Register a receiver. The signing secret is in this answer only: store it."""
    sub = await service.create(session, ctx, body, runtime.settings.webhooks)
    return _with_secret(sub)


@router.get("", response_model=SubscriptionList)
async def list_webhooks(session: SessionDep, _ctx: CurrentAdmin) -> SubscriptionList:
    """Every subscriber (secrets are never shown again)."""
    rows = await session.execute(
        sa.select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    )
    return SubscriptionList(items=[service.public(s) for s in rows.scalars()])


@router.get("/{webhook_id}", response_model=SubscriptionPublic)
async def get_webhook(
    webhook_id: WebhookId, session: SessionDep, _ctx: CurrentAdmin
) -> SubscriptionPublic:
    """One subscriber (without its secret)."""
    return service.public(await service.get(session, webhook_id))


@router.patch("/{webhook_id}", response_model=SubscriptionPublic)
async def update_webhook(
    webhook_id: WebhookId,
    body: SubscriptionUpdate,
    session: SessionDep,
    ctx: CurrentAdmin,
    runtime: RuntimeDep,
) -> SubscriptionPublic:
    """Change the URL, event types, notes or the active flag (inactive: nothing new is
    queued for it, and what is queued fails instead of being sent)."""
    sub = await service.get(session, webhook_id)
    await service.update(session, ctx, sub, body, runtime.settings.webhooks)
    return service.public(sub)


@router.post("/{webhook_id}/rotate-secret", response_model=SubscriptionWithSecret)
async def rotate_webhook_secret(
    webhook_id: WebhookId, session: SessionDep, ctx: CurrentAdmin, runtime: RuntimeDep
) -> SubscriptionWithSecret:
    """A new secret, shown once; the old one keeps signing during the grace period."""
    sub = await service.get(session, webhook_id)
    await service.rotate_secret(session, ctx, sub, runtime.settings.webhooks)
    return _with_secret(sub)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList)
async def list_deliveries(
    webhook_id: WebhookId,
    session: SessionDep,
    _ctx: CurrentAdmin,
    status: Literal["pending", "sent", "failed", "dead"] | None = None,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$"),
) -> DeliveryList:
    """The subscriber's deliveries, newest first; `status=dead` lists what gave up."""
    sub = await service.get(session, webhook_id)
    rows = await repo.deliveries_of(
        session,
        sub.id,  # type: ignore[arg-type]
        status=status,
        before_id=int(cursor) if cursor else None,
        limit=limit,
    )
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return DeliveryList(items=[service.delivery_public(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryPublic,
)
async def redeliver(
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
    session: SessionDep,
    ctx: CurrentAdmin,
    runtime: RuntimeDep,
) -> DeliveryPublic:
    """Send a delivery again (same X-Parley-Delivery id and body, a fresh signature)."""
    sub = await service.get(session, webhook_id)
    row = await service.redeliver(session, ctx, sub, delivery_id, runtime.notifier)
    return service.delivery_public(row)
