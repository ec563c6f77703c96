"""Reporting a suspicious account, and the review that confirms or dismisses it.

A report opens a risk ticket in the risk queue: its customer is the reported account's
(created when the account never wrote to the desk), on an `internal` identity that is
unreachable by construction, so nobody can answer the suspect from it and no survey
goes out. The report reaches the exchange's risk system through the outbox: the
`risk.report_created` webhook when a subscriber takes it, otherwise a mail to
`GATEWAY_RISK_REPORT_EMAIL`, otherwise it stays on the ticket (`sent_via: none`).

A risk reviewer (supervisor, admin, risk-queue agent) other than the reporter confirms
it (the account goes on the watchlist routing reads: its disputes' counterparties go to
the risk queue and its own tickets carry the `watchlist` customer flag) or dismisses it
(each signal the report named weighs `dismiss_factor` as much for that account).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit, notify
from gateway.agents.context import AgentContext
from gateway.cases import service as cases_service
from gateway.cases.models import DisputeCase, case_ref, parse_case_ref
from gateway.db import lock_key
from gateway.errors import Conflict, Forbidden, InvalidRequest, NotFound
from gateway.notify import Notifier
from gateway.outbox.service import enqueue
from gateway.queues import repository as queues_repo
from gateway.risk import repository as repo
from gateway.risk import service
from gateway.risk.models import ReportStatus, RiskAccount, RiskReport
from gateway.settings import RiskSettings
from gateway.sla import service as sla_service
from gateway.tickets import repository as tickets_repo
from gateway.tickets.models import (
    INTERNAL_CHANNEL,
    SEVERITY_RANK,
    ActorType,
    Category,
    ChannelIdentity,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Severity,
    Ticket,
    TicketStatus,
)
from gateway.webhooks import events as webhook_events
from gateway.webhooks.models import EventType


async def _cases(
    session: AsyncSession, ctx: AgentContext, user_id: str, refs: list[str]
) -> list[DisputeCase]:
    """The linked cases, each one the reporter may see and one the account is a party
    of; 404 for a case the reporter cannot see, as for one that is not."""
    found: list[DisputeCase] = []
    for ref in dict.fromkeys(refs):
        case_id = parse_case_ref(ref)
        if case_id is None:
            raise InvalidRequest(f"{ref!r} is not a case (C-12 or 12)")
        case = await cases_service.case_for(session, ctx, ref)
        parties = await repo.order_parties(session, case.order_ref)
        if parties is None or user_id not in parties:
            raise InvalidRequest(f"{case.ref} is not about {user_id}: its order names other users")
        found.append(case)
    return found


async def _customer(session: AsyncSession, user_id: str) -> Customer:
    await lock_key(session, "exchange_user", user_id)
    customer = await tickets_repo.customer_by_exchange_user(session, user_id)
    if customer is None:
        customer = Customer(exchange_user_id=user_id, display_name=f"exchange user {user_id}")
        session.add(customer)
        await session.flush()
    return customer


async def _identity(session: AsyncSession, customer: Customer, user_id: str) -> ChannelIdentity:
    address = f"risk:{user_id}"
    identity = await tickets_repo.identity(session, INTERNAL_CHANNEL, address)
    if identity is None:
        identity = ChannelIdentity(
            customer_id=customer.id,  # type: ignore[arg-type]
            channel=INTERNAL_CHANNEL,
            address=address,
            display_name=f"risk reports on {user_id}",
            verified=True,
            unreachable=True,
        )
        session.add(identity)
        await session.flush()
    return identity


def _text(report: RiskReport, reporter: str, cases: list[DisputeCase]) -> str:
    lines = [
        f"Risk report #{report.id} on exchange user {report.user_id} by {reporter}",
        f"Reason: {report.reason}",
        f"Cases: {', '.join(c.ref for c in cases) or 'none'}",
        f"Score when reported: {report.score:g}",
    ]
    lines += [f"- {s['sentence']} (weight {s['weight']:g})" for s in report.signals]
    return "\n".join(lines)


def report_json(report: RiskReport, reporter: str, ticket: Ticket) -> dict[str, Any]:
    return {
        "id": report.id,
        "user_id": report.user_id,
        "reason": report.reason,
        "cases": [case_ref(c) for c in report.case_ids],
        "score": report.score,
        "signals": report.signals,
        "reported_by": reporter,
        "ticket": ticket.ref,
    }


async def create(
    session: AsyncSession,
    ctx: AgentContext,
    *,
    user_id: str,
    reason: str,
    case_refs: list[str],
    settings: RiskSettings,
    notifier: Notifier | None,
    now: datetime,
) -> RiskReport:
    """Open the risk ticket, record the report, send it on. Flushes."""
    cases = await _cases(session, ctx, user_id, case_refs)
    stored = await service.refresh(session, [user_id], now=now)
    current = stored.get(user_id)
    customer = await _customer(session, user_id)
    identity = await _identity(session, customer, user_id)
    queue = await queues_repo.ensure_queue(
        session, settings.queue, "Suspicious accounts: risk reports and risky disputes"
    )
    ticket = Ticket(
        customer_id=customer.id,  # type: ignore[arg-type]
        identity_id=identity.id,  # type: ignore[arg-type]
        channel=INTERNAL_CHANNEL,
        subject=f"Risk report: exchange user {user_id}",
        status=TicketStatus.new,
        severity=Severity.high,
        severity_rank=SEVERITY_RANK[Severity.high],
        category=Category.fraud_or_scam,
        queue_id=queue.id,  # type: ignore[arg-type]
        routing_reasons=[f"risk report by {ctx.agent.name}: risk queue {settings.queue}"],
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    await session.flush()
    report = RiskReport(
        user_id=user_id,
        reason=reason,
        case_ids=[c.id for c in cases if c.id is not None],
        signals=list(current.signals) if current else [],
        score=current.score if current else 0.0,
        ticket_id=ticket.id,  # type: ignore[arg-type]
        reported_by=ctx.id,
        created_at=now,
    )
    session.add(report)
    await session.flush()
    text = _text(report, ctx.agent.name, cases)
    session.add(
        Message(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            channel=INTERNAL_CHANNEL,
            direction=Direction.note,
            author_type=ActorType.agent,
            author_agent_id=ctx.id,
            text=text,
            delivery_state=DeliveryState.internal,
            created_at=now,
        )
    )
    audit.record(
        session, "risk.report_created", ticket_id=ticket.id, actor_type=ActorType.agent,
        actor_agent_id=ctx.id, report_id=report.id, user_id=user_id,
        cases=[c.ref for c in cases], score=report.score,
    )  # fmt: skip
    for case in cases:  # on each case's chain too: the case was reported on
        audit.record(
            session, "risk.report_created", ticket_id=None, case_id=case.id,
            actor_type=ActorType.agent, actor_agent_id=ctx.id, report_id=report.id,
            user_id=user_id,
        )  # fmt: skip
    await session.flush()
    await sla_service.refresh(session, ticket, now, notifier=notifier)
    event = await webhook_events.emit(
        session,
        EventType.risk_report_created,
        ticket=ticket,
        data={"report": report_json(report, ctx.agent.name, ticket)},
        notifier=notifier,
    )
    if event is not None:
        report.sent_via = "webhook"
    elif settings.report_email:
        await enqueue(
            session, ticket_id=ticket.id, channel="email", recipient=settings.report_email,  # type: ignore[arg-type]
            text=text, notifier=notifier, action="risk.report_mailed", to=settings.report_email,
            author_type=ActorType.agent, author_agent_id=ctx.id, report_id=report.id,
        )  # fmt: skip
        report.sent_via = "email"
    else:
        audit.record(
            session, "risk.report_unsent", ticket_id=ticket.id, report_id=report.id,
            why="no risk.report_created subscriber and no GATEWAY_RISK_REPORT_EMAIL",
        )  # fmt: skip
    await session.flush()
    if notifier is not None:
        await notifier.publish(session, notify.TICKETS, str(ticket.queue_id))
    return report


async def review(
    session: AsyncSession,
    ctx: AgentContext,
    report_id: int,
    *,
    confirm: bool,
    note: str,
    now: datetime,
) -> RiskReport:
    """Confirm (watchlist) or dismiss (lower the named signals) an open report. Flushes."""
    report = await repo.report(session, report_id, for_update=True)
    if report is None:
        raise NotFound(f"no risk report {report_id}")
    if report.reported_by == ctx.id:
        raise Forbidden("a report is reviewed by someone other than its reporter")
    if report.status != ReportStatus.open:
        raise Conflict(f"risk report {report_id} was already {report.status}")
    row = await repo.account(session, report.user_id, lock=True)
    if row is None:
        row = RiskAccount(user_id=report.user_id, computed_at=now)
        session.add(row)
    if confirm:
        row.watchlisted, row.watchlisted_at = True, now
        customer = await tickets_repo.customer_by_exchange_user(session, report.user_id)
        if customer is not None:
            # Reassigned, not mutated: the JSON column sees the change.
            customer.flags = {**customer.flags, "watchlist": True}
    else:
        dismissed = dict(row.dismissals)
        for kind in {s["kind"] for s in report.signals}:
            dismissed[kind] = dismissed.get(kind, 0) + 1
        row.dismissals = dismissed
    report.status = ReportStatus.confirmed if confirm else ReportStatus.dismissed
    report.reviewed_by, report.reviewed_at, report.review_note = ctx.id, now, note
    audit.record(
        session,
        "risk.report_confirmed" if confirm else "risk.report_dismissed",
        ticket_id=report.ticket_id, actor_type=ActorType.agent, actor_agent_id=ctx.id,
        report_id=report.id, user_id=report.user_id, note=note,
    )  # fmt: skip
    await session.flush()
    await service.refresh(session, [report.user_id], now=now)
    return report
