"""Reading a case: order facts, both parties' tickets side by side, one timeline,
evidence, deadlines and decisions (what `GET /api/v1/cases/{id}` and the export show)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.context import AgentContext
from gateway.agents.models import Agent
from gateway.cases import repository as repo
from gateway.cases.models import (
    CaseDecision,
    CaseStatus,
    CaseTicket,
    DisputeCase,
    Evidence,
    EvidenceRequest,
    Party,
)
from gateway.cases.schemas import (
    CaseList,
    CasePublic,
    CaseSummary,
    CaseTicketPublic,
    DeadlinePublic,
    DecisionPublic,
    EvidencePublic,
    NotePublic,
    PartySide,
    TimelineItem,
)
from gateway.db import pk
from gateway.errors import InvalidRequest
from gateway.orders import repository as orders_repo
from gateway.orders.models import OrderFact, OrderStatus
from gateway.reports import service as losses
from gateway.reports.models import CaseLoss
from gateway.tickets import views as tickets_views
from gateway.tickets.models import Attachment, Message, Ticket, ticket_ref
from gateway.tickets.schemas import MessagePublic


async def agent_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(pk(Agent.id), col(Agent.name)).where(col(Agent.id).in_(wanted))
    )
    return {row[0]: row[1] for row in rows}


def request_state(request: EvidenceRequest, now: datetime) -> str:
    if request.fulfilled_at is not None:
        return "met" if request.fulfilled_at <= request.deadline_at else "breached"
    # Breached at the deadline itself, as the ticket's `evidence` SLA clock counts it.
    return "breached" if now >= request.deadline_at else "open"


def _payment_deadline(order: OrderFact, now: datetime) -> DeadlinePublic | None:
    due = order.payment_deadline_at
    if due is None:
        return None
    if order.marked_paid_at is not None:
        state = "met" if order.marked_paid_at <= due else "breached"
    elif order.status == OrderStatus.cancelled:
        state = "expired"
    else:
        state = "breached" if now > due else "open"
    return DeadlinePublic(kind="payment", party=Party.buyer, due_at=due, state=state)  # type: ignore[arg-type]


def _appeal_deadline(decision: CaseDecision, now: datetime) -> DeadlinePublic:
    if decision.appealed_at is not None:
        state = "met"
    else:
        state = "expired" if now > decision.appeal_until else "open"
    return DeadlinePublic(kind="appeal", party=None, due_at=decision.appeal_until, state=state)  # type: ignore[arg-type]


def request_public(request: EvidenceRequest, now: datetime) -> DeadlinePublic:
    return DeadlinePublic(
        kind="evidence_request",
        party=Party(request.party),
        due_at=request.deadline_at,
        state=request_state(request, now),  # type: ignore[arg-type]
        request_id=request.id,
        what=request.what,
    )


async def summaries(session: AsyncSession, cases: list[DisputeCase]) -> list[CaseSummary]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    refs = [c.order_ref for c in cases]
    orders = {
        o.order_ref: o
        for o in (
            await session.execute(sa.select(OrderFact).where(col(OrderFact.order_ref).in_(refs)))
        ).scalars()
    }
    tickets: dict[int, list[str]] = {}
    rows = await session.execute(
        sa.select(col(CaseTicket.case_id), col(CaseTicket.ticket_id))
        .where(col(CaseTicket.case_id).in_(ids), col(CaseTicket.unlinked_at).is_(None))
        .order_by(col(CaseTicket.id))
    )
    for case_id, ticket_id in rows:
        tickets.setdefault(case_id, []).append(ticket_ref(ticket_id))
    out = []
    for case in cases:
        order = orders.get(case.order_ref)
        out.append(
            CaseSummary(
                id=case.id,  # type: ignore[arg-type]
                ref=case.ref,
                order_ref=case.order_ref,
                status=CaseStatus(case.status),
                opened_at=case.opened_at,
                decided_at=case.decided_at,
                updated_at=case.updated_at,
                buyer_user_id=order.buyer_user_id if order else None,
                seller_user_id=order.seller_user_id if order else None,
                tickets=tickets.get(case.id, []),  # type: ignore[arg-type]
            )
        )
    return out


async def public(session: AsyncSession, case: DisputeCase, now: datetime) -> CasePublic:
    assert case.id is not None
    links = await repo.active_links(session, case.id)
    order = await orders_repo.by_ref(session, case.order_ref)
    party_of = {ticket.id: Party(row.party) for row, ticket in links}
    ref_of = {ticket.id: ticket.ref for _row, ticket in links}

    ticket_summaries = await tickets_views.summaries(session, [t for _r, t in links])
    sides: dict[Party, list[CaseTicketPublic]] = {p: [] for p in Party}
    for (row, _ticket), summary in zip(links, ticket_summaries, strict=True):
        sides[Party(row.party)].append(
            CaseTicketPublic(
                **summary.model_dump(),
                party=Party(row.party),
                party_source=row.party_source,
                party_user_id=row.party_user_id,
                linked_by=row.linked_by,
                linked_at=row.linked_at,
            )
        )
    user_of = {
        Party.buyer: order.buyer_user_id if order else None,
        Party.seller: order.seller_user_id if order else None,
        Party.unknown: None,
    }
    parties = [PartySide(party=p, user_id=user_of[p], tickets=sides[p]) for p in Party]

    ticket_ids = [t.id for _r, t in links]
    messages = (
        list(
            (
                await session.execute(
                    sa.select(Message)
                    .where(col(Message.ticket_id).in_(ticket_ids))
                    .order_by(col(Message.created_at), col(Message.id))
                )
            ).scalars()
        )
        if ticket_ids
        else []
    )
    evidence = await repo.evidence_of(session, case.id, ticket_ids)  # type: ignore[arg-type]
    requests = await repo.requests_of(session, case.id)
    notes = await repo.notes_of(session, case.id)
    decisions = await repo.decisions_of(session, case.id)
    loss = await losses.of_case(session, case.id)
    names = await agent_names(
        session,
        {m.author_agent_id for m in messages}
        | {n.author_agent_id for n in notes}
        | {d.decided_by for d in decisions}
        | {e.reviewed_by for e in evidence}
        | ({loss.set_by} if loss else set()),
    )
    file_states = await _file_states(session, evidence)

    timeline: list[TimelineItem] = []
    for m in messages:
        timeline.append(
            TimelineItem(
                at=m.created_at,
                kind="message",
                ticket=ref_of[m.ticket_id],
                party=party_of[m.ticket_id],
                direction=m.direction,
                author=names.get(m.author_agent_id, "agent")
                if m.author_agent_id
                else m.author_type,
                text=m.text,
                channel=m.channel,
                message_id=m.id,
            )
        )
    for n in notes:
        timeline.append(
            TimelineItem(
                at=n.created_at, kind="note", author=names.get(n.author_agent_id), text=n.text
            )
        )
    for e in evidence:
        timeline.append(
            TimelineItem(
                at=e.received_at,
                kind="evidence",
                ticket=ref_of[e.ticket_id],
                party=party_of[e.ticket_id],
                channel=e.channel,
                text=e.filename,
                evidence_id=e.id,
                message_id=e.message_id,
            )
        )
    for r in requests:
        timeline.append(
            TimelineItem(
                at=r.created_at,
                kind="evidence_request",
                ticket=ticket_ref(r.ticket_id),
                party=Party(r.party),
                text=r.what,
                request_id=r.id,
            )
        )
    for d in decisions:
        timeline.append(
            TimelineItem(
                at=d.decided_at,
                kind="decision",
                author=names.get(d.decided_by),
                text=d.outcome,
                decision_id=d.id,
            )
        )
        if d.appealed_at is not None:
            timeline.append(
                TimelineItem(
                    at=d.appealed_at,
                    kind="appeal",
                    party=Party(d.appealed_by_party or Party.unknown),
                    text=d.appeal_reason,
                    decision_id=d.id,
                )
            )
    timeline.sort(key=lambda item: item.at)

    request_views = [request_public(r, now) for r in requests]
    deadlines = list(request_views)
    if order is not None and (payment := _payment_deadline(order, now)) is not None:
        deadlines.append(payment)
    if decisions:
        deadlines.append(_appeal_deadline(decisions[-1], now))
    deadlines.sort(key=lambda d: d.due_at)

    case_summary = (await summaries(session, [case]))[0]
    return CasePublic(
        **case_summary.model_dump(),
        order=orders_repo.public(order) if order else None,
        parties=parties,
        timeline=timeline,
        evidence=[
            evidence_public(e, ref_of[e.ticket_id], party_of[e.ticket_id], file_states, names)
            for e in evidence
        ],
        evidence_requests=request_views,
        deadlines=deadlines,
        decisions=[decision_public(d, names, loss) for d in decisions],
        notes=[
            NotePublic(
                id=n.id,  # type: ignore[arg-type]
                author=names.get(n.author_agent_id, "agent"),
                text=n.text,
                created_at=n.created_at,
            )
            for n in notes
        ],
    )


async def _file_states(session: AsyncSession, evidence: list[Evidence]) -> dict[int, str]:
    if not evidence:
        return {}
    rows = await session.execute(
        sa.select(pk(Attachment.id), col(Attachment.state)).where(
            col(Attachment.id).in_([e.attachment_id for e in evidence])
        )
    )
    return {row[0]: row[1] for row in rows}


def evidence_public(
    e: Evidence, ticket: str, party: Party, file_states: dict[int, str], names: dict[int, str]
) -> EvidencePublic:
    return EvidencePublic(
        id=e.id,  # type: ignore[arg-type]
        ticket=ticket,
        party=party,
        uploader=e.uploader,
        channel=e.channel,
        filename=e.filename,
        declared_type=e.declared_type,
        sha256=e.sha256,
        size=e.size,
        mime=e.mime,
        kind=e.kind,
        received_at=e.received_at,
        file_state=file_states.get(e.attachment_id, "stored"),
        review_state=e.review_state,
        review_reason=e.review_reason,
        reviewed_by=names.get(e.reviewed_by) if e.reviewed_by else None,
        reviewed_at=e.reviewed_at,
    )


def decision_public(
    d: CaseDecision, names: dict[int, str], loss: CaseLoss | None = None
) -> DecisionPublic:
    """A decision; `loss` is the case's current loss row, shown on the decision it was
    set with."""
    return DecisionPublic(
        id=d.id,  # type: ignore[arg-type]
        outcome=d.outcome,  # type: ignore[arg-type]
        reason=d.reason,
        decided_by=names.get(d.decided_by, "agent"),
        decided_at=d.decided_at,
        appeal_until=d.appeal_until,
        appealed_at=d.appealed_at,
        appealed_by_party=d.appealed_by_party,
        appeal_reason=d.appeal_reason,
        loss=losses.public(loss, names) if loss is not None and loss.decision_id == d.id else None,
    )


PAGE_MAX = 200


async def search(
    session: AsyncSession,
    ctx: AgentContext,
    *,
    order_ref: str | None,
    status: CaseStatus | None,
    party: str | None,
    limit: int,
    cursor: str | None,
) -> CaseList:
    """Cases the caller may see, newest first. `party`: an exchange user id, as buyer or
    seller in the order facts or as the verified user behind a linked ticket."""
    stmt = sa.select(DisputeCase).order_by(col(DisputeCase.id).desc()).limit(limit + 1)
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidRequest("cursor is not one this API gave out")
        stmt = stmt.where(col(DisputeCase.id) < int(cursor))
    if order_ref:
        stmt = stmt.where(col(DisputeCase.order_ref) == order_ref)
    if status:
        stmt = stmt.where(col(DisputeCase.status) == status)
    if party:
        in_order = sa.select(col(OrderFact.order_ref)).where(
            sa.or_(col(OrderFact.buyer_user_id) == party, col(OrderFact.seller_user_id) == party)
        )
        behind_ticket = sa.select(col(CaseTicket.case_id)).where(
            col(CaseTicket.party_user_id) == party, col(CaseTicket.unlinked_at).is_(None)
        )
        stmt = stmt.where(
            sa.or_(col(DisputeCase.order_ref).in_(in_order), col(DisputeCase.id).in_(behind_ticket))
        )
    if not ctx.sees_all:
        visible = (
            sa.select(col(CaseTicket.case_id))
            .join(Ticket, col(Ticket.id) == col(CaseTicket.ticket_id))
            .where(
                col(CaseTicket.unlinked_at).is_(None),
                sa.or_(
                    col(Ticket.queue_id).in_(list(ctx.queue_ids)), col(Ticket.assignee_id) == ctx.id
                ),
            )
        )
        stmt = stmt.where(col(DisputeCase.id).in_(visible))
    cases = list((await session.execute(stmt)).scalars())
    more = len(cases) > limit
    cases = cases[:limit]
    return CaseList(
        items=await summaries(session, cases),
        next_cursor=str(cases[-1].id) if more and cases else None,
    )


def message_public(m: Message, author: str) -> MessagePublic:
    return MessagePublic.model_validate(
        {
            "id": m.id,
            "direction": m.direction,
            "author": author,
            "text": m.text,
            "delivery_state": m.delivery_state,
            "created_at": m.created_at,
        }
    )
