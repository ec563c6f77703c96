"""Managing canned replies and offering them on a ticket. Functions flush only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.canned import placeholders
from gateway.canned import repository as repo
from gateway.canned.models import CannedReply
from gateway.canned.schemas import CannedCreate, CannedPublic, CannedUpdate
from gateway.db import utcnow
from gateway.errors import Conflict, NotFound

FALLBACK = "en"


def public(reply: CannedReply) -> CannedPublic:
    return CannedPublic.model_validate(reply, from_attributes=True)


async def create(session: AsyncSession, body: CannedCreate) -> CannedReply:
    name = body.name.strip()
    if await repo.by_name(session, name) is not None:
        raise Conflict(f"a canned reply named {name!r} exists already")
    reply = CannedReply(name=name, category=body.category, bodies=dict(body.bodies))
    session.add(reply)
    await session.flush()
    return reply


async def get(session: AsyncSession, reply_id: int) -> CannedReply:
    reply = await session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound(f"no canned reply {reply_id}")
    return reply


async def update(session: AsyncSession, reply_id: int, body: CannedUpdate) -> CannedReply:
    reply = await get(session, reply_id)
    if body.name is not None and body.name.strip() != reply.name:
        if await repo.by_name(session, body.name.strip()) is not None:
            raise Conflict(f"a canned reply named {body.name.strip()!r} exists already")
        reply.name = body.name.strip()
    reply.category = body.category
    reply.bodies = dict(body.bodies)
    reply.updated_at = utcnow()
    await session.flush()
    return reply


async def delete(session: AsyncSession, reply_id: int) -> None:
    await session.delete(await get(session, reply_id))
    await session.flush()


async def upsert(session: AsyncSession, body: CannedCreate) -> bool:
    """Create or replace the reply of this name (the starter set's loader); True if new."""
    existing = await repo.by_name(session, body.name.strip())
    if existing is None:
        await create(session, body)
        return True
    existing.category = body.category
    existing.bodies = dict(body.bodies)
    existing.updated_at = utcnow()
    await session.flush()
    return False


@dataclass(frozen=True)
class Offer:
    """One canned reply as the ticket page offers it: filled, in the best language."""

    id: int
    name: str
    language: str
    text: str
    fallback: bool  # True: no body in the customer's language, this is English


@dataclass(frozen=True)
class TicketFacts:
    category: str
    language: str | None
    customer_name: str | None
    order_ref: str | None
    amount: Decimal | None
    currency: str | None
    deadline: datetime | None


async def offers(session: AsyncSession, facts: TicketFacts, agent_name: str) -> list[Offer]:
    """The category's replies (then the general ones), in the customer's language when
    written, else English; placeholders filled from the ticket and the agent."""
    amount = None
    if facts.amount is not None:
        amount = f"{facts.amount.normalize():f} {facts.currency or ''}".strip()
    values = {
        "customer_name": facts.customer_name,
        "order_ref": facts.order_ref,
        "amount": amount,
        "agent_name": agent_name,
        "deadline": facts.deadline.strftime("%Y-%m-%d %H:%M UTC") if facts.deadline else None,
    }
    wanted = (facts.language or FALLBACK).split("-")[0]
    out = []
    for reply in await repo.for_category(session, facts.category):
        lang = wanted if wanted in reply.bodies else FALLBACK
        body = reply.bodies.get(lang) or next(iter(reply.bodies.values()))
        out.append(
            Offer(
                id=reply.id,  # type: ignore[arg-type]
                name=reply.name,
                language=lang,
                text=placeholders.fill(body, values),
                fallback=lang != wanted,
            )
        )
    # The customer's language first, English fallbacks after.
    return sorted(out, key=lambda o: o.fallback)
