"""Telegram's send limits, held by every gateway process together through the database.

Each send reserves a time slot before it goes out: in one short transaction it locks two
`system_state` rows (this chat's and the global one, always in key order, so two
reservations can never deadlock), takes the later of "now", the chat's next free time
and the global next free time, and pushes both forward by their interval. The sender
then sleeps until its slot. Times are the database's clock, so processes on hosts with
skewed clocks still agree.

Telegram counts a message when it reaches Telegram, which can be long after the slot: a
slow uplink, a busy event loop between the slot and the socket write. So just before the
call the sender also claims the chat (again under row locks) and holds it while the call
is in flight; the chat is free again one per-chat interval after that call *returned*.
The next message to a chat therefore leaves only after the previous one has arrived,
plus the interval, however late it arrived. A process that dies mid-send leaves its hold
to run out after `IN_FLIGHT_SECONDS`.

The claim also holds the global limit as Telegram does, over any one second: it keeps
the start times of the last `global_per_second` sends and lets a send go only when the
oldest of them is a second old (and a little more, for the calls' latency), and it
keeps any two sends at least half a global interval apart. Above `MAX_WINDOW_STARTS` a
second (a Bot API server of one's own, or limits set out of the way), it keeps that
many over the matching fraction of a second, which holds the same rate. Senders that woke late (a
stalled process) catch up on the reserved pace, but cannot bunch into a second above
the limit.

The limiter's own transactions commit without waiting for the disk (PostgreSQL's
`synchronous_commit = off`, for them alone): a slot is taken at the clock read before
the commit, so a commit's flush (milliseconds, and far more on a busy disk) was spent
holding the global row and delayed the send after its recorded start, which is the
jitter the window's slack has to absorb. What a database crash can lose this way is the
last fraction of a second of pacing state, and a restart takes longer than the second
it paces; the release rides in the delivery's own transaction, which stays durable.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from channels.telegram import metrics
from gateway.channel_ports import ChannelPorts, StateStore

log = structlog.get_logger()

GLOBAL_KEY = "telegram.rate.global"
CHAT_KEY = "telegram.rate.chat:"
# The starts of the last sends in total (space-separated, newest last); and per chat,
# when the chat may next be sent to (a far time while a send to it is in flight).
SENT_GLOBAL_KEY = "telegram.sent.global"
SENT_CHAT_KEY = "telegram.sent.chat:"
# Telegram counts arrivals, which differ from the starts by each call's latency: the
# one-second window is held this much longer, so a few milliseconds cannot tip one over.
WINDOW_SLACK = 1.05
# Starts kept for the window: a bound on the row, which every claim reads and rewrites.
MAX_WINDOW_STARTS = 100
# Longer than any send can take (the bot's read timeout is 30 s, plus connect and write).
IN_FLIGHT_SECONDS = 60.0


class SendLimiter:
    """Paces sends: at most `global_per_second` in total and `per_chat_per_second` a chat."""

    def __init__(
        self,
        ports: ChannelPorts,
        *,
        global_per_second: float,
        per_chat_per_second: float,
    ) -> None:
        self.sessionmaker = ports.sessionmaker
        self.state: StateStore = ports.state
        self.chat_interval = 1.0 / per_chat_per_second
        # While another send to the chat is in flight, look again this often.
        self.in_flight_poll = self.chat_interval / 4
        # Telegram's limit holds over any one second: at most this many starts in one.
        self.window_starts = min(max(1, int(global_per_second)), MAX_WINDOW_STARTS)
        self.window_seconds = self.window_starts / global_per_second * WINDOW_SLACK
        # Reservations pace the average at the window's own rate: any faster (they ran
        # 1 % under the allowed rate, 4 % over the window's) and, once the window is
        # full, every sender on time found it a few milliseconds short and paid one
        # more claim and one more wake-up.
        self.global_interval = self.window_seconds / self.window_starts
        # The check right before a send only stops bursts (two sends closer than half an
        # interval). Holding it to the full interval turned every late wake-up into one
        # more wait, and the waits added up: 20/s drained where 30/s were allowed.
        self.global_min_gap = self.global_interval / 2

    async def acquire(self, chat_id: str) -> None:
        """Return when a message to `chat_id` may be sent now; `release` it after the
        call, or `release_in` the transaction that records the send."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        slot, now, local_now = await self.reserve(chat_id)
        await asyncio.sleep(max(0.0, slot - now - (loop.time() - local_now)))
        # The reservation orders senders; the claim makes the spacing exact even when a
        # sender woke late (a busy process), at the cost of waiting a little longer.
        while (wait := await self.claim(chat_id)) > 0:
            metrics.slots_missed.inc()
            await asyncio.sleep(wait)
        metrics.send_wait_seconds.observe(loop.time() - started)

    async def claim(self, chat_id: str) -> float:
        """Take the right to send to `chat_id` now (returns 0), or say how long to wait."""
        chat_key, global_key = SENT_CHAT_KEY + chat_id, SENT_GLOBAL_KEY
        async with self.sessionmaker.begin() as session:
            await self.state.ensure(session, [chat_key, global_key], "0")
            rows = await self.state.get_many(session, [chat_key, global_key], for_update=True)
            now = await db_now(session, pacing_only=True)
            chat_free = float(rows[chat_key])
            starts = [float(t) for t in rows[global_key].split()][-self.window_starts :]
            wait = max(chat_free - now, starts[-1] + self.global_min_gap - now)
            if len(starts) == self.window_starts:
                wait = max(wait, starts[0] + self.window_seconds - now)
            if wait > 0:
                # A hold runs far ahead; its release brings the chat's time back.
                return min(wait, self.in_flight_poll) if wait > self.chat_interval else wait
            await self._set(session, chat_key, now + IN_FLIGHT_SECONDS)
            starts = [*starts, now][-self.window_starts :]
            await self.state.put(session, global_key, " ".join(map(repr, starts)))
        return 0.0

    async def release(self, chat_id: str) -> None:
        """The send to `chat_id` returned (delivered or not): the chat is free again one
        interval from now."""
        async with self.sessionmaker.begin() as session:
            await self.release_in(session, chat_id)

    async def release_in(self, session: AsyncSession, chat_id: str) -> None:
        """`release` in the caller's transaction (the one that records the send), which
        the chat's next claim waits for: only this send's sender writes the chat's row
        while it holds the chat."""
        await self._set(
            session, SENT_CHAT_KEY + chat_id, await db_now(session) + self.chat_interval
        )

    async def reserve(self, chat_id: str) -> tuple[float, float, float]:
        """Book the next free slot for `chat_id`: (slot, now) in database epoch seconds,
        and this loop's clock at `now`."""
        chat_key = CHAT_KEY + chat_id
        async with self.sessionmaker.begin() as session:
            await self.state.ensure(session, [chat_key, GLOBAL_KEY], "0")
            rows = await self.state.get_many(session, [chat_key, GLOBAL_KEY], for_update=True)
            free = {key: float(value) for key, value in rows.items()}
            # Read the clock only once the locks are ours: waiting for them is not lateness.
            now = await db_now(session, pacing_only=True)
            local_now = asyncio.get_running_loop().time()
            slot = max(now, free[chat_key], free[GLOBAL_KEY])
            await self._set(session, chat_key, slot + self.chat_interval)
            await self._set(session, GLOBAL_KEY, slot + self.global_interval)
        return slot, now, local_now

    async def _set(self, session: AsyncSession, key: str, value: float) -> None:
        await self.state.put(session, key, repr(value))

    async def hold_chat(self, chat_id: str, seconds: float) -> None:
        """Keep every process off this chat for `seconds` (Telegram's retry_after)."""
        chat_key = CHAT_KEY + chat_id
        async with self.sessionmaker.begin() as session:
            now = await db_now(session, pacing_only=True)
            await self.state.ensure(session, [chat_key], "0")
            current = (await self.state.get_many(session, [chat_key], for_update=True)).get(
                chat_key
            )
            await self._set(session, chat_key, max(float(current or 0.0), now + seconds))


async def db_now(session: AsyncSession, *, pacing_only: bool = False) -> float:
    """The database's clock; `pacing_only`: this transaction writes nothing but pacing
    state, and its commit need not wait for the disk (see the module's doc)."""
    if session.get_bind().dialect.name == "postgresql":
        now = sa.extract("epoch", sa.func.clock_timestamp())
        if pacing_only:
            row = (
                await session.execute(
                    sa.select(now, sa.func.set_config("synchronous_commit", "off", True))
                )
            ).one()
            return float(row[0])
        value = await session.scalar(sa.select(now))
        assert value is not None  # clock_timestamp() is never NULL
        return float(value)
    # SQLite lives on this host: its clock is ours.
    return time.time()
