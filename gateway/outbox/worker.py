"""The delivery worker: replies leave the outbox through their channel's adapter.

A row is leased (so one worker sends it), sent outside any transaction, and its
outcome recorded in a second transaction. A worker killed mid-send leaves the lease to
run out; the row is then sent again, so a reply may arrive twice only when its send was
in flight at the kill or finished in the last RECORD_LINGER_SECONDS before it, and is
never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics, notify
from gateway.csat.choices import choices_by_message
from gateway.db import utcnow
from gateway.flows.undelivered import reply_undelivered
from gateway.outbox import repository as repo
from gateway.outbox.models import DeliveryAttempt, Outbox, OutboxState, move
from gateway.ports import Channel, DeliveryError, DeliveryReceipt, OutboundMessage
from gateway.runtime import Runtime
from gateway.tickets.models import ChannelIdentity, Customer, DeliveryState, Message
from gateway.webhooks.worker import WebhookDeliverer

log = structlog.get_logger()

DEPTH_REPORT_SECONDS = 1.0
# How long a finished send may wait for others to share its outcome's transaction. A
# crash loses at most this long of outcomes besides the sends in flight: those rows are
# sent again once their lease runs out.
RECORD_LINGER_SECONDS = 0.02


@dataclass
class Job:
    outbox_id: int
    attempt: int
    message: OutboundMessage | None
    refused: str | None = None  # known undeliverable before trying (blocked recipient)


@dataclass
class DeliveryOutcome:
    job: Job
    started_at: datetime
    receipt: DeliveryReceipt | None = None
    error: DeliveryError | None = None


def _recipient(
    channel: str, identity: ChannelIdentity, customer: Customer
) -> tuple[str | None, str | None]:
    """Where a reply on `channel` goes: the ticket's own identity, or, for a copy on
    another channel (a webchat reply mailed to a visitor who left), the address the
    customer left for it. (None, why) when there is nowhere to send it."""
    if channel == identity.channel:
        if identity.unreachable:
            return None, "the customer blocked this channel"
        return identity.address, None
    address = customer.contact_address(channel)
    if address:
        return address, None
    return None, f"the customer has no {channel} address"


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Capped exponential backoff with jitter (half fixed, half random), so retries of
    many rows after one outage spread out instead of arriving together."""
    ceiling: float = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class DeliveryWorker:
    name = "delivery-worker"

    def __init__(
        self,
        runtime: Runtime,
        worker_id: str | None = None,
        *,
        webhooks: WebhookDeliverer | None = None,
    ):
        self.runtime = runtime
        self.settings = runtime.settings.outbox
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # Webhook deliveries are outbox rows of their own kind, sent by this same loop.
        self.webhooks = webhooks or WebhookDeliverer(runtime, self.worker_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`; wake on a new reply's signal or every poll interval."""
        reported = 0.0
        try:
            async with self.runtime.notifier.subscribe(notify.OUTBOX) as signals:
                while not stop.is_set():
                    handled = await self.run_once()
                    # The depth gauge is a count over every pending row: once a second is
                    # plenty, and not once per batch while draining a backlog.
                    if time.monotonic() - reported >= DEPTH_REPORT_SECONDS:
                        await self._report_depth()
                        reported = time.monotonic()
                    if handled >= self.settings.batch_size:
                        continue
                    await notify.wait_for(signals, None, self.settings.poll_seconds, stop=stop)
        finally:
            await self.webhooks.close()

    async def _report_depth(self) -> None:
        async with self.runtime.sessionmaker() as session:
            depth = await repo.pending_depth(session)
        for channel in Channel:
            metrics.outbox_depth.labels(str(channel)).set(depth.get(str(channel), 0))

    async def run_once(self) -> int:
        """One batch of webhook deliveries and `concurrent_batches` batches of replies
        side by side (SKIP LOCKED gives each its own rows); the number of rows handled."""
        handled = await self.webhooks.run_once()
        if self.settings.concurrent_batches == 1:
            return handled + await self._replies_once()
        async with asyncio.TaskGroup() as group:  # one failing cancels the others
            batches = [
                group.create_task(self._replies_once())
                for _ in range(self.settings.concurrent_batches)
            ]
        return handled + sum(b.result() for b in batches)

    async def _replies_once(self) -> int:
        """Lease one batch, deliver it, record the outcomes; the number of rows handled."""
        channels = [str(c) for c in self.runtime.adapters]
        if not channels:
            return 0
        jobs = await self._lease(channels)
        if not jobs:
            return 0
        # Record outcomes as sends finish, each write taking whatever finished during the
        # last one: fast sends share a transaction, and a slow one is on record at once,
        # so a crash re-sends only what was really in flight, not the whole batch.
        finished: asyncio.Queue[DeliveryOutcome] = asyncio.Queue()

        async def send(job: Job) -> None:
            finished.put_nowait(await self._deliver(job))

        async with contextlib.AsyncExitStack() as batches:
            # An adapter that can share one connection over a batch (email's relay) does.
            for channel in {j.message.channel for j in jobs if j.message is not None}:
                adapter = self.runtime.adapters.get(channel)
                batch = getattr(adapter, "batch", None)
                if batch is not None:
                    await batches.enter_async_context(batch())
            await self._send_all(jobs, send, finished)
        return len(jobs)

    async def _send_all(
        self,
        jobs: list[Job],
        send: Callable[[Job], Coroutine[Any, Any, None]],
        finished: asyncio.Queue[DeliveryOutcome],
    ) -> None:
        senders = [asyncio.create_task(send(job)) for job in jobs]
        try:
            recorded = 0
            loop = asyncio.get_running_loop()
            while recorded < len(jobs):
                outcomes = [await finished.get()]
                # Sends that finish within RECORD_LINGER_SECONDS of the first join its
                # write: a write costs the same for one row as for fifty.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(loop.time() + RECORD_LINGER_SECONDS):
                        while recorded + len(outcomes) < len(jobs):
                            outcomes.append(await finished.get())
                await self._record(outcomes)
                recorded += len(outcomes)
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)

    async def _lease(self, channels: list[str]) -> list[Job]:
        now = utcnow()
        async with self.runtime.sessionmaker.begin() as session:
            rows = await repo.lease_due(
                session,
                channels=channels,
                worker=self.worker_id,
                now=now,
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch_size,
            )
            return await self._jobs(session, rows)

    async def _jobs(self, session: AsyncSession, rows: list[Outbox]) -> list[Job]:
        """What to send for each leased row; a handful of queries for the whole batch."""
        if not rows:
            return []
        parts = await repo.reply_parts(session, rows)
        threads = await repo.thread_messages(session, {r.ticket_id for r in rows})
        message_ids = [r.message_id for r in rows]
        files = await repo.outbound_attachments(session, message_ids)
        choices = await choices_by_message(session, message_ids, now=utcnow())
        jobs = []
        for row in rows:
            assert row.id is not None
            message, ticket, identity, customer = parts[row.id]
            recipient, refused = (
                (row.recipient, None)
                if row.recipient
                else _recipient(row.channel, identity, customer)
            )
            if recipient is None:
                jobs.append(Job(row.id, row.attempts, None, refused=refused))
                continue
            outbound = OutboundMessage(
                outbox_id=row.id,
                message_id=message.id,  # type: ignore[arg-type]
                ticket_ref=ticket.ref,
                channel=Channel(row.channel),
                recipient=recipient,
                recipient_name=None
                if row.recipient
                else identity.display_name or customer.display_name,
                text=message.text,
                html=message.html,
                idempotency_key=message.external_id or f"outbox-{row.id}",
                # A desk notice stands alone: not in the customer's mail thread.
                subject=f"[{ticket.ref}] desk notice" if row.recipient else ticket.subject,
                thread_ids=()
                if row.recipient
                else tuple(
                    external_id
                    for message_id, channel, external_id in threads.get(row.ticket_id, ())
                    if channel == row.channel and message_id < row.message_id
                ),
                language=ticket.language,
                attachments=tuple(files.get(row.message_id, ())),
                choices=choices.get(row.message_id, ()),
            )
            jobs.append(Job(row.id, row.attempts, outbound))
        return jobs

    async def _deliver(self, job: Job) -> DeliveryOutcome:
        outcome = DeliveryOutcome(job, utcnow())
        if job.message is None:
            outcome.error = DeliveryError(job.refused or "undeliverable", retryable=False)
            return outcome
        adapter = self.runtime.adapters.get(job.message.channel)
        if adapter is None:  # unconfigured since leasing: try again later
            outcome.error = DeliveryError("channel not configured", retryable=True)
            return outcome
        try:
            # Finish well inside the lease, or another worker may send it too.
            async with asyncio.timeout(self.settings.lease_seconds * 0.8):
                outcome.receipt = await adapter.deliver(job.message)
        except DeliveryError as exc:
            outcome.error = exc
        except TimeoutError:
            outcome.error = DeliveryError("delivery timed out", retryable=True)
        except Exception as exc:  # an adapter bug or network fault: retry, never crash
            log.exception("outbox.adapter_error", outbox_id=job.outbox_id)
            outcome.error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
        return outcome

    async def _record(self, outcomes: list[DeliveryOutcome]) -> None:
        now = utcnow()
        if all(o.error is None for o in outcomes):
            await self._record_sent(outcomes, now)
            return
        async with self.runtime.sessionmaker.begin() as session:
            rows = await repo.lock_rows(session, [o.job.outbox_id for o in outcomes])
            messages = await repo.by_ids(session, Message, {r.message_id for r in rows.values()})
            for outcome in outcomes:
                row = rows.get(outcome.job.outbox_id)
                if row is None:
                    continue
                result = self._apply(row, outcome, now)
                session.add(
                    DeliveryAttempt(
                        outbox_id=row.id,  # type: ignore[arg-type]
                        attempt=outcome.job.attempt,
                        worker=self.worker_id,
                        result=result,
                        error=outcome.error.detail[:2000] if outcome.error else None,
                        started_at=outcome.started_at,
                        finished_at=now,
                    )
                )
                message = messages[row.message_id]
                if result == "sent":
                    message.delivery_state = DeliveryState.sent
                    if outcome.receipt and outcome.receipt.provider_id:
                        message.provider_id = outcome.receipt.provider_id[:200]
                elif result in ("failed", "dead"):
                    detail = outcome.error.detail if outcome.error else "unknown"
                    await reply_undelivered(
                        session,
                        row,
                        state=OutboxState(result),
                        detail=detail,
                        reason=f"reply {row.message_id} was not delivered: {detail}",
                        attempts=row.attempts,
                    )
                metrics.deliveries.labels(row.channel, result).inc()

    async def _record_sent(self, outcomes: list[DeliveryOutcome], now: datetime) -> None:
        """The common case, every send of the group accepted: three statements for the
        group instead of the ORM's load, change and flush of each row and message."""
        receipts = {
            o.job.outbox_id: o.receipt.provider_id[:200]
            if o.receipt and o.receipt.provider_id
            else None
            for o in outcomes
        }
        async with self.runtime.sessionmaker.begin() as session:
            moved = await repo.mark_sent(session, receipts, worker=self.worker_id, now=now)
            await repo.add_attempts(
                session,
                [
                    {
                        "outbox_id": o.job.outbox_id,
                        "attempt": o.job.attempt,
                        "worker": self.worker_id,
                        # Not moved: our lease ran out and another worker took the row.
                        "result": "sent" if o.job.outbox_id in moved else "stale",
                        "error": None,
                        "started_at": o.started_at,
                        "finished_at": now,
                    }
                    for o in outcomes
                ],
            )
        for o in outcomes:
            if o.job.message is not None:
                result = "sent" if o.job.outbox_id in moved else "stale"
                metrics.deliveries.labels(str(o.job.message.channel), result).inc()

    def _apply(self, row: Outbox, outcome: DeliveryOutcome, now: datetime) -> str:
        """The attempt's result name; a success or a retry moves the row here, a final
        failure is left to `reply_undelivered` (the one failure path)."""
        if row.state != OutboxState.pending or row.leased_by != self.worker_id:
            # Our lease ran out and another worker took the row: it records its own result.
            return "stale"
        error = outcome.error
        if error is None:
            move(row, OutboxState.sent)
            row.lease_until = None
            row.leased_by = None
            row.sent_at = now
            row.last_error = None
            return "sent"
        if not error.retryable:
            return "failed"
        if row.attempts >= self.settings.max_attempts:
            return "dead"
        row.lease_until = None
        row.leased_by = None
        row.last_error = error.detail[:2000]
        delay = (
            error.retry_after
            if error.retry_after is not None
            else backoff_seconds(
                row.attempts, self.settings.backoff_base_seconds, self.settings.backoff_cap_seconds
            )
        )
        row.next_attempt_at = now + timedelta(seconds=delay)
        return "retry"
