"""The supervisor's SLA picture: per queue, open tickets by SLA state, the next
breaches and the breaches of the last 24 hours; the same figures as Prometheus gauges."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.db import pk
from gateway.queues.models import Queue
from gateway.sla.metrics import breaches_24h, next_breach_seconds, open_by_state
from gateway.sla.models import SlaEvent
from gateway.tickets.models import Ticket

OPEN = ("new", "open", "pending_customer", "escalated")
STATES = ("active", "warning", "paused", "breached", "fulfilled", "none")
NEXT_BREACHES = 5


async def build(
    session: AsyncSession, now: datetime, queue_ids: set[int] | None = None
) -> list[dict[str, Any]]:
    """One entry per queue: {queue, open: {state: n}, next_breaches: [...], breached_24h}."""
    names = dict(
        (
            await session.execute(
                sa.select(pk(Queue.id), col(Queue.name)).order_by(col(Queue.name))
            )
        ).all()
    )
    if queue_ids is not None:
        names = {i: n for i, n in names.items() if i in queue_ids}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    rows = await session.execute(
        sa.select(col(Ticket.queue_id), col(Ticket.sla_state), sa.func.count())
        .where(col(Ticket.status).in_(OPEN))
        .group_by(col(Ticket.queue_id), col(Ticket.sla_state))
    )
    for queue_id, state, n in rows:
        counts[queue_id][state if state in STATES else "none"] += n
    upcoming: dict[int, list[dict[str, Any]]] = defaultdict(list)
    due_rows = await session.execute(
        sa.select(
            col(Ticket.id),
            col(Ticket.queue_id),
            col(Ticket.severity),
            col(Ticket.first_responded_at),
            col(Ticket.first_response_due),
            col(Ticket.next_response_due),
            col(Ticket.resolution_due),
        ).where(col(Ticket.status).in_(OPEN), col(Ticket.sla_state).in_(("active", "warning")))
    )
    for tid, queue_id, severity, responded, first, nxt, resolution in due_rows:
        candidates = [
            (due, target)
            for due, target in (
                (None if responded else first, "first_response"),
                (nxt, "next_response"),
                (resolution, "resolution"),
            )
            if due is not None
        ]
        if candidates:
            due, target = min(candidates)
            upcoming[queue_id].append(
                {"ref": f"D-{tid}", "target": target, "due_at": due, "severity": severity}
            )
    since = now - timedelta(hours=24)
    breached = dict(
        (
            await session.execute(
                sa.select(col(Ticket.queue_id), sa.func.count())
                .join(SlaEvent, col(SlaEvent.ticket_id) == col(Ticket.id))
                .where(col(SlaEvent.kind) == "breached", col(SlaEvent.at) >= since)
                .group_by(col(Ticket.queue_id))
            )
        ).all()
    )
    return [
        {
            "queue": name,
            "open": counts[queue_id],
            "next_breaches": sorted(upcoming[queue_id], key=lambda d: d["due_at"])[:NEXT_BREACHES],
            "breached_24h": int(breached.get(queue_id, 0)),
        }
        for queue_id, name in names.items()
    ]


async def update_gauges(session: AsyncSession, now: datetime) -> None:
    for entry in await build(session, now):
        for state, n in entry["open"].items():
            open_by_state.labels(entry["queue"], state).set(n)
        breaches_24h.labels(entry["queue"]).set(entry["breached_24h"])
        if entry["next_breaches"]:
            left = (entry["next_breaches"][0]["due_at"] - now).total_seconds()
            next_breach_seconds.labels(entry["queue"]).set(left)
