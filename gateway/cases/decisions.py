"""A dispute case's decision and its appeal: the case closes with a decision (and its
loss figures), each party hears it on their own ticket in their language, and within
the appeal window a party may reopen it. Functions flush only; every change is an
audit event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.agents.context import AgentContext
from gateway.cases import linking, service, templates
from gateway.cases import repository as repo
from gateway.cases.models import CaseDecision, CaseStatus, DecisionOutcome, DisputeCase, Party
from gateway.cases.service import Link
from gateway.errors import Conflict
from gateway.notify import Notifier
from gateway.orders import repository as orders_repo
from gateway.reports import service as losses
from gateway.reports.schemas import LossIn
from gateway.settings import CasesSettings
from gateway.tickets import service as tickets_service
from gateway.tickets.models import ActorType, Ticket, TicketStatus
from gateway.webhooks import events as webhook_events
from gateway.webhooks.models import EventType


async def decide(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    outcome: DecisionOutcome,
    reason: str,
    *,
    settings: CasesSettings,
    max_chars: int,
    notifier: Notifier,
    now: datetime,
    loss: LossIn | None = None,
    reporting_currency: str = "USD",
) -> tuple[CaseDecision, list[str]]:
    """Close the case with a decision; tell each party on their newest open ticket, in
    their language; resolve the case's tickets. Returns the tickets told (tickets of
    unknown party are not: say which side they are first). With `loss`, the case's
    loss figures are checked and converted first (a 4xx refuses the decision), then
    stored against it (`gateway.reports.service`).

    Webhooks get one `case.decided` per linked ticket (`_emit_decided`), before the
    decision's message and the resolve on that ticket, in the same transaction."""
    if not linking.is_open(case):
        raise Conflict(f"case {case.ref} is decided already; an appeal reopens it")
    reason = tickets_service.clean_text(reason, 10_000)
    links = await repo.active_links(session, case.id)  # type: ignore[arg-type]
    if not links:
        raise Conflict(f"case {case.ref} has no tickets")
    order = await orders_repo.by_ref(session, case.order_ref) if loss is not None else None
    prepared = (
        await losses.prepare(session, loss, order, reporting_currency=reporting_currency, now=now)
        if loss is not None
        else None
    )
    decision = CaseDecision(
        case_id=case.id,  # type: ignore[arg-type]
        outcome=outcome,
        reason=reason,
        decided_by=ctx.id,
        decided_at=now,
        appeal_until=now + timedelta(seconds=settings.appeal_window_seconds),
    )
    session.add(decision)
    await session.flush()
    case.status, case.decided_at, case.updated_at = CaseStatus.decided, now, now
    audit.record(
        session,
        "case.decided",
        ticket_id=None,
        case_id=case.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        decision_id=decision.id,
        outcome=outcome,
        reason=reason,
        appeal_until=decision.appeal_until.isoformat(),
    )
    if prepared is not None:
        await losses.store(
            session,
            ctx,
            case_id=case.id,  # type: ignore[arg-type]
            decision_id=decision.id,  # type: ignore[arg-type]
            prepared=prepared,
            order=order,
            first_ticket=min((t for _r, t in links), key=lambda t: t.id or 0),
            decided_at=now,
        )
    await _emit_decided(session, ctx, case, decision, links, notifier)
    told = []
    for row, ticket in _one_per_party(links):
        ticket = await session.get_one(
            Ticket, ticket.id, with_for_update=True, populate_existing=True
        )
        text = templates.decision(
            await service.party_language(session, ticket),
            order=case.order_ref,
            outcome=outcome,
            appeal_until=decision.appeal_until,
        )
        message = await tickets_service.reply(
            session, ctx, ticket, text, max_chars=max_chars, notifier=notifier
        )
        audit.record(
            session,
            "case.decision_sent",
            ticket_id=ticket.id,
            case_id=case.id,
            actor_type=ActorType.agent,
            actor_agent_id=ctx.id,
            decision_id=decision.id,
            party=row.party,
            message_id=message.id,
        )
        told.append(ticket.ref)
    for _row, ticket in links:
        if ticket.status not in (TicketStatus.resolved, TicketStatus.closed):
            await tickets_service.change_status(
                session, ctx, ticket, TicketStatus.resolved, notifier
            )
    return decision, told


async def _emit_decided(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    decision: CaseDecision,
    links: Sequence[Link],
    notifier: Notifier,
) -> None:
    """`case.decided` once per linked ticket rather than once per case: each event then
    carries that ticket's JSON and party and keeps the ticket's order (a case has no one
    ticket, and an event without one would race the ticket's own events). A receiver
    that wants one per case keys on `data.decision_id`; `data.tickets` lists them all."""
    ordered = sorted(links, key=lambda link: link[1].id or 0)
    refs = [ticket.ref for _row, ticket in ordered]
    for row, ticket in ordered:
        await webhook_events.emit(
            session,
            EventType.case_decided,
            ticket=ticket,
            data={
                "case": case.ref,
                "order_ref": case.order_ref,
                "decision_id": decision.id,
                "outcome": str(decision.outcome),
                "decided_by": ctx.agent.name,
                "decided_by_id": ctx.id,
                "decided_at": _stamp(decision.decided_at),
                "appeal_until": _stamp(decision.appeal_until),
                "party": str(row.party),
                "tickets": refs,
            },
            notifier=notifier,
        )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _one_per_party(links: Sequence[Link]) -> list[Link]:
    """The buyer's and the seller's newest ticket that is not closed. A ticket of unknown
    party is not told: whoever wrote it has not been shown to be either side, and a
    decision is no business of a third person naming someone else's order."""
    best: dict[str, Link] = {}
    for pair in links:
        row, ticket = pair
        if ticket.status == TicketStatus.closed or row.party == Party.unknown:
            continue
        if row.party not in best or (ticket.id or 0) > (best[row.party][1].id or 0):
            best[row.party] = pair
    return sorted(best.values(), key=lambda p: p[1].id or 0)


async def appeal(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    party: str,
    reason: str,
    *,
    notifier: Notifier,
    now: datetime,
) -> CaseDecision:
    """A party appeals the latest decision within its window: the case opens again,
    linked to that decision, and its resolved tickets go back to the queues."""
    decision = await repo.latest_decision(session, case.id)  # type: ignore[arg-type]
    if decision is None or case.status != CaseStatus.decided:
        raise Conflict(f"case {case.ref} has no decision to appeal")
    if now > decision.appeal_until:
        raise Conflict(f"the appeal window closed at {decision.appeal_until.isoformat()}")
    reason = tickets_service.clean_text(reason, 10_000)
    decision.appealed_at, decision.appealed_by_party = now, party
    decision.appeal_reason = reason
    case.status, case.updated_at = CaseStatus.appealed, now
    audit.record(
        session,
        "case.appealed",
        ticket_id=None,
        case_id=case.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        decision_id=decision.id,
        party=party,
        reason=reason,
    )
    for _row, ticket in await repo.active_links(session, case.id):  # type: ignore[arg-type]
        if ticket.status == TicketStatus.resolved:
            locked = await session.get_one(
                Ticket, ticket.id, with_for_update=True, populate_existing=True
            )
            await tickets_service.change_status(session, ctx, locked, TicketStatus.open, notifier)
    await session.flush()
    return decision
