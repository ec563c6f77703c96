"""The limiter's counting rule on a clock the test moves (the rows are the real ones)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from channels.telegram.ratelimit import GLOBAL_KEY, IN_FLIGHT_SECONDS, SENT_GLOBAL_KEY, SendLimiter
from tests.channels.telegram.conftest import Telegram, new_chat


@dataclass
class FakeClock:
    """Epoch seconds long past, so what these tests leave in the shared rows is stale to
    every limiter on the database's clock."""

    now: float = 1000.0

    async def __call__(self, session: AsyncSession, *, pacing_only: bool = False) -> float:
        return self.now


@pytest.fixture
async def clocked(tg: Telegram) -> AsyncIterator[tuple[SendLimiter, FakeClock]]:
    """A limiter at 30/s in total, 1/s a chat, on a clock of the test's, over windows
    emptied for it (and put back after)."""
    keys = [SENT_GLOBAL_KEY, GLOBAL_KEY]
    async with tg.runtime.sessionmaker.begin() as session:
        saved = await tg.runtime.state.get_many(session, keys)
        for key in keys:
            await tg.runtime.state.put(session, key, "0")
    clock = FakeClock()
    try:
        limiter = SendLimiter(tg.runtime, global_per_second=30, per_chat_per_second=1, clock=clock)
        yield limiter, clock
    finally:
        async with tg.runtime.sessionmaker.begin() as session:
            for key in keys:
                await tg.runtime.state.put(session, key, saved.get(key, "0"))


async def test_a_send_counts_from_its_return_not_its_start(
    clocked: tuple[SendLimiter, FakeClock],
) -> None:
    """A call can reach Telegram any time before it returns: the window counts each send
    until a second after its return, however long before that it started."""
    limiter, clock = clocked
    chats = [str(new_chat()) for _ in range(limiter.window_starts)]
    for chat in chats:
        assert await limiter.claim(chat) == 0.0
        clock.now += 0.02  # past the least gap two starts keep
    clock.now = 1000.7
    for chat in chats:
        await limiter.release(chat)  # slow calls: every one returned at 1000.7
    # Every start is over a second old; a window of starts would let the next one go.
    clock.now = 1001.6
    assert await limiter.claim(str(new_chat())) == pytest.approx(0.1)
    clock.now = 1001.7
    assert await limiter.claim(str(new_chat())) == 0.0


async def test_sends_in_flight_count_until_their_hold_runs_out(
    clocked: tuple[SendLimiter, FakeClock],
) -> None:
    """A full window of calls still in flight holds the next send back however long ago
    they started, and stops counting only when their holds run out (a process that died
    mid-send)."""
    limiter, clock = clocked
    for _ in range(limiter.window_starts):
        assert await limiter.claim(str(new_chat())) == 0.0
        clock.now += 0.02  # past the least gap two starts keep
    clock.now = 1030.0
    assert await limiter.claim(str(new_chat())) > 0
    clock.now = 1000.0 + IN_FLIGHT_SECONDS + limiter.limit_seconds + 1.0
    assert await limiter.claim(str(new_chat())) == 0.0


async def test_one_return_frees_one_place_a_second_later(
    clocked: tuple[SendLimiter, FakeClock],
) -> None:
    limiter, clock = clocked
    chats = [str(new_chat()) for _ in range(limiter.window_starts)]
    for chat in chats:
        assert await limiter.claim(chat) == 0.0
        clock.now += 0.02  # past the least gap two starts keep
    await limiter.release(chats[5])  # returned at 1000.6; the others still in flight
    clock.now = 1001.0
    assert await limiter.claim(str(new_chat())) == pytest.approx(0.6)
    clock.now = 1001.6
    assert await limiter.claim(str(new_chat())) == 0.0
    # That place is taken again, and the rest are still in flight.
    clock.now = 1001.7
    assert await limiter.claim(str(new_chat())) == pytest.approx(limiter.global_interval)


async def test_reservations_catch_up_after_a_pause(
    clocked: tuple[SendLimiter, FakeClock],
) -> None:
    """The outbox worker pauses between batches: the next batch's slots start at once and
    come half an interval apart until the window is full, instead of losing the pause;
    then at the window's pace."""
    limiter, clock = clocked
    steady = [(await limiter.reserve(str(new_chat())))[0] for _ in range(limiter.window_starts * 2)]
    assert steady[0] == clock.now
    gaps = [b - a for a, b in itertools.pairwise(steady)]
    assert gaps[: limiter.window_starts - 1] == pytest.approx(
        [limiter.global_min_gap] * (limiter.window_starts - 1)
    )
    assert steady[limiter.window_starts] == pytest.approx(steady[0] + limiter.window_seconds)
    # A pause: the whole window is past when the next batch books.
    clock.now = steady[-1] + limiter.window_seconds
    after = [(await limiter.reserve(str(new_chat())))[0] for _ in range(3)]
    assert after[0] == clock.now
    assert after[2] - after[1] == pytest.approx(limiter.global_min_gap)


async def test_a_release_that_waited_counts_the_send_from_the_calls_return(
    tg: Telegram, clocked: tuple[SendLimiter, FakeClock]
) -> None:
    """The delivery's transaction can wait a while after the call returned (a busy event
    loop, no free connection): the send counts from the return, not from that wait."""
    limiter, clock = clocked
    chats = [str(new_chat()) for _ in range(limiter.window_starts)]
    for chat in chats:
        assert await limiter.claim(chat) == 0.0
        clock.now += 0.02
    clock.now = 1001.0
    returned_at = asyncio.get_running_loop().time() - 0.5
    for chat in chats:
        async with tg.runtime.sessionmaker.begin() as session:
            await limiter.release_in(session, chat, returned_at=returned_at)
    # Returned at 1000.5 at the latest: free a second after that, not after 1001.0.
    clock.now = 1001.5
    assert await limiter.claim(str(new_chat())) == 0.0
