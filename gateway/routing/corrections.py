"""Agents correct triage: the ticket changes, and the correction becomes a labelled
example that `gateway routing eval` and `gateway routing train` read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.routing.dataset import Example
from gateway.routing.models import RoutingCorrection


async def export_examples(session: AsyncSession) -> list[Example]:
    """Every correction, oldest first, as a development-set line. A ticket corrected
    twice yields its latest labels once (the last word of the desk)."""
    rows = (
        await session.execute(sa.select(RoutingCorrection).order_by(RoutingCorrection.id))
    ).scalars()
    latest: dict[int, RoutingCorrection] = {}
    for row in rows:
        latest.pop(row.ticket_id, None)
        latest[row.ticket_id] = row
    return [
        Example(
            text=row.text,
            language=row.language or "unknown",
            category=row.new_category,
            severity=row.new_severity,
            source=f"correction: ticket D-{row.ticket_id} by agent {row.agent_id}",
        )
        for row in latest.values()
    ]
