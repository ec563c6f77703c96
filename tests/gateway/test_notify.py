"""Wake-ups go out only after commit, and across processes on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from gateway import notify
from gateway.notify import Notifier
from gateway.runtime import Runtime


async def test_signal_arrives_after_commit_only(runtime: Runtime, unique: str) -> None:
    # The channel is the database's: other work on it (ticket ids) may be heard too, so
    # this test's own signals carry names of their own.
    rolled_back, committed = f"rolled-back-{unique}", f"committed-{unique}"
    async with runtime.notifier.subscribe(notify.TICKETS) as queue:
        with pytest.raises(RuntimeError):
            async with runtime.sessionmaker.begin() as session:
                await runtime.notifier.publish(session, notify.TICKETS, rolled_back)
                raise RuntimeError("abort")
        async with runtime.sessionmaker.begin() as session:
            await runtime.notifier.publish(session, notify.TICKETS, committed)
        payloads = []
        while committed not in payloads:
            payloads.append(await asyncio.wait_for(queue.get(), 5))
        await asyncio.sleep(0.2)
        while not queue.empty():
            payloads.append(queue.get_nowait())
        assert payloads.count(committed) == 1 and rolled_back not in payloads


async def test_second_notifier_hears_the_first(runtime: Runtime, backend: str) -> None:
    """A separate Notifier stands in for another gateway process (its own connection)."""
    if backend == "sqlite":
        pytest.skip("SQLite serves one process; wake-ups are in-process there")
    other = Notifier(runtime.settings.database.url)
    try:
        async with other.subscribe(notify.WEBCHAT) as queue:
            async with runtime.sessionmaker.begin() as session:
                await runtime.notifier.publish(session, notify.WEBCHAT, "7")
            payload = ""
            while payload == "":
                payload = await asyncio.wait_for(queue.get(), 5)
            assert payload == "7"
    finally:
        await other.close()


async def test_wait_for_skips_other_payloads_takes_look_again_and_honours_stop() -> None:
    signals: asyncio.Queue[str] = asyncio.Queue()
    for payload in ("7", "8"):
        signals.put_nowait(payload)
    assert await notify.wait_for(signals, {"8"}, 1.0) is True
    assert signals.empty()  # "7" was not ours and is gone
    signals.put_nowait("7")
    assert await notify.wait_for(signals, lambda p: p == "9", 0.05) is False
    signals.put_nowait("")  # the listener reconnected: look again, whatever is awaited
    assert await notify.wait_for(signals, {"9"}, 1.0) is True
    signals.put_nowait("anything")
    assert await notify.wait_for(signals, None, 1.0) is True
    stop = asyncio.Event()
    stop.set()
    assert await notify.wait_for(signals, None, 5.0, stop=stop) is False
