"""The SLA worker: looks at every ticket whose next SLA moment has come (a warning
share, a due time, a level's time, an unclaimed rule), records what happened and acts
on it; applies the shift rota; keeps the SLA gauges.

Runs in `gateway serve` and `gateway worker`, as many as you like on one PostgreSQL:
each ticket is handled in its own transaction with its row locked (SKIP LOCKED, so
workers pass each other by), and each event's unique key means a second worker, or a
worker restarted after kill -9, finds it recorded and does nothing. A crash inside the
transaction rolls back the event and its action together, so the restart acts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta

import structlog

from gateway.clock import Clock
from gateway.runtime import Runtime
from gateway.sla import overview, service, shifts
from gateway.sla import repository as repo

log = structlog.get_logger()

GAUGES_EVERY_SECONDS = 30.0
# A ticket whose refresh fails is looked at again after this, not in a hot loop.
RETRY_AFTER = timedelta(minutes=1)


class SlaWorker:
    name = "sla-worker"

    def __init__(self, runtime: Runtime, clock: Clock | None = None) -> None:
        self.runtime = runtime
        self.clock = clock or runtime.clock
        self.settings = runtime.settings.sla
        self._gauges_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = await self.run_once()
            if time.monotonic() - self._gauges_at >= GAUGES_EVERY_SECONDS:
                await self.report()
            if handled >= self.settings.batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_seconds)

    async def run_once(self) -> int:
        """Apply the rota, then handle up to one batch of due tickets; how many."""
        now = self.clock.now()
        async with self.runtime.sessionmaker.begin() as session:
            config = await repo.load_config(session)
            await shifts.apply_rota(session, config, now, self.runtime.notifier)
        handled = 0
        while handled < self.settings.batch_size:
            if not await self._one(now):
                break
            handled += 1
        return handled

    async def _one(self, now: datetime) -> bool:
        """Handle the most overdue due ticket no other worker holds; False when none."""
        ticket_id = None
        try:
            async with self.runtime.sessionmaker.begin() as session:
                due = await repo.due_tickets(session, now, 1)
                if not due:
                    return False
                ticket = due[0]
                ticket_id = ticket.id
                await service.refresh(session, ticket, now, notifier=self.runtime.notifier)
                if ticket.sla_check_at is not None and ticket.sla_check_at <= now:
                    # Nothing left to do at this moment; never pick it again for `now`.
                    ticket.sla_check_at = now + timedelta(seconds=1)
            return True
        except Exception:
            log.exception("sla.refresh_failed", ticket_id=ticket_id)
            if ticket_id is None:
                raise
            async with self.runtime.sessionmaker.begin() as session:
                await repo.postpone(session, ticket_id, now + RETRY_AFTER)
            return True

    async def report(self) -> None:
        self._gauges_at = time.monotonic()
        async with self.runtime.sessionmaker() as session:
            await overview.update_gauges(session, self.clock.now())
