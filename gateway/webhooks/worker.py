"""Webhook deliveries leave the outbox here, driven by the delivery worker's loop.

Same promises as replies: a row is leased (so one worker sends it), sent outside any
transaction, and its outcome recorded as it finishes. A worker killed mid-send leaves
the lease to run out and the delivery is sent again with the same `X-Parley-Delivery`,
so a receiver may see a delivery twice (only one in flight at the crash), never zero.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from gateway.clock import Clock
from gateway.runtime import Runtime
from gateway.webhooks import repository as repo
from gateway.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from gateway.webhooks.sender import SendResult, WebhookSender
from gateway.webhooks.signing import signature_header

log = structlog.get_logger()


@dataclass
class _Job:
    pk: int
    attempt: int
    url: str
    body: bytes
    headers: dict[str, str]
    skip: str | None = None  # why it is not sent (subscriber deactivated)


def active_secrets(sub: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets that sign right now: the current one, and the previous one while its
    rotation grace lasts."""
    secrets = [sub.secret]
    expires = sub.previous_secret_expires_at
    if sub.previous_secret and expires is not None and expires > now:
        secrets.append(sub.previous_secret)
    return secrets


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Capped exponential backoff, half of it random so retries spread out."""
    ceiling: float = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class WebhookDeliverer:
    def __init__(
        self,
        runtime: Runtime,
        worker_id: str,
        sender: WebhookSender | None = None,
        clock: Clock | None = None,
    ):
        self.runtime = runtime
        self.clock = clock or runtime.clock
        self.settings = runtime.settings.webhooks
        self.worker_id = worker_id
        self.sender = sender or WebhookSender(
            timeout_seconds=self.settings.timeout_seconds,
            allow_private=self.settings.allow_private,
        )

    async def run_once(self) -> int:
        """Lease one batch, send it, record each outcome; the number of rows handled."""
        jobs = await self._lease()
        if not jobs:
            return 0
        finished: asyncio.Queue[tuple[_Job, SendResult, datetime]] = asyncio.Queue()

        async def send(job: _Job) -> None:
            started = self.clock.now()
            if job.skip:
                result = SendResult("failed", error=job.skip)
            else:
                result = await self.sender.post(
                    job.url, job.body, job.headers, now=self.clock.now()
                )
            finished.put_nowait((job, result, started))

        senders = [asyncio.create_task(send(job)) for job in jobs]
        try:
            recorded = 0
            while recorded < len(jobs):
                batch = [await finished.get()]
                while not finished.empty():
                    batch.append(finished.get_nowait())
                await self._record(batch)
                recorded += len(batch)
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
        return len(jobs)

    async def _lease(self) -> list[_Job]:
        now = self.clock.now()
        async with self.runtime.sessionmaker.begin() as session:
            rows = await repo.lease_due(
                session,
                worker=self.worker_id,
                now=now,
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch_size,
            )
            subs = await repo.subscriptions(session, (r.subscription_id for r in rows))
        return [self._job(row, subs[row.subscription_id], now) for row in rows]

    def _job(self, row: WebhookDelivery, sub: WebhookSubscription, now: datetime) -> _Job:
        assert row.id is not None
        body = row.body.encode()
        headers = {
            "Content-Type": "application/json",
            "X-Parley-Event": row.event_type,
            "X-Parley-Delivery": row.delivery_id,
            "X-Parley-Attempt": str(row.attempts),
            "X-Parley-Signature": signature_header(
                active_secrets(sub, now), int(now.timestamp()), body
            ),
        }
        skip = None if sub.active else "the subscriber was deactivated"
        return _Job(row.id, row.attempts, sub.url, body, headers, skip)

    async def _record(self, batch: list[tuple[_Job, SendResult, datetime]]) -> None:
        now = self.clock.now()
        async with self.runtime.sessionmaker.begin() as session:
            rows = await repo.lock_deliveries(session, (job.pk for job, _, _ in batch))
            for job, result, started in batch:
                row = rows.get(job.pk)
                if row is None:
                    continue
                outcome = self._apply(row, job, result, now)
                session.add(
                    WebhookAttempt(
                        delivery_pk=job.pk,
                        attempt=job.attempt,
                        worker=self.worker_id,
                        result=outcome,
                        status_code=result.status_code,
                        error=result.error[:2000] if result.error else None,
                        started_at=started,
                        finished_at=now,
                    )
                )
                if outcome in ("failed", "dead"):
                    log.warning(
                        "webhooks.delivery_failed",
                        delivery=row.delivery_id,
                        status=outcome,
                        error=result.error,
                    )

    def _apply(self, row: WebhookDelivery, job: _Job, result: SendResult, now: datetime) -> str:
        """Move the row to its next state; the attempt's result name."""
        if (
            row.status != DeliveryStatus.pending
            or row.leased_by != self.worker_id
            or row.attempts != job.attempt
        ):
            return "stale"  # our lease ran out and another worker took the row
        row.lease_until = None
        row.leased_by = None
        row.last_status_code = result.status_code
        if result.outcome == "sent":
            row.status = DeliveryStatus.sent
            row.sent_at = now
            row.last_error = None
            return "sent"
        row.last_error = (result.error or "unknown")[:2000]
        if result.outcome == "failed":
            row.status = DeliveryStatus.failed
            return "failed"
        if row.attempts >= self.settings.max_attempts:
            row.status = DeliveryStatus.dead
            return "dead"
        if result.retry_after is not None:
            delay = min(result.retry_after, self.settings.max_retry_after_seconds)
        else:
            delay = backoff_seconds(
                row.attempts, self.settings.backoff_base_seconds, self.settings.backoff_cap_seconds
            )
        row.next_attempt_at = now + timedelta(seconds=delay)
        return "retry"

    async def close(self) -> None:
        await self.sender.close()
