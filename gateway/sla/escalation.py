"""The escalation matrix: who is responsible at each level, moving a ticket up (on a
breach, an agent's request, a rule, or time spent at a level), telling the people at
that level, and a supervisor's step back down. Functions flush; the caller commits.

Level 1 is the ticket's assignee (or, unassigned, its queue's agents on shift); level 2
the queue's line manager; level 3 and up the agents and roles the rules file names.
A level with a `queue` takes the ticket there, unassigned; without one the ticket stays
where it is and the level's people watch it. Every step is an audit event and an
`escalated` SLA event whose unique key (level and cause) makes it happen once, and a
`ticket.escalated` webhook in the same transaction (an agent's own escalate emits its
webhook in the tickets service, so `record_manual` does not).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.agents.models import Agent
from gateway.notify import Notifier
from gateway.outbox.service import enqueue
from gateway.queues.models import QueueMembership
from gateway.sla import repository as repo
from gateway.sla.clocks import Clock, State
from gateway.sla.metrics import escalations, notifications
from gateway.sla.models import SlaEvent
from gateway.sla.policy import Level, SlaConfig
from gateway.tickets.models import ActorType, Ticket
from gateway.webhooks import events as webhook_events
from gateway.webhooks.models import EventType

log = structlog.get_logger()

CLAIMABLE = frozenset({"new", "open", "escalated"})
OPEN = frozenset({"new", "open", "pending_customer", "escalated"})


async def escalate(
    session: AsyncSession,
    ticket: Ticket,
    level: int,
    config: SlaConfig,
    now: datetime,
    *,
    cause: str,
    reason: str,
    actor_agent_id: int | None = None,
    notifier: Notifier | None = None,
) -> bool:
    """Raise the ticket to `level` for `cause` (once per level and cause); whether it
    moved. A ticket already at or above the level stays where it is."""
    assert ticket.id is not None
    key = f"{ticket.id}:escalation:{level}:{cause}"
    if (
        ticket.escalation_level >= level
        or ticket.status not in OPEN
        or await _recorded(session, key)
    ):
        return False
    spec = config.escalation.level(level)
    queue = await repo.queue_name(session, ticket.queue_id)
    people = await _people(session, ticket, level, spec, config, queue)
    old_status, from_queue = ticket.status, ticket.queue_id
    before = webhook_events.snapshot(ticket)
    ticket.escalation_level = level
    if ticket.status in ("new", "open"):
        ticket.status = "escalated"
    target = await repo.queue_by_name(session, spec.queue) if spec.queue else None
    if target is not None and target.id != ticket.queue_id:
        ticket.queue_id = target.id  # type: ignore[assignment]
        ticket.assignee_id = None
    else:
        await repo.add_watchers(session, ticket.id, [a.id for a in people if a.id], level)
    ticket.updated_at = now
    text = (
        f"{ticket.ref} escalated to level {level}: {reason}. Severity {ticket.severity}, "
        f"queue {queue}, SLA {ticket.sla_state}."
    )
    notified = await _notify(session, ticket, people, spec, text, notifier)
    session.add(
        SlaEvent(
            ticket_id=ticket.id,
            target="escalation",
            cycle=level,
            kind="escalated",
            at=now,
            key=key,
            data={"cause": cause, "reason": reason, "notified": notified},
        )
    )
    audit.record(
        session,
        "ticket.escalated",
        ticket_id=ticket.id,
        actor_type=ActorType.agent if actor_agent_id else ActorType.system,
        actor_agent_id=actor_agent_id,
        level=level,
        cause=cause,
        reason=reason,
        from_queue=from_queue,
        to_queue=ticket.queue_id,
        old=old_status if old_status != ticket.status else None,
        notified=notified,
    )
    escalations.labels(str(level), cause.split(":", 1)[0]).inc()
    log.info("sla.escalated", ticket=ticket.ref, level=level, cause=cause, notified=notified)
    await session.flush()
    await webhook_events.emit(
        session,
        EventType.ticket_escalated,
        ticket=ticket,
        data={
            "reason": reason,
            "level": level,
            "from_queue": queue,
            "to_queue": await repo.queue_name(session, ticket.queue_id),
            # What moved it: `breach:<target>#<cycle>`, `after:<level>:...`, `rule:<name>`.
            "trigger": cause,
            "by": "agent" if actor_agent_id else "matrix",
        },
        notifier=notifier,
    )
    # Like an agent's escalate: ticket.updated subscribers see the status and queue move.
    await webhook_events.emit_ticket_updated(session, ticket, before, notifier=notifier)
    return True


async def record_manual(
    session: AsyncSession,
    ticket: Ticket,
    reason: str,
    config: SlaConfig,
    now: datetime,
    *,
    actor_agent_id: int,
    notifier: Notifier | None = None,
) -> list[str]:
    """After an agent's `escalate` (which moved the ticket one level up its queue chain):
    record the step and tell the people at the new level. Flushes."""
    assert ticket.id is not None
    level = ticket.escalation_level
    spec = config.escalation.level(level)
    queue = await repo.queue_name(session, ticket.queue_id)
    people = await _people(session, ticket, level, spec, config, queue)
    await repo.add_watchers(session, ticket.id, [a.id for a in people if a.id], level)
    text = f"{ticket.ref} escalated to level {level} by an agent: {reason}"
    notified = await _notify(session, ticket, people, spec, text, notifier)
    session.add(
        SlaEvent(
            ticket_id=ticket.id,
            target="escalation",
            cycle=level,
            kind="escalated",
            at=now,
            key=f"{ticket.id}:escalation:{level}:agent:{now.isoformat()}",
            data={"cause": "agent", "reason": reason, "notified": notified, "by": actor_agent_id},
        )
    )
    escalations.labels(str(level), "agent").inc()
    await session.flush()
    return notified


async def deescalate(
    session: AsyncSession,
    ticket: Ticket,
    level: int,
    reason: str,
    now: datetime,
    *,
    actor_agent_id: int,
) -> None:
    """A supervisor steps the ticket down to `level` (0 = no escalation). Flushes."""
    assert ticket.id is not None
    old = ticket.escalation_level
    ticket.escalation_level = level
    status = "open" if ticket.status == "escalated" and level == 0 else None
    if status:
        ticket.status = status
    ticket.updated_at = now
    session.add(
        SlaEvent(
            ticket_id=ticket.id,
            target="escalation",
            cycle=level,
            kind="deescalated",
            at=now,
            key=f"{ticket.id}:escalation:{level}:down:{now.isoformat()}",
            data={"from": old, "reason": reason, "by": actor_agent_id},
        )
    )
    audit.record(
        session,
        "ticket.deescalated",
        ticket_id=ticket.id,
        actor_type=ActorType.agent,
        actor_agent_id=actor_agent_id,
        old_level=old,
        level=level,
        reason=reason,
        status=status,
    )
    await session.flush()


async def warn(
    session: AsyncSession,
    ticket: Ticket,
    clock: Clock,
    config: SlaConfig,
    now: datetime,
    notifier: Notifier | None = None,
) -> list[str]:
    """Tell level 1 (the assignee, or the queue's agents on shift) that a target is close."""
    people = await _level_one(session, ticket)
    left = int((clock.due_at - now).total_seconds() // 60) if clock.due_at else 0
    text = (
        f"{ticket.ref}: {clock.target.replace('_', ' ')} due in {left} min "
        f"({clock.due_at.isoformat() if clock.due_at else '-'}), severity {ticket.severity}."
    )
    return await _notify(session, ticket, people, Level(1), text, notifier)


async def follow_up(
    session: AsyncSession,
    ticket: Ticket,
    clocks: list[Clock],
    config: SlaConfig,
    now: datetime,
    notifier: Notifier | None = None,
) -> None:
    """Escalations that come from time alone: the next level when a ticket stayed
    overdue at its level past the level's `after`, and rules (critical unclaimed)."""
    for level, cause, at in await _pending(session, ticket, clocks, config):
        if at <= now:
            reason = (
                f"still overdue after level {level - 1}'s time"
                if cause.startswith("after")
                else cause
            )
            await escalate(
                session, ticket, level, config, now, cause=cause, reason=reason, notifier=notifier
            )


async def next_follow_up(
    session: AsyncSession, ticket: Ticket, clocks: list[Clock], config: SlaConfig, now: datetime
) -> datetime | None:
    future = [
        at for _level, _cause, at in await _pending(session, ticket, clocks, config) if at > now
    ]
    return min(future) if future else None


async def _pending(
    session: AsyncSession, ticket: Ticket, clocks: list[Clock], config: SlaConfig
) -> list[tuple[int, str, datetime]]:
    """(level, cause, when) of the time-driven escalations this ticket is heading for."""
    if ticket.status not in OPEN:
        return []
    matrix = config.escalation
    pending: list[tuple[int, str, datetime]] = []
    overdue = any(c.state == State.breached and c.fulfilled_at is None for c in clocks)
    current = ticket.escalation_level
    if overdue and 2 <= current < matrix.top:
        after = matrix.level(current).after
        since = await _level_since(session, ticket)
        if after is not None and since is not None:
            pending.append((current + 1, f"after:{current}:{since.isoformat()}", since + after))
    if ticket.assignee_id is None and ticket.status in CLAIMABLE:
        queue = await repo.queue_name(session, ticket.queue_id)
        for rule in matrix.rules:
            if current >= rule.level:
                continue
            if rule.severity and ticket.severity not in rule.severity:
                continue
            if rule.queue and queue not in rule.queue:
                continue
            pending.append(
                (rule.level, f"rule:{rule.name}", ticket.created_at + rule.unclaimed_for)
            )
    return pending


async def _level_since(session: AsyncSession, ticket: Ticket) -> datetime | None:
    row = await session.execute(
        sa.select(col(SlaEvent.at))
        .where(
            col(SlaEvent.ticket_id) == ticket.id,
            col(SlaEvent.target) == "escalation",
            col(SlaEvent.kind).in_(("escalated", "deescalated")),
        )
        .order_by(col(SlaEvent.at).desc(), col(SlaEvent.id).desc())
        .limit(1)
    )
    return row.scalar_one_or_none()


async def _recorded(session: AsyncSession, key: str) -> bool:
    row = await session.execute(sa.select(col(SlaEvent.id)).where(col(SlaEvent.key) == key))
    return row.scalar_one_or_none() is not None


async def _people(
    session: AsyncSession, ticket: Ticket, level: int, spec: Level, config: SlaConfig, queue: str
) -> list[Agent]:
    names = list(spec.agents)
    if level == 2:
        manager = config.escalation.line_managers.get(queue) or config.escalation.line_managers.get(
            "*"
        )
        if manager:
            names.insert(0, manager)
    people = await repo.agents_named(session, names) + await repo.agents_with_roles(
        session, spec.roles
    )
    unique: dict[int, Agent] = {a.id: a for a in people if a.id is not None}
    return list(unique.values())


async def _level_one(session: AsyncSession, ticket: Ticket) -> list[Agent]:
    if ticket.assignee_id is not None:
        agent = await session.get(Agent, ticket.assignee_id)
        return [agent] if agent is not None and agent.active else []
    rows = await session.execute(
        sa.select(Agent)
        .join(QueueMembership, col(QueueMembership.agent_id) == col(Agent.id))
        .where(col(QueueMembership.queue_id) == ticket.queue_id, col(Agent.active).is_(True))
        .order_by(col(Agent.id))
    )
    return list(rows.scalars())


async def _notify(
    session: AsyncSession,
    ticket: Ticket,
    people: list[Agent],
    spec: Level,
    text: str,
    notifier: Notifier | None,
) -> list[str]:
    """Queue the notice for each person on shift who can be reached, and the level's
    on-call Telegram chat; what went where (`ana:email`, `chat:-100123:telegram`)."""
    assert ticket.id is not None
    shifts = await repo.shifts(session, [a.id for a in people if a.id is not None])
    sent: list[str] = []
    for agent in people:
        shift = shifts.get(agent.id)  # type: ignore[arg-type]
        if shift is not None and not shift.on_shift:
            continue  # off shift: nothing, by design
        if shift is None:
            continue  # on shift by default, but no way to reach them is on record
        address = shift.telegram_chat_id if shift.notify_via == "telegram" else shift.email
        if not address:
            continue
        await enqueue(
            session, ticket_id=ticket.id, channel=shift.notify_via, recipient=address,
            text=text, notifier=notifier, action="sla.notice_queued", to=agent.name,
        )  # fmt: skip
        notifications.labels(shift.notify_via).inc()
        sent.append(f"{agent.name}:{shift.notify_via}")
    if spec.telegram_chat:
        await enqueue(
            session, ticket_id=ticket.id, channel="telegram", recipient=spec.telegram_chat,
            text=text, notifier=notifier, action="sla.notice_queued", to="on-call chat",
        )  # fmt: skip
        notifications.labels("telegram").inc()
        sent.append(f"chat:{spec.telegram_chat}:telegram")
    return sent
