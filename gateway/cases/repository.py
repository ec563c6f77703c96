"""All SQL of dispute cases. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cases.models import (
    CaseDecision,
    CaseNote,
    CaseTicket,
    DisputeCase,
    Evidence,
    EvidenceRequest,
)
from gateway.db import lock_key
from gateway.tickets.models import Ticket


async def case_by_order(session: AsyncSession, order_ref: str) -> DisputeCase | None:
    result = await session.execute(sa.select(DisputeCase).where(DisputeCase.order_ref == order_ref))
    return result.scalar_one_or_none()


async def get_case(
    session: AsyncSession, case_id: int, *, for_update: bool = False
) -> DisputeCase | None:
    stmt = sa.select(DisputeCase).where(DisputeCase.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def ensure_case(session: AsyncSession, order_ref: str) -> tuple[DisputeCase, bool]:
    """The order's case, created when missing (safe against a concurrent create)."""
    case = await case_by_order(session, order_ref)
    if case is not None:
        return case, False
    await lock_key(session, "case", order_ref)
    case = await case_by_order(session, order_ref)
    if case is not None:
        return case, False
    case = DisputeCase(order_ref=order_ref)
    session.add(case)
    await session.flush()
    return case, True


async def link_of_ticket(session: AsyncSession, ticket_id: int) -> CaseTicket | None:
    """The ticket's active link, else its newest unlinked one, else None."""
    result = await session.execute(
        sa.select(CaseTicket)
        .where(CaseTicket.ticket_id == ticket_id)
        .order_by(CaseTicket.unlinked_at.is_not(None), CaseTicket.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def link_in_case(session: AsyncSession, case_id: int, ticket_id: int) -> CaseTicket | None:
    result = await session.execute(
        sa.select(CaseTicket).where(
            CaseTicket.case_id == case_id, CaseTicket.ticket_id == ticket_id
        )
    )
    return result.scalar_one_or_none()


async def active_links(session: AsyncSession, case_id: int) -> list[tuple[CaseTicket, Ticket]]:
    result = await session.execute(
        sa.select(CaseTicket, Ticket)
        .join(Ticket, Ticket.id == CaseTicket.ticket_id)
        .where(CaseTicket.case_id == case_id, CaseTicket.unlinked_at.is_(None))
        .order_by(CaseTicket.id)
    )
    return [(row[0], row[1]) for row in result]


async def evidence_of(
    session: AsyncSession, case_id: int, ticket_ids: Sequence[int]
) -> list[Evidence]:
    if not ticket_ids:
        return []
    result = await session.execute(
        sa.select(Evidence)
        .where(Evidence.case_id == case_id, Evidence.ticket_id.in_(list(ticket_ids)))
        .order_by(Evidence.id)
    )
    return list(result.scalars())


async def requests_of(session: AsyncSession, case_id: int) -> list[EvidenceRequest]:
    result = await session.execute(
        sa.select(EvidenceRequest)
        .where(EvidenceRequest.case_id == case_id)
        .order_by(EvidenceRequest.id)
    )
    return list(result.scalars())


async def notes_of(session: AsyncSession, case_id: int) -> list[CaseNote]:
    result = await session.execute(
        sa.select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)
    )
    return list(result.scalars())


async def decisions_of(session: AsyncSession, case_id: int) -> list[CaseDecision]:
    result = await session.execute(
        sa.select(CaseDecision).where(CaseDecision.case_id == case_id).order_by(CaseDecision.id)
    )
    return list(result.scalars())


async def latest_decision(session: AsyncSession, case_id: int) -> CaseDecision | None:
    result = await session.execute(
        sa.select(CaseDecision)
        .where(CaseDecision.case_id == case_id)
        .order_by(CaseDecision.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()
