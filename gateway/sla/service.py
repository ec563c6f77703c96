"""Keeping a ticket's SLA current: recompute its clocks from history, store the metric
events that happened, act on the ones that need it (warn, escalate), and set the
ticket's due times, state and next check. Functions flush; the caller commits.

The same `refresh` runs inside every change to a ticket (intake, replies, status) and
in the SLA worker: whoever first records an event acts on it, in the same transaction,
and the event's unique key makes sure nobody does again. The webhooks go with the
action: `sla.warning` for each warning and `sla.breached` for each breach recorded here
(a breach found late, after the reply came, still is one), in the same transaction, so
a subscriber hears of each event exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.notify import Notifier
from gateway.sla import escalation
from gateway.sla import repository as repo
from gateway.sla.clocks import Clock, History, State, compute, evidence_clocks, overall_state
from gateway.sla.metrics import sla_events
from gateway.sla.models import SlaEvent
from gateway.sla.policy import SlaConfig
from gateway.tickets.models import SEVERITY_RANK, ActorType, Severity, Ticket
from gateway.webhooks import events as webhook_events
from gateway.webhooks.models import EventType

log = structlog.get_logger()

OPEN = frozenset({"new", "open", "pending_customer", "escalated"})


@dataclass(frozen=True, slots=True)
class Refreshed:
    clocks: list[Clock]
    recorded: list[SlaEvent]


def event_key(ticket_id: int, target: str, cycle: int, kind: str, at: datetime) -> str:
    """What happened, not who saw it: a breach or warning happens once per target and
    cycle; becoming active, paused or fulfilled can recur (a reopen), so its time is part
    of the key."""
    base = f"{ticket_id}:{target}:{cycle}:{kind}"
    if kind in (State.breached, "warned"):
        return base
    return f"{base}:{at.isoformat()}"


async def refresh(
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    *,
    config: SlaConfig | None = None,
    notifier: Notifier | None = None,
    opened_by: datetime | None = None,
    flush: bool = True,
    along: Sequence[sa.ColumnElement[Any]] = (),
) -> Refreshed:
    """Bring the ticket's SLA up to `now`. Flushes (`flush=False`: leaves what it set
    and recorded to the caller's next flush, unless a breach or warning acted on it).

    `opened_by`: the ticket was created in this transaction by one customer message
    received at this time, so its history is that message alone and no SLA event,
    status change or evidence request can be stored for it yet: nothing is read.
    `along`: columns the history read evaluates too (`history_and_events`)."""
    assert ticket.id is not None
    config = config or await repo.load_config(session)
    queue = await repo.queue_name(session, ticket.queue_id)
    policy = config.policy_for(
        severity=ticket.severity, category=ticket.category, queue=queue, channel=ticket.channel
    )
    old = (ticket.first_response_due, ticket.next_response_due, ticket.resolution_due)
    old_policy = ticket.sla_policy
    if opened_by is not None:
        if along:
            raise ValueError("a ticket opened by this transaction has no history to read")
        history = History(ticket.created_at, customer_messages=[opened_by])
        stored: list[SlaEvent] = []
    else:
        history, stored = await repo.history_and_events(session, ticket, along=along)
    keys = {e.key for e in stored}
    recorded: list[SlaEvent] = []
    if policy is not None:
        clocks = compute(
            history,
            policy.targets,
            config.calendar_for(queue),
            now=now,
            warn_share=config.warn_at,
            pause_statuses=config.pause_statuses,
        )
    else:
        clocks = evidence_clocks(history, now=now)
    policy_name = policy.name if policy else None
    breached_before = {(e.target, e.cycle): e.at for e in stored if e.kind == State.breached}
    for clock in clocks:
        _keep_recorded_breach(clock, breached_before)
        for kind, at in clock.events:
            key = event_key(ticket.id, clock.target, clock.cycle, kind, at)
            if key not in keys:
                keys.add(key)
                recorded.append(_event(ticket, clock, kind, at, key, policy_name))
        if (
            _warn_due(clock, now)
            and event_key(ticket.id, clock.target, clock.cycle, "warned", now) not in keys
        ):
            key = event_key(ticket.id, clock.target, clock.cycle, "warned", now)
            keys.add(key)
            at = clock.warn_at or now
            recorded.append(_event(ticket, clock, "warned", at, key, policy_name))
    for event in recorded:
        session.add(event)
        sla_events.labels(event.target, event.kind).inc()
    _apply(ticket, clocks, now, policy_name)
    if any(e.kind in (State.breached, "warned") for e in recorded):
        # Acted on below (webhooks, escalation) with their rows written; the rest go
        # out with the refresh's last flush, the ticket's UPDATE in one statement.
        await session.flush()
    for event in recorded:
        clock = next(c for c in clocks if (c.target, c.cycle) == (event.target, event.cycle))
        if event.kind == State.breached:
            # None: an evidence breach the rules name no level for, recorded and told,
            # not escalated.
            level = _breach_level(config, event.target)
            await webhook_events.emit(
                session, EventType.sla_breached, ticket=ticket, notifier=notifier,
                data=_event_data(event, level=level, breached_at=_stamp(event.at)),
            )  # fmt: skip
        if event.kind == State.breached and clock.fulfilled_at is None and level is not None:
            await escalation.escalate(
                session, ticket, level, config, now,
                cause=f"breach:{event.target}#{event.cycle}", reason=f"{event.target} breached",
                notifier=notifier,
            )  # fmt: skip
        elif event.kind == "warned":
            await escalation.warn(session, ticket, clock, config, now, notifier)
            await webhook_events.emit(
                session, EventType.sla_warning, ticket=ticket, notifier=notifier,
                data=_event_data(event, warned_at=_stamp(event.at)),
            )  # fmt: skip
    await escalation.follow_up(session, ticket, clocks, config, now, notifier)
    ticket.sla_check_at = await _next_check(session, ticket, clocks, keys, config, now)
    if old_policy is not None and policy is not None and old_policy != policy.name:
        audit.record(
            session,
            "sla.recomputed",
            ticket_id=ticket.id,
            old_policy=old_policy,
            new_policy=policy.name,
            severity=ticket.severity,
            old_due=[_iso(d) for d in old],
            new_due=[
                _iso(d)
                for d in (
                    ticket.first_response_due,
                    ticket.next_response_due,
                    ticket.resolution_due,
                )
            ],
        )
    if flush:
        await session.flush()
    return Refreshed(clocks, recorded)


async def change_severity(
    session: AsyncSession,
    ticket: Ticket,
    severity: Severity,
    now: datetime,
    *,
    actor_agent_id: int | None = None,
    notifier: Notifier | None = None,
) -> None:
    """Set a ticket's severity and recompute its SLA from history under the new policy
    (with a `ticket.severity_changed` and, when the policy changes, an `sla.recomputed`
    audit event). For triage corrections and supervisors. Flushes."""
    old = ticket.severity
    if old == severity:
        return
    ticket.severity = severity
    ticket.severity_rank = SEVERITY_RANK[severity]
    audit.record(
        session,
        "ticket.severity_changed",
        ticket_id=ticket.id,
        actor_type=ActorType.agent if actor_agent_id else ActorType.system,
        actor_agent_id=actor_agent_id,
        old=old,
        new=severity,
    )
    await refresh(session, ticket, now, notifier=notifier)


def _breach_level(config: SlaConfig, target: str) -> int | None:
    """The escalation level a breach of `target` reaches. A policy target without a
    level of its own escalates to level 2 as it always did; an evidence request's breach
    escalates only where the rules file names a level for it (`on_breach = { evidence =
    N }`): a party missing the deadline is a fact for the case's agent, who sees it on the
    case and in the ticket's SLA, not by default an emergency for the line manager."""
    if target == "evidence":
        return config.escalation.on_breach.get(target)
    return config.escalation.on_breach.get(target, 2)


def _keep_recorded_breach(clock: Clock, breached: dict[tuple[str, int], datetime]) -> None:
    """A breach on record stands even if a later recompute (a lowered severity) would
    not have breached: it was real under the policy in force then."""
    at = breached.get((clock.target, clock.cycle))
    if at is not None and clock.breached_at is None:
        clock.breached_at = at
        clock.state = State.breached


def _warn_due(clock: Clock, now: datetime) -> bool:
    """Warn while the clock runs, past its warning share and before the breach (a late
    warning after the breach is noise: the breach itself is acted on)."""
    return (
        clock.state == State.active
        and clock.warn_at is not None
        and clock.due_at is not None
        and clock.warn_at <= now < clock.due_at
    )


def _event(
    ticket: Ticket, clock: Clock, kind: str, at: datetime, key: str, policy: str | None
) -> SlaEvent:
    return SlaEvent(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        target=clock.target,
        cycle=clock.cycle,
        kind=kind,
        at=at,
        due_at=clock.due_at,
        policy=policy,
        key=key,
    )


def _apply(ticket: Ticket, clocks: list[Clock], now: datetime, policy: str | None) -> None:
    first = next((c for c in clocks if c.target == "first_response"), None)
    resolution = next((c for c in clocks if c.target == "resolution"), None)
    replies = [c for c in clocks if c.target == "next_response" and c.fulfilled_at is None]
    ticket.first_response_due = first.due_at if first else None
    ticket.next_response_due = replies[-1].due_at if replies else None
    ticket.resolution_due = resolution.due_at if resolution else None
    ticket.sla_state = overall_state(clocks, now)
    ticket.sla_policy = policy


async def _next_check(
    session: AsyncSession,
    ticket: Ticket,
    clocks: list[Clock],
    keys: set[str],
    config: SlaConfig,
    now: datetime,
) -> datetime | None:
    """The next moment anything can happen to this ticket's SLA without a change to it."""
    assert ticket.id is not None
    moments: list[datetime] = []
    for clock in clocks:
        if clock.fulfilled_at is not None or clock.state == State.paused:
            continue
        if clock.breached_at is None and clock.due_at is not None:
            moments.append(clock.due_at)
            warned = event_key(ticket.id, clock.target, clock.cycle, "warned", now)
            if clock.warn_at and clock.warn_at > now and warned not in keys:
                moments.append(clock.warn_at)
    if ticket.status in OPEN:
        follow = await escalation.next_follow_up(session, ticket, clocks, config, now)
        if follow is not None:
            moments.append(follow)
    return min(moments) if moments else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _stamp(moment: datetime | None) -> str | None:
    """A UTC moment the way webhook payloads write them (`...Z`, like `created_at`)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _event_data(event: SlaEvent, **extra: object) -> dict[str, object]:
    """The fields of an sla.* webhook: which target (and cycle: each customer message
    starts a next_response cycle), its due time, the policy, and the event's own."""
    return {
        "target": event.target,
        "cycle": event.cycle,
        "due_at": _stamp(event.due_at),
        "policy": event.policy,
        **extra,
    }


@dataclass(frozen=True, slots=True)
class SlaView:
    policy: str | None
    calendar: str
    state: str
    clocks: list[Clock]
    events: list[SlaEvent]


async def view(session: AsyncSession, ticket: Ticket, now: datetime) -> SlaView:
    """The ticket's clocks as of `now` and its recorded events, without writing."""
    assert ticket.id is not None
    config = await repo.load_config(session)
    queue = await repo.queue_name(session, ticket.queue_id)
    policy = config.policy_for(
        severity=ticket.severity, category=ticket.category, queue=queue, channel=ticket.channel
    )
    history, stored = await repo.history_and_events(session, ticket)
    calendar = config.calendar_for(queue)
    if policy is not None:
        clocks = compute(
            history,
            policy.targets,
            calendar,
            now=now,
            warn_share=config.warn_at,
            pause_statuses=config.pause_statuses,
        )
    else:
        clocks = evidence_clocks(history, now=now)
    breached = {(e.target, e.cycle): e.at for e in stored if e.kind == State.breached}
    for clock in clocks:
        _keep_recorded_breach(clock, breached)
    return SlaView(
        policy.name if policy else None, calendar.name, overall_state(clocks, now), clocks, stored
    )
