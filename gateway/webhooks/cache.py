"""The active webhook subscribers, remembered per process instead of read by every
transaction that emits an event (every claim, every ingest).

The cache holds what `events.emit` needs of each active subscription (id, event types,
whether it takes private notes), never its URL or secret: the delivery worker re-reads
the subscription when it leases a delivery. It is cleared as the token cache is
(agents/cache.py), through the same LISTEN connection:

- A commit that writes a `webhook_subscription` row (the admin API; an ORM write or a
  bulk statement through any session) clears this runtime's cache right after the
  commit, before its response goes out; on SQLite every cache of this process.
- On PostgreSQL the same commit sends `pg_notify('parley_webhooks', '')` inside the
  transaction, so every other gateway process clears its cache when the signal
  arrives, which is after the commit is visible. The cache answers only while this
  process's LISTEN connection is up; while it is down every emitting transaction reads
  the database, and the listener's reconnect clears the cache (signals may have been
  missed meanwhile).
- An entry also runs out `MAX_AGE_SECONDS` after it was read: the safety net for a
  change no hook saw (hand-written SQL) and, on SQLite (one serving process by design,
  no signals), for a change committed by another OS process.

The window, stated exactly: an event is emitted with the subscription set as of its
transaction's first subscriber read, taken from the cache unless the transaction has
itself changed a subscription. A change committed in another process is seen by every
event whose read comes after that process received the signal (PostgreSQL, normally a
millisecond or two after the commit), or at most `MAX_AGE_SECONDS` after the commit if
the signal is lost without the listener noticing. Without the cache the window was
already there (a read just before another transaction's commit sees the old set); the
cache widens it by the signal's delivery. What a stale set can cost:

- A subscription created in that window misses the events emitted in it (their
  delivery rows are written in the emitting transaction, so nothing adds them later).
- A subscription deactivated in that window may get delivery rows, but never a request:
  the worker re-reads the subscription when it leases the row, which is after the
  emitting transaction committed and so after the deactivation, and fails the row
  ("the subscriber was deactivated"), as it does for rows queued before the change.
  Subscriptions are deactivated, never deleted (deliveries reference them).

A read that started before a clearing never refills the cache with what it read: each
fill carries the clearing generation it started in and is dropped if that moved. This
relies on the read seeing every commit made before it started: true of PostgreSQL's
READ COMMITTED (every gateway transaction) and of SQLite, whose writers BEGIN IMMEDIATE.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from gateway.notify import Notifier
from gateway.topics import WEBHOOKS
from gateway.webhooks.models import WebhookSubscription

# The PostgreSQL channel that carries "some subscription changed".
CHANNEL = WEBHOOKS
# How long a read subscriber list is used at most (seconds), signals or not.
MAX_AGE_SECONDS = 30.0

_CHANGED = "parley.webhooks_changed"
_TABLE = str(WebhookSubscription.__tablename__)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What emitting an event needs of an active subscription."""

    id: int
    event_types: frozenset[str]
    include_notes: bool


class SubscriptionCache:
    """One runtime's remembered subscriber list (see the module docstring)."""

    def __init__(
        self,
        max_age_seconds: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self.generation = 0
        self._active: tuple[Subscriber, ...] | None = None
        self._expires = 0.0
        self._notifier: Notifier | None = None

    def bind(self, engine: AsyncEngine, notifier: Notifier) -> None:
        """Serve transactions on `engine`, cleared by `notifier`'s signals (heard once
        something in this process starts its listener; until then never used)."""
        _caches[engine.sync_engine] = self
        self._notifier = notifier
        notifier.on_signal(CHANNEL, self.clear, listen=False)

    @property
    def trusted(self) -> bool:
        """May answer: this process hears subscription changes (always on SQLite; on
        PostgreSQL while its LISTEN connection is up)."""
        notifier = self._notifier
        return notifier is not None and notifier.listening and self.max_age_seconds > 0

    def get(self) -> tuple[Subscriber, ...] | None:
        if self._active is None:
            return None
        if self._expires <= self.clock():
            self._active = None
            return None
        return self._active

    def put(self, active: Iterable[Subscriber], *, generation: int) -> None:
        """Remember what a read that began in `generation` found (dropped if a clearing
        happened since)."""
        if generation != self.generation:
            return
        self._active = tuple(active)
        self._expires = self.clock() + self.max_age_seconds

    def clear(self, *_signal: object) -> None:
        """Forget the list (a subscription changed here or in another process, or the
        listener reconnected)."""
        self.generation += 1
        self._active = None


# The caches of this process by the engine whose transactions they serve.
_caches: weakref.WeakKeyDictionary[Engine, SubscriptionCache] = weakref.WeakKeyDictionary()


def for_session(session: AsyncSession) -> SubscriptionCache | None:
    """The cache serving this session's engine; None for an engine no runtime bound
    (such sessions always read the database)."""
    bind = session.bind  # an AsyncEngine, or an AsyncConnection for a joined session
    return None if bind is None else _caches.get(bind.sync_engine)


def changed_here(session: AsyncSession | Session) -> bool:
    """This transaction wrote a subscription (its own view differs from the cache's)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    return bool(sync.info.get(_CHANGED)) or pending_writes(sync)


def pending_writes(session: Session) -> bool:
    """Subscriptions added, changed or deleted in the session and not flushed yet."""
    changed = (*session.new, *session.dirty, *session.deleted)
    return any(isinstance(obj, WebhookSubscription) for obj in changed)


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session: Session, _ctx: UOWTransaction) -> None:
    if pending_writes(session):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == _TABLE:  # by name: ORM statements hold a copy
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _signal_other_processes(session: Session) -> None:
    if pending_writes(session):  # the commit's own last flush comes after this hook
        session.info[_CHANGED] = True
    if session.info.get(_CHANGED) and session.get_bind().dialect.name == "postgresql":
        # Inside the transaction: delivered at commit, never for a rollback.
        session.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))


@event.listens_for(Session, "after_commit")
def _clear_local_caches(session: Session) -> None:
    if not session.info.pop(_CHANGED, False):
        return
    engine = session.get_bind().engine
    if engine.dialect.name == "postgresql":
        # Other runtimes, in this process or not, hear the signal.
        mine = _caches.get(engine)
        if mine is not None:
            mine.clear()
    else:
        # No signals on SQLite: every runtime of this process on any file forgets.
        for cache in list(_caches.values()):
            cache.clear()


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # A commit consumed the mark above; what is left is a rolled-back change.
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)
