"""All SQL of dispute cases. Functions flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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
    result = await session.execute(
        sa.select(DisputeCase).where(col(DisputeCase.order_ref) == order_ref)
    )
    return result.scalar_one_or_none()


async def get_case(
    session: AsyncSession, case_id: int, *, for_update: bool = False
) -> DisputeCase | None:
    stmt = sa.select(DisputeCase).where(col(DisputeCase.id) == case_id)
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
        .where(col(CaseTicket.ticket_id) == ticket_id)
        .order_by(col(CaseTicket.unlinked_at).is_not(None), col(CaseTicket.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def link_in_case(session: AsyncSession, case_id: int, ticket_id: int) -> CaseTicket | None:
    result = await session.execute(
        sa.select(CaseTicket).where(
            col(CaseTicket.case_id) == case_id, col(CaseTicket.ticket_id) == ticket_id
        )
    )
    return result.scalar_one_or_none()


async def active_links(session: AsyncSession, case_id: int) -> list[tuple[CaseTicket, Ticket]]:
    result = await session.execute(
        sa.select(CaseTicket, Ticket)
        .join(Ticket, col(Ticket.id) == col(CaseTicket.ticket_id))
        .where(col(CaseTicket.case_id) == case_id, col(CaseTicket.unlinked_at).is_(None))
        .order_by(col(CaseTicket.id))
    )
    return [(row[0], row[1]) for row in result]


async def evidence_of(
    session: AsyncSession, case_id: int, ticket_ids: Sequence[int]
) -> list[Evidence]:
    if not ticket_ids:
        return []
    result = await session.execute(
        sa.select(Evidence)
        .where(col(Evidence.case_id) == case_id, col(Evidence.ticket_id).in_(list(ticket_ids)))
        .order_by(col(Evidence.id))
    )
    return list(result.scalars())


async def requests_of(session: AsyncSession, case_id: int) -> list[EvidenceRequest]:
    result = await session.execute(
        sa.select(EvidenceRequest)
        .where(col(EvidenceRequest.case_id) == case_id)
        .order_by(col(EvidenceRequest.id))
    )
    return list(result.scalars())


async def notes_of(session: AsyncSession, case_id: int) -> list[CaseNote]:
    result = await session.execute(
        sa.select(CaseNote).where(col(CaseNote.case_id) == case_id).order_by(col(CaseNote.id))
    )
    return list(result.scalars())


async def decisions_of(session: AsyncSession, case_id: int) -> list[CaseDecision]:
    result = await session.execute(
        sa.select(CaseDecision)
        .where(col(CaseDecision.case_id) == case_id)
        .order_by(col(CaseDecision.id))
    )
    return list(result.scalars())


async def latest_decision(session: AsyncSession, case_id: int) -> CaseDecision | None:
    result = await session.execute(
        sa.select(CaseDecision)
        .where(col(CaseDecision.case_id) == case_id)
        .order_by(col(CaseDecision.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()
