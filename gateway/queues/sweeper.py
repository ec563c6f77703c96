"""Claims that went quiet go back to their queue, so a waiting customer is not stuck
behind an agent who left."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from gateway import audit, notify
from gateway.db import utcnow
from gateway.queues import repository as repo
from gateway.runtime import Runtime
from gateway.webhooks import events as webhook_events

log = structlog.get_logger()


class LeaseSweeper:
    """Unassigns tickets whose holder has not acted within the claim lease while the
    customer still waits for a first answer; each with an audit event."""

    name = "claim-lease-sweeper"

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.lease = timedelta(seconds=runtime.settings.queue.claim_lease_seconds)
        self.interval = max(1.0, min(30.0, self.lease.total_seconds() / 4))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sweep()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def sweep(self) -> int:
        """Return every expired claim to its queue; how many."""
        async with self.runtime.sessionmaker.begin() as session:
            tickets = await repo.stale_assignments(session, utcnow() - self.lease)
            for ticket in tickets:
                before = webhook_events.snapshot(ticket)
                audit.record(
                    session,
                    "ticket.claim_expired",
                    ticket_id=ticket.id,
                    previous_assignee=ticket.assignee_id,
                    lease_seconds=int(self.lease.total_seconds()),
                )
                ticket.assignee_id = None
                ticket.updated_at = utcnow()
                await self.runtime.notifier.publish(session, notify.TICKETS, str(ticket.queue_id))
                await webhook_events.emit_ticket_updated(
                    session, ticket, before, notifier=self.runtime.notifier, by="claim_expired"
                )
        if tickets:
            log.info("queue.claims_expired", count=len(tickets))
        return len(tickets)
