"""Telegram's send limits, held by every gateway process together through the database.

Telegram counts a message when it reaches Telegram: at most `global_per_second` in any
one second in total, and one a chat per `1 / per_chat_per_second`. A call reaches it
somewhere between the moment the sender took the right to send and the moment the call
returned, and under load that can be hundreds of milliseconds after the start (a slow
uplink, a busy event loop between the claim and the socket write). So the limiter
counts every send at the one time it knows to be after its arrival: its return.

The counting rule. The global window row keeps one time a send, for the last
`window_starts` sends: while a send is in flight, its hold (the start plus
`IN_FLIGHT_SECONDS`, written negated); once it returned (delivered or not), the
database's clock read after the return (less the time this process measured between the
return and that read, so a release that waited for a connection counts no longer). A
send counts against the limit from its start until `limit_seconds` after its return
(`window_starts / global_per_second`: one second at 30/s); a new send may start only
while fewer than `window_starts` sends count. Then no one second can hold more arrivals
than that: of any `window_starts + 1` sends arriving inside one second, the last to
start found each of the others either in flight or returned less than a second before
(each returned after it arrived, so within the second), and was refused. This holds
across processes and hosts, since every time is read from the database's one clock, and
needs no slack for the calls' latency; the price is that latency: a send holds its place
for one second plus its round trip, so the limiter runs near `global_per_second / (1 +
round trip)`. A process that dies mid-send leaves its send counting until the hold runs
out. A chat works the same way: the claim holds it while the call is in flight, and it
is free again one per-chat interval after that call returned.

Before the claim, each send reserves a time slot in one short transaction: it locks
this chat's and the global reservation rows (always in key order, so two transactions
can never deadlock), takes the earliest time at or after "now" that keeps the chat's
interval and puts at most `window_starts` slots in any `window_seconds` (the window a
little longer than `limit_seconds`, so that a sender waking on its slot usually finds
the claim's window free), and at least half an interval after the last slot. The
sender then sleeps until its slot and claims. After a pause (the outbox worker between
two batches) the slots catch up at twice the steady rate until the window is full,
instead of losing the pause. The claim makes the limit exact; the reservation only
orders the senders so that few of them claim in vain.

The limiter's own transactions commit without waiting for the disk (PostgreSQL's
`synchronous_commit = off`, for them alone): a commit's flush (milliseconds, and far
more on a busy disk) would be spent holding the global rows. What a database crash can
lose this way is the last fraction of a second of pacing state, and a restart takes
longer than the second it paces. The release of a delivered send rides in the
delivery's own transaction (the one that records its progress), which stays durable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from channels.telegram import metrics
from gateway.channel_ports import ChannelPorts, StateStore

log = structlog.get_logger()

GLOBAL_KEY = "telegram.rate.global"
CHAT_KEY = "telegram.rate.chat:"
# Reservations: the last slots booked in total (space-separated, newest last), and per
# chat, the chat's next free slot.
# The claim's window: a time per send (its return, or its hold negated while in flight,
# ordered by time), and per chat, when the chat may next be sent to (its hold while a
# send to it is in flight).
SENT_GLOBAL_KEY = "telegram.sent.global"
SENT_CHAT_KEY = "telegram.sent.chat:"
# Reservations keep their window this much longer than the limit's, for the calls'
# round trips: a sender that wakes on its slot then finds the claim's window free.
WINDOW_SLACK = 1.05
# Sends kept in the window: a bound on the row, which every claim reads and rewrites.
MAX_WINDOW_STARTS = 100
# Longer than any send can take (the bot's read timeout is 30 s, plus connect and write).
IN_FLIGHT_SECONDS = 60.0


class Clock(Protocol):
    """The pacing clock: epoch seconds, read in the caller's transaction (`db_now`)."""

    def __call__(self, session: AsyncSession, *, pacing_only: bool = False) -> Awaitable[float]: ...


class SendLimiter:
    """Paces sends: at most `global_per_second` in total and `per_chat_per_second` a chat."""

    def __init__(
        self,
        ports: ChannelPorts,
        *,
        global_per_second: float,
        per_chat_per_second: float,
        clock: Clock | None = None,
    ) -> None:
        self.sessionmaker = ports.sessionmaker
        self.clock: Clock = clock or db_now
        self.state: StateStore = ports.state
        self.chat_interval = 1.0 / per_chat_per_second
        # While another send to the chat is in flight, look again this often.
        self.in_flight_poll = self.chat_interval / 4
        # Telegram's limit holds over any one second: at most this many in one. Above
        # MAX_WINDOW_STARTS a second, that many over the matching fraction of a second.
        self.window_starts = min(max(1, int(global_per_second)), MAX_WINDOW_STARTS)
        self.limit_seconds = self.window_starts / global_per_second
        self.window_seconds = self.limit_seconds * WINDOW_SLACK
        # The steady spacing of the reservations, and the closest any two may be.
        self.global_interval = self.window_seconds / self.window_starts
        self.global_min_gap = self.global_interval / 2
        # The claim stops only bursts of senders that all woke late (a stalled process):
        # holding it to the reservations' own gap made every sender on a catch-up slot
        # that woke a little later than the one before claim twice.
        self.claim_min_gap = self.global_min_gap / 2

    async def acquire(self, chat_id: str) -> None:
        """Return when a message to `chat_id` may be sent now; `release` it after the
        call, or `release_in` the transaction that records the send."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        slot, now, local_now = await self.reserve(chat_id)
        await asyncio.sleep(max(0.0, slot - now - (loop.time() - local_now)))
        # The reservation orders senders; the claim makes the limit exact even when a
        # sender woke late or a call took long, at the cost of waiting a little longer.
        while (wait := await self.claim(chat_id)) > 0:
            metrics.slots_missed.inc()
            await asyncio.sleep(wait)
        metrics.send_wait_seconds.observe(loop.time() - started)

    async def claim(self, chat_id: str) -> float:
        """Take the right to send to `chat_id` now (returns 0), or say how long to wait."""
        chat_key, global_key = SENT_CHAT_KEY + chat_id, SENT_GLOBAL_KEY
        async with self.sessionmaker.begin() as session:
            rows = await self._locked(session, [chat_key, global_key])
            now = await self.clock(session, pacing_only=True)
            wait = float(rows[chat_key]) - now
            if wait > 0:
                # A hold runs far ahead; its release brings the chat's time back.
                return min(wait, self.in_flight_poll) if wait > self.chat_interval else wait
            times = [float(t) for t in rows[global_key].split()]
            holds = [-t for t in times if t < 0]
            if holds:
                wait = max(holds) - IN_FLIGHT_SECONDS + self.claim_min_gap - now
            counting = sorted(t for t in map(abs, times) if t + self.limit_seconds > now)
            if len(counting) >= self.window_starts:
                # The send that stops counting first: a return, or one still in flight
                # (its release is due any moment: look again soon).
                frees = counting[0] + self.limit_seconds - now
                wait = max(wait, frees if counting[0] <= now else self.global_interval)
            if wait > 0:
                return wait
            hold = repr(now + IN_FLIGHT_SECONDS)
            await self.state.put(session, chat_key, hold)
            # By time, newest last; the counting ones are the newest, so keeping the last
            # `window_starts` keeps all of them.
            kept = sorted([*rows[global_key].split(), "-" + hold], key=lambda t: abs(float(t)))
            await self.state.put(session, global_key, " ".join(kept[-self.window_starts :]))
        return 0.0

    async def release(self, chat_id: str) -> None:
        """The send to `chat_id` returned (delivered or not): it counts from now until
        the window's span, and the chat is free again one interval from now."""
        async with self.sessionmaker.begin() as session:
            await self.release_in(session, chat_id, pacing_only=True)

    async def release_in(
        self,
        session: AsyncSession,
        chat_id: str,
        *,
        pacing_only: bool = False,
        returned_at: float | None = None,
    ) -> None:
        """`release` in the caller's transaction (the one that records the send), which
        the chat's next claim waits for: only this send's sender writes the chat's row
        while it holds the chat. `returned_at`: this loop's clock when the call
        returned, if that was a while ago (the transaction waited for a connection)."""
        chat_key = SENT_CHAT_KEY + chat_id
        rows = await self.state.get_many(session, [chat_key, SENT_GLOBAL_KEY], for_update=True)
        loop = asyncio.get_running_loop()
        before = loop.time()
        now = await self.clock(session, pacing_only=pacing_only)
        if returned_at is not None:
            # The database's clock at the return, or a little after: the time that passed
            # since, measured before the clock was read, can only be shorter than that.
            now -= max(0.0, before - returned_at)
        await self._set(session, chat_key, now + self.chat_interval)
        times = rows.get(SENT_GLOBAL_KEY, "").split()
        held = "-" + rows.get(chat_key, "")
        if held in times:
            times[times.index(held)] = repr(now)
            await self.state.put(session, SENT_GLOBAL_KEY, " ".join(times))

    async def reserve(self, chat_id: str) -> tuple[float, float, float]:
        """Book the next free slot for `chat_id`: (slot, now) in database epoch seconds,
        and this loop's clock at `now`."""
        chat_key = CHAT_KEY + chat_id
        async with self.sessionmaker.begin() as session:
            rows = await self._locked(session, [chat_key, GLOBAL_KEY])
            # Read the clock only once the locks are ours: waiting for them is not lateness.
            now = await self.clock(session, pacing_only=True)
            local_now = asyncio.get_running_loop().time()
            slots = [float(t) for t in rows[GLOBAL_KEY].split()][-self.window_starts :]
            slot = max(now, float(rows[chat_key]), slots[-1] + self.global_min_gap)
            if len(slots) == self.window_starts:
                slot = max(slot, slots[0] + self.window_seconds)
            await self._set(session, chat_key, slot + self.chat_interval)
            kept = [*slots, slot][-self.window_starts :]
            await self.state.put(session, GLOBAL_KEY, " ".join(map(repr, kept)))
        return slot, now, local_now

    async def _locked(self, session: AsyncSession, keys: list[str]) -> dict[str, str]:
        """Lock the rows of `keys`, created ("0") on first use. Created before any lock
        is taken: locking first and creating the missing ones after lets two senders to
        one new chat each hold the row the other waits for."""
        await self.state.ensure(session, keys, "0")
        return await self.state.get_many(session, keys, for_update=True)

    async def _set(self, session: AsyncSession, key: str, value: float) -> None:
        await self.state.put(session, key, repr(value))

    async def hold_chat(self, chat_id: str, seconds: float) -> None:
        """Keep every process off this chat for `seconds` (Telegram's retry_after)."""
        chat_key = CHAT_KEY + chat_id
        async with self.sessionmaker.begin() as session:
            now = await self.clock(session, pacing_only=True)
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
