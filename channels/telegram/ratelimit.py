"""Telegram's send limits, held by every gateway process together through the database.

Each send reserves a time slot before it goes out: in one short transaction it locks two
`system_state` rows (this chat's and the global one, always in key order, so two
reservations can never deadlock), takes the later of "now", the chat's next free time
and the global next free time, and pushes both forward by their interval. The sender
then sleeps until its slot. Times are the database's clock, so processes on hosts with
skewed clocks still agree; a sender that wakes later than `MAX_LATENESS` gives its slot
up and reserves again, which bounds how close two sends can drift together.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.telegram import metrics
from gateway.db import utcnow
from gateway.system.models import SystemState

log = structlog.get_logger()

GLOBAL_KEY = "telegram.rate.global"
CHAT_KEY = "telegram.rate.chat:"
# Added to each interval: room for sleep overshoot and HTTP latency differences.
GUARD_SECONDS = 0.2
MAX_LATENESS = 0.05


class SendLimiter:
    """Paces sends: at most `global_per_second` in total and `per_chat_per_second` a chat."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        global_per_second: float,
        per_chat_per_second: float,
    ):
        self.sessionmaker = sessionmaker
        self.global_interval = 1.0 / global_per_second * 1.1
        self.chat_interval = 1.0 / per_chat_per_second + GUARD_SECONDS

    async def acquire(self, chat_id: str) -> None:
        """Return when a message to `chat_id` may be sent now."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            slot, now, local_now = await self.reserve(chat_id)
            delay = max(0.0, slot - now)
            await asyncio.sleep(max(0.0, delay - (loop.time() - local_now)))
            if loop.time() - local_now - delay <= MAX_LATENESS:
                metrics.send_wait_seconds.observe(loop.time() - started)
                return
            metrics.slots_missed.inc()
            log.debug("telegram.send_slot_missed", chat=chat_id)

    async def reserve(self, chat_id: str) -> tuple[float, float, float]:
        """Book the next free slot for `chat_id`: (slot, now) in database epoch seconds,
        and this loop's clock at `now`."""
        chat_key = CHAT_KEY + chat_id
        async with self.sessionmaker.begin() as session:
            await _ensure_rows(session, [chat_key, GLOBAL_KEY])
            rows = await session.execute(
                sa.select(SystemState.key, SystemState.value)
                .where(SystemState.key.in_([chat_key, GLOBAL_KEY]))
                .order_by(SystemState.key)
                .with_for_update()
            )
            free = {key: float(value) for key, value in rows.all()}
            # Read the clock only once the locks are ours: waiting for them is not lateness.
            now = await _db_now(session)
            local_now = asyncio.get_running_loop().time()
            slot = max(now, free[chat_key], free[GLOBAL_KEY])
            await _set(session, chat_key, slot + self.chat_interval)
            await _set(session, GLOBAL_KEY, slot + self.global_interval)
        return slot, now, local_now

    async def hold_chat(self, chat_id: str, seconds: float) -> None:
        """Keep every process off this chat for `seconds` (Telegram's retry_after)."""
        chat_key = CHAT_KEY + chat_id
        async with self.sessionmaker.begin() as session:
            now = await _db_now(session)
            await _ensure_rows(session, [chat_key])
            current = await session.scalar(
                sa.select(SystemState.value).where(SystemState.key == chat_key).with_for_update()
            )
            await _set(session, chat_key, max(float(current or 0.0), now + seconds))


async def _db_now(session: AsyncSession) -> float:
    if session.bind.dialect.name == "postgresql":
        value = await session.scalar(sa.select(sa.extract("epoch", sa.func.clock_timestamp())))
        return float(value)
    # SQLite lives on this host: its clock is ours.
    return time.time()


async def _ensure_rows(session: AsyncSession, keys: list[str]) -> None:
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SystemState).values(
        [{"key": key, "value": "0", "updated_at": utcnow()} for key in keys]
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))


async def _set(session: AsyncSession, key: str, value: float) -> None:
    await session.execute(
        sa.update(SystemState)
        .where(SystemState.key == key)
        .values(value=repr(value), updated_at=utcnow())
    )
