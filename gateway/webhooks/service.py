"""Admins' use cases: register, change, rotate and redeliver. Functions flush only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit, notify
from gateway.agents.context import AgentContext
from gateway.db import utcnow
from gateway.errors import InvalidRequest, NotFound
from gateway.notify import Notifier
from gateway.settings import WebhooksSettings
from gateway.tickets.models import ActorType, ticket_ref
from gateway.webhooks import repository as repo
from gateway.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from gateway.webhooks.schemas import (
    DeliveryPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from gateway.webhooks.signing import new_secret
from gateway.webhooks.ssrf import Resolver, UnsafeTarget, check_url, system_resolver


async def _checked_url(url: str, settings: WebhooksSettings, resolver: Resolver) -> str:
    try:
        await check_url(url, allow_private=settings.allow_private, resolver=resolver)
    except UnsafeTarget as exc:
        raise InvalidRequest(f"url: {exc}") from None
    return url


def _audit(session: AsyncSession, ctx: AgentContext, action: str, **data: Any) -> None:
    audit.record(
        session, action, ticket_id=None, actor_type=ActorType.agent, actor_agent_id=ctx.id, **data
    )


async def create(
    session: AsyncSession,
    ctx: AgentContext,
    body: SubscriptionCreate,
    settings: WebhooksSettings,
    resolver: Resolver = system_resolver,
) -> WebhookSubscription:
    sub = WebhookSubscription(
        url=await _checked_url(body.url, settings, resolver),
        event_types=[str(e) for e in body.event_types],
        include_notes=body.include_notes,
        active=body.active,
        description=body.description,
        secret=new_secret(),
        created_by=ctx.id,
    )
    session.add(sub)
    await session.flush()
    _audit(session, ctx, "webhook.created", webhook_id=sub.id, url=sub.url)
    return sub


async def get(session: AsyncSession, subscription_id: int) -> WebhookSubscription:
    sub = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if sub is None:
        raise NotFound(f"no webhook {subscription_id}")
    return sub


async def update(
    session: AsyncSession,
    ctx: AgentContext,
    sub: WebhookSubscription,
    body: SubscriptionUpdate,
    settings: WebhooksSettings,
    resolver: Resolver = system_resolver,
) -> None:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        sub.url = await _checked_url(changes["url"], settings, resolver)
    if changes.get("event_types") is not None:
        sub.event_types = [str(e) for e in changes["event_types"]]
    for name in ("include_notes", "active"):
        if changes.get(name) is not None:
            setattr(sub, name, changes[name])
    if "description" in changes:
        sub.description = changes["description"]
    sub.updated_at = utcnow()
    _audit(session, ctx, "webhook.updated", webhook_id=sub.id, fields=sorted(changes))
    await session.flush()


async def rotate_secret(
    session: AsyncSession, ctx: AgentContext, sub: WebhookSubscription, settings: WebhooksSettings
) -> None:
    """A new secret signs from now on; the old one signs too for the grace period, so
    receivers can switch without missing a delivery. A rotation during a rotation drops
    the oldest secret."""
    now = utcnow()
    sub.previous_secret = sub.secret
    sub.previous_secret_expires_at = now + timedelta(seconds=settings.rotation_grace_seconds)
    sub.secret = new_secret()
    sub.updated_at = now
    _audit(session, ctx, "webhook.secret_rotated", webhook_id=sub.id)
    await session.flush()


async def redeliver(
    session: AsyncSession,
    ctx: AgentContext,
    sub: WebhookSubscription,
    delivery_id: str,
    notifier: Notifier,
) -> WebhookDelivery:
    """Send a delivery again, with the same delivery id and body, and a fresh set of
    attempts. A delivery still pending is left alone (it is on its way)."""
    row = await repo.delivery_by_public_id(session, sub.id, delivery_id)  # type: ignore[arg-type]
    if row is None:
        raise NotFound(f"no delivery {delivery_id} for webhook {sub.id}")
    if row.status == DeliveryStatus.pending:
        return row
    now = utcnow()
    row.status = DeliveryStatus.pending
    row.attempts = 0
    row.next_attempt_at = now
    row.lease_until = None
    row.leased_by = None
    row.redelivered_at = now
    _audit(
        session,
        ctx,
        "webhook.redelivered",
        webhook_id=sub.id,
        delivery_id=row.delivery_id,
        event_type=row.event_type,
    )
    await session.flush()
    await notifier.publish(session, notify.OUTBOX, f"webhook:{row.delivery_id}")
    return row


def public(sub: WebhookSubscription) -> SubscriptionPublic:
    now = utcnow()
    expires = sub.previous_secret_expires_at
    rotating = bool(sub.previous_secret and expires and expires > now)
    return SubscriptionPublic(
        id=sub.id,  # type: ignore[arg-type]
        url=sub.url,
        event_types=sub.event_types,
        include_notes=sub.include_notes,
        active=sub.active,
        description=sub.description,
        rotating=rotating,
        previous_secret_expires_at=expires if rotating else None,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
    )


def delivery_public(row: WebhookDelivery) -> DeliveryPublic:
    return DeliveryPublic(
        delivery_id=row.delivery_id,
        event_id=row.event_id,
        event_type=row.event_type,
        ticket=ticket_ref(row.ticket_id) if row.ticket_id else None,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.pending else None,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        sent_at=row.sent_at,
        redelivered_at=row.redelivered_at,
        created_at=row.created_at,
    )
