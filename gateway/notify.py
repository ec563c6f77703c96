"""Cross-process wake-ups: "something changed, look again", never the data itself.

On PostgreSQL `publish()` collects the signals of the caller's transaction and sends
them in one `pg_notify` statement just before its COMMIT, so they go out at commit (and
never for a rolled-back change) to every gateway process sharing the database; one
dedicated asyncpg connection per process LISTENs and fans out
to local subscribers. On SQLite (one process) the signal is dispatched in-process after
commit. Payloads carry ids only; a subscriber always re-reads the database, so a lost
or coalesced signal costs latency, never correctness (long polls also re-check on a
timer).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

import asyncpg
import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.db import is_sqlite
from gateway.topics import AGENTS, MESSAGES, OUTBOX, TICKETS, TOPICS, WEBCHAT, WEBHOOKS

__all__ = [
    "AGENTS",
    "MESSAGES",
    "OUTBOX",
    "TICKETS",
    "TOPICS",
    "WEBCHAT",
    "WEBHOOKS",
    "Notifier",
    "wait_for",
]

log = structlog.get_logger()

_PENDING_KEY = "parley_pending_notifications"


@functools.cache
def _signals(count: int) -> sa.Select[Any]:
    """The statement that sends `count` signals, built once (every ingest and claim sends
    one before its COMMIT; building and keying it anew each time cost more than running
    it), run as Core on the transaction's connection."""
    return sa.select(
        *(
            sa.func.pg_notify(
                sa.bindparam(f"t_{n}", type_=sa.String), sa.bindparam(f"p_{n}", type_=sa.String)
            )
            for n in range(count)
        )
    )


class Notifier:
    def __init__(self, database_url: str):
        self._url = database_url
        self._local = is_sqlite(database_url)
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self._callbacks: dict[str, list[Callable[[str], None]]] = defaultdict(list)
        self._listener: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._live: asyncpg.Connection | None = None

    async def publish(self, session: AsyncSession, topic: str, payload: str) -> None:
        """Signal `topic` once the session's transaction commits. Every signal of one
        transaction goes out in one statement just before its COMMIT (PostgreSQL), or
        is dispatched in-process after it (SQLite); the same signal twice goes once."""
        pending: list[tuple[str, str]] | None = session.info.get(_PENDING_KEY)
        if pending is None:
            pending = session.info[_PENDING_KEY] = []
            sync_session = session.sync_session

            def before_commit(s: Session) -> None:
                items = list(dict.fromkeys(s.info.pop(_PENDING_KEY, [])))
                if items:
                    params: dict[str, str] = {}
                    for n, (topic, payload) in enumerate(items):
                        params[f"t_{n}"], params[f"p_{n}"] = topic, payload
                    s.connection().execute(_signals(len(items)), params)

            def after_commit(_s: Any) -> None:
                for item in dict.fromkeys(session.info.pop(_PENDING_KEY, [])):
                    self._dispatch(*item)

            def after_rollback(_s: Any, _previous: Any) -> None:
                session.info.pop(_PENDING_KEY, None)

            if self._local:
                event.listen(sync_session, "after_commit", after_commit, once=True)
            else:
                event.listen(sync_session, "before_commit", before_commit, once=True)
            event.listen(sync_session, "after_soft_rollback", after_rollback, once=True)
        pending.append((topic, payload))

    def carry(self, session: AsyncSession) -> list[sa.ColumnElement[Any]]:
        """The signals published so far in the session's transaction, as `pg_notify`
        columns for a statement the caller runs next, instead of the statement before
        COMMIT (PostgreSQL; [] on SQLite, which dispatches after commit). Queued by that
        statement, delivered at commit like the rest, never after a rollback."""
        pending: list[tuple[str, str]] | None = session.info.get(_PENDING_KEY)
        if self._local or not pending:
            return []
        items = list(dict.fromkeys(pending))
        pending.clear()  # the hooks stay: a later signal still goes before COMMIT
        return [sa.func.pg_notify(t, p) for t, p in items]

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue that receives the payloads of `topic` while the block runs."""
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}")
        await self._ensure_listening()
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)

    @property
    def local(self) -> bool:
        """Signals stay in this process (SQLite)."""
        return self._local

    @property
    def listening(self) -> bool:
        """True while this process hears other processes' signals: always on SQLite (there
        are none), on PostgreSQL while the LISTEN connection is up."""
        return self._local or self._connected.is_set()

    def on_signal(
        self, topic: str, callback: Callable[[str], None], *, listen: bool = True
    ) -> None:
        """Call `callback(payload)` for every signal of `topic`, synchronously as it
        arrives ("" after a reconnect: signals may have been missed), and start
        listening if this process does not yet (unless `listen` is false: then the
        callback hears signals once something else starts the listener, and `listening`
        tells whether it does)."""
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}")
        self._callbacks[topic].append(callback)
        if not listen:
            return
        if not self._local and (self._listener is None or self._listener.done()):
            self._connected.clear()
            self._listener = asyncio.create_task(self._listen(), name="notify-listener")

    @staticmethod
    async def wait_for(
        signals: asyncio.Queue[str],
        match: Callable[[str], bool] | Collection[str] | None,
        seconds: float,
        *,
        stop: asyncio.Event | None = None,
    ) -> bool:
        """Wait up to `seconds` for a signal of the topic `signals` was subscribed
        to (`subscribe(topic)`, entered before the caller's first read, so nothing
        committed in between is missed) whose payload `match` accepts: a predicate, a
        set of payloads, or None for any. An empty payload ("look again": the listener
        reconnected, signals may be lost) always matches. True when one came; False on
        timeout or when `stop` is set. Other payloads are consumed and skipped."""
        if match is None:
            accepts: Callable[[str], bool] = lambda _payload: True  # noqa: E731
        elif callable(match):
            accepts = match
        else:
            wanted = frozenset(match)
            accepts = wanted.__contains__

        async def matching() -> None:
            while True:
                payload = await signals.get()
                if payload == "" or accepts(payload):
                    return

        waiter = asyncio.ensure_future(matching())
        waiting: set[asyncio.Future[Any]] = {waiter}
        if stop is not None:
            waiting.add(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            return waiter.done() and not waiter.cancelled() and waiter.exception() is None
        finally:
            for future in waiting:
                future.cancel()

    def _dispatch(self, topic: str, payload: str) -> None:
        for callback in self._callbacks.get(topic, ()):
            callback(payload)
        for queue in list(self._subscribers.get(topic, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(payload)

    async def _ensure_listening(self) -> None:
        if self._local:
            return
        if self._listener is None or self._listener.done():
            self._connected.clear()
            self._listener = asyncio.create_task(self._listen(), name="notify-listener")
        # Subscribing before LISTEN is live could miss a signal; wait briefly for it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=5)

    async def _listen(self) -> None:
        dsn = make_url(self._url).set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = 0.5
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn)
                for topic in TOPICS:
                    await conn.add_listener(topic, self._on_notify)
                # A dropped connection stops trust in what was heard at once, not at the
                # next ping (agents/cache.py reads the database meanwhile).
                conn.add_termination_listener(self._on_terminated)
                self._live = conn
                self._connected.set()
                backoff = 0.5
                # After a reconnect, signals may have been missed: wake everyone to look.
                for topic in TOPICS:
                    self._dispatch(topic, "")
                while not conn.is_closed():
                    await asyncio.sleep(5)
                    await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("notify.listener_lost", error=str(exc), retry_in=backoff)
            finally:
                self._connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)

    def _on_terminated(self, conn: Any) -> None:
        if conn is self._live:
            self._connected.clear()

    def _on_notify(self, _conn: Any, _pid: int, topic: str, payload: str) -> None:
        self._dispatch(topic, payload)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None


# The one way to wait for a wake-up (long polls, sockets, workers).
wait_for = Notifier.wait_for
