"""All SQL of the routing domain. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.db import lock_key
from gateway.queues import repository as queues_repo
from gateway.queues.models import DEFAULT_QUEUE, Queue
from gateway.routing.models import RoutingRule
from gateway.routing.rules import QueueSpec, Rule, RuleSet
from gateway.sla import repository as sla_repo
from gateway.system import repository as system
from gateway.tickets.models import Direction, Message, Ticket

# Bumped by every rules load: each process compares it per route call and re-reads the
# rules only when it changed (several processes share one database).
VERSION_KEY = "routing.rules_version"
DEFAULT_QUEUE_KEY = "routing.default_queue"
TRIAGE_QUEUE_KEY = "routing.triage_queue"


async def rules_version(session: AsyncSession) -> str | None:
    """Read once per transaction: routing and the SLA both check it on every ingest."""
    return await system.get_once(session, VERSION_KEY)


async def _set_state(session: AsyncSession, key: str, value: str) -> None:
    await system.put(session, key, value)


async def load_rule_set(session: AsyncSession) -> tuple[RuleSet, dict[str, int]]:
    """The stored queues and rules, and each queue's id by name."""
    queues = list((await session.execute(sa.select(Queue).order_by(col(Queue.id)))).scalars())
    names = {q.id: q.name for q in queues}
    rules = (
        await session.execute(
            sa.select(RoutingRule, col(Queue.name))
            .join(Queue, col(Queue.id) == col(RoutingRule.queue_id))
            .order_by(col(RoutingRule.position), col(RoutingRule.id))
        )
    ).all()
    state = await system.get_many(session, (DEFAULT_QUEUE_KEY, TRIAGE_QUEUE_KEY))
    default = state.get(DEFAULT_QUEUE_KEY) or DEFAULT_QUEUE
    rule_set = RuleSet(
        queues=tuple(
            QueueSpec(
                q.name,
                q.description,
                names.get(q.escalates_to_id) if q.escalates_to_id else None,
                q.requires_agent_language,
            )
            for q in queues
        ),
        rules=tuple(
            Rule(
                rule.name,
                queue_name,
                {k: tuple(v) for k, v in rule.conditions.items()},
                rule.enabled,
            )
            for rule, queue_name in rules
        ),
        default_queue=default,
        triage_queue=state.get(TRIAGE_QUEUE_KEY) or None,
        sla=await sla_repo.load_config(session),
    )
    return rule_set, {q.name: q.id for q in queues if q.id is not None}


async def replace_rule_set(session: AsyncSession, rule_set: RuleSet) -> int:
    """Create or update the file's queues (none is deleted: tickets point at them), replace
    every routing rule, bump the version. Returns the new version. Flushes."""
    await lock_key(session, "routing.rules")
    by_name: dict[str, Queue] = {}
    for spec in rule_set.queues:
        queue = await queues_repo.ensure_queue(session, spec.name, spec.description)
        queue.description = spec.description
        queue.requires_agent_language = spec.requires_agent_language
        by_name[spec.name] = queue
    for spec in rule_set.queues:
        target = by_name[spec.escalates_to] if spec.escalates_to else None
        by_name[spec.name].escalates_to_id = target.id if target else None
    await session.execute(sa.delete(RoutingRule))
    for position, rule in enumerate(rule_set.rules):
        session.add(
            RoutingRule(
                position=position,
                name=rule.name,
                queue_id=by_name[rule.queue].id,  # type: ignore[arg-type]
                conditions={k: list(v) for k, v in rule.conditions.items()},
                enabled=rule.enabled,
            )
        )
    await session.flush()
    version = int(await rules_version(session) or 0) + 1
    await _set_state(session, VERSION_KEY, str(version))
    await _set_state(session, DEFAULT_QUEUE_KEY, rule_set.default_queue)
    await _set_state(session, TRIAGE_QUEUE_KEY, rule_set.triage_queue or "")
    await sla_repo.store_config(session, dict(rule_set.sla.document))
    audit.record(
        session,
        "routing.rules_loaded",
        ticket_id=None,
        version=version,
        queues=len(rule_set.queues),
        rules=len(rule_set.rules),
    )
    await session.flush()
    return version


async def earlier_ticket_count(session: AsyncSession, customer_id: int, ticket_id: int) -> int:
    """How many tickets the customer opened before this one."""
    result = await session.execute(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(col(Ticket.customer_id) == customer_id, col(Ticket.id) < ticket_id)
    )
    return int(result.scalar_one())


async def last_inbound_language(
    session: AsyncSession, customer_id: int, before_message_id: int
) -> str | None:
    """The language of the customer's latest earlier message that had one."""
    result = await session.execute(
        sa.select(col(Message.language))
        .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
        .where(
            col(Ticket.customer_id) == customer_id,
            col(Message.direction) == Direction.inbound,
            col(Message.id) < before_message_id,
            col(Message.language).is_not(None),
        )
        .order_by(col(Message.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()
