"""Shifts: who is on duty. Claims and notices go only to agents on shift; at shift end
an agent's untouched tickets go back to their queue, or all their open tickets go to a
named colleague. Functions flush; the caller commits.

On shift is set by the agent, by a supervisor, or by the weekly rota of the rules file;
a manual change holds until the rota's next boundary for that agent. An agent with no
shift record is on shift, so a desk that never set up shifts works as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit, notify
from gateway.agents.models import Agent
from gateway.errors import Conflict, NotFound
from gateway.notify import Notifier
from gateway.sla import repository as repo
from gateway.sla.calendar import BusinessCalendar
from gateway.sla.models import AgentShift
from gateway.sla.policy import SlaConfig
from gateway.tickets.models import ActorType, Ticket

log = structlog.get_logger()

HELD = ("new", "open", "pending_customer", "escalated")


class OffShift(Conflict):
    """The agent is off shift: no claims until they (or a supervisor, or the rota) put
    them back on."""


@dataclass
class ShiftChange:
    agent: str
    on_shift: bool
    returned: list[str] = field(default_factory=list)
    handed_over: list[str] = field(default_factory=list)


async def is_on_shift(session: AsyncSession, agent_id: int) -> bool:
    value = (
        await session.execute(
            sa.select(col(AgentShift.on_shift)).where(col(AgentShift.agent_id) == agent_id)
        )
    ).scalar_one_or_none()
    return value is None or bool(value)


async def set_shift(
    session: AsyncSession,
    agent: Agent,
    on_shift: bool,
    now: datetime,
    *,
    by: str,
    actor_agent_id: int | None = None,
    hand_to: str | None = None,
    notifier: Notifier | None = None,
) -> ShiftChange:
    """Put an agent on or off shift (`by`: agent, supervisor or rota). Going off hands
    the agent's tickets on (see the module). Flushes."""
    assert agent.id is not None
    colleague = None
    if hand_to is not None:
        if on_shift:
            raise Conflict("hand_to is for going off shift")
        named = await repo.agents_named(session, [hand_to])
        colleague = named[0] if named else None
        if colleague is None or colleague.id == agent.id:
            raise NotFound(f"no other active agent named {hand_to!r}")
        if not await is_on_shift(session, colleague.id):  # type: ignore[arg-type]
            raise Conflict(f"{hand_to} is off shift; hand the tickets to someone on shift")
    shift = await repo.shift_for_update(session, agent.id)
    change = ShiftChange(agent.name, on_shift)
    was = shift.on_shift
    shift.on_shift, shift.set_by, shift.changed_at = on_shift, by, now
    if was != on_shift:
        audit.record(
            session,
            "agent.shift_changed",
            ticket_id=None,
            actor_type=ActorType.agent if actor_agent_id else ActorType.system,
            actor_agent_id=actor_agent_id,
            agent=agent.name,
            on_shift=on_shift,
            by=by,
        )
    if not on_shift:
        await _hand_on(session, agent, colleague, now, change, notifier)
    await session.flush()
    log.info("sla.shift_changed", agent=agent.name, on_shift=on_shift, by=by)
    return change


async def _hand_on(
    session: AsyncSession,
    agent: Agent,
    colleague: Agent | None,
    now: datetime,
    change: ShiftChange,
    notifier: Notifier | None,
) -> None:
    held = sa.and_(col(Ticket.assignee_id) == agent.id, col(Ticket.status).in_(HELD))
    untouched = sa.or_(
        col(Ticket.agent_touched_at).is_(None),
        col(Ticket.agent_touched_at) <= col(Ticket.assigned_at),
    )
    wanted = held if colleague is not None else sa.and_(held, untouched)
    tickets = list(
        (
            await session.execute(
                sa.select(Ticket).where(wanted).order_by(col(Ticket.id)).with_for_update()
            )
        ).scalars()
    )
    for ticket in tickets:
        data: dict[str, Any]
        if colleague is not None:
            ticket.assignee_id, ticket.assigned_at = colleague.id, now
            ticket.agent_touched_at = now
            change.handed_over.append(ticket.ref)
            action, data = "ticket.handed_over", {"to": colleague.name}
        else:
            ticket.assignee_id = None
            change.returned.append(ticket.ref)
            action, data = "ticket.returned_at_shift_end", {}
            if notifier is not None:
                await notifier.publish(session, notify.TICKETS, str(ticket.queue_id))
        ticket.updated_at = now
        audit.record(session, action, ticket_id=ticket.id, previous_assignee=agent.id, **data)


def rota_says(config: SlaConfig, agent: str, now: datetime) -> tuple[bool, str | None] | None:
    """(on shift?, colleague to hand to) by the rota at `now`; None when the agent has no
    rota entry."""
    entries = [e for e in config.rota if e.agent == agent]
    if not entries:
        return None
    for entry in entries:
        if _open(entry.calendar, now):
            return True, entry.hand_to
    return False, next((e.hand_to for e in entries if e.hand_to), None)


def _open(calendar: BusinessCalendar, now: datetime) -> bool:
    first = next(calendar.open_spans(now), None)
    return first is not None and first[0] == now


async def apply_rota(
    session: AsyncSession, config: SlaConfig, now: datetime, notifier: Notifier | None = None
) -> list[ShiftChange]:
    """Move rota agents on or off shift at their rota's boundaries (a manual change in
    between holds until the next boundary). Flushes."""
    changes = []
    names = sorted({e.agent for e in config.rota})
    for agent in await repo.agents_named(session, names):
        says = rota_says(config, agent.name, now)
        if says is None:
            continue
        on, hand_to = says
        shift = await repo.shift_for_update(session, agent.id)  # type: ignore[arg-type]
        if shift.rota_on_shift == on:
            continue
        shift.rota_on_shift = on
        if shift.on_shift == on:
            await session.flush()
            continue
        try:
            changes.append(
                await set_shift(
                    session, agent, on, now, by="rota", hand_to=hand_to, notifier=notifier
                )
            )
        except (Conflict, NotFound):  # the colleague is away too: back to the queue
            changes.append(await set_shift(session, agent, on, now, by="rota", notifier=notifier))
    return changes
