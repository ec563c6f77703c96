"""Who a bearer token is, remembered for a few seconds instead of read on every request.

An entry is keyed by the token's sha256 (the stored hash: the token itself is never
kept) and holds the agent's columns and queue memberships as they were read. It lives
`http.auth_cache_seconds` by the injected clock (`Runtime.clock`) and is dropped at once
when anything about any agent changes:

- Any commit that writes an `agent` or `queue_membership` row (a deactivation, a token
  revoked or rotated, a role, capacity or queue change; from the HTTP API, the console
  or the command line) clears every cache in the committing process right after the
  commit, before its response goes out.
- On PostgreSQL the same commit sends `pg_notify('parley_agents', ...)`, so every other
  gateway process sharing the database clears its cache when the commit becomes
  visible. A process uses its cache only while its LISTEN connection is up; while it is
  down (and until it is back and has cleared the cache) every request reads the
  database, so a missed signal cannot keep a revoked token alive.
- On SQLite (one serving process by design) the in-process clearing is the whole story:
  a change committed by another process (`gateway agents rotate-token` run beside a
  serving gateway) is seen once the entry's lifetime runs out, at most
  `http.auth_cache_seconds` later.

A read that started before a clearing never refills the cache with what it read: each
fill carries the clearing generation it started in and is dropped if that moved.
Changes are rare (an admin's action); clearing everything on each keeps the rule
simple. The capacity a claim enforces is always read under the agent's row lock, never
from here.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from gateway.agents.models import Agent
from gateway.db import detached_loaded
from gateway.queues.models import QueueMembership
from gateway.topics import AGENTS

# The PostgreSQL channel that carries "some agent changed" (gateway.notify.AGENTS).
CHANNEL = AGENTS
# Past this many entries the cache starts over (tokens are few; this bounds memory
# against a flood of distinct valid-looking tokens, which are never cached anyway).
MAX_ENTRIES = 10_000

_CHANGED = "parley.agents_changed"
_AGENT_COLUMNS = tuple(c.key for c in sa.inspect(Agent).column_attrs)
_WATCHED = frozenset((Agent.__tablename__, QueueMembership.__tablename__))


@dataclass(frozen=True)
class Entry:
    values: dict[str, Any]
    queue_ids: frozenset[int]
    expires: datetime

    def agent(self) -> Agent:
        """A fresh detached copy of the agent: a request may add it to its session
        (no INSERT: it is known persistent) without touching the cached values."""
        # Its own languages list: a request that edits it never edits the cached one.
        values = self.values | {"languages": list(self.values["languages"])}
        return detached_loaded(Agent, values.items())


class AgentCache:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self.generation = 0
        # Set once this process's notifier calls `clear` on other processes' changes.
        self.subscribed = False
        _unbound.add(self)

    def bind(self, engine: AsyncEngine) -> None:
        """Cleared by commits through `engine` (this runtime's); until bound, by any."""
        _unbound.discard(self)
        _bound.setdefault(engine.sync_engine, weakref.WeakSet()).add(self)

    def get(self, token_hash: str, now: datetime) -> Entry | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry.expires <= now:
            self._entries.pop(token_hash, None)
            return None
        return entry

    def put(
        self,
        token_hash: str,
        agent: Agent,
        queue_ids: frozenset[int],
        *,
        now: datetime,
        ttl_seconds: float,
        generation: int,
    ) -> None:
        """Remember what a read that began in `generation` found (dropped if a clearing
        happened since)."""
        if generation != self.generation or ttl_seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        values = {name: getattr(agent, name) for name in _AGENT_COLUMNS}
        values["languages"] = list(values["languages"] or [])
        self._entries[token_hash] = Entry(values, queue_ids, now + timedelta(seconds=ttl_seconds))

    def clear(self, *_signal: object) -> None:
        """Forget everything (an agent changed here or in another process)."""
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# The caches of this process by the engine whose commits clear them (another engine on
# the same database, as in tests, stands for another process: it hears the signal).
_bound: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[AgentCache]] = weakref.WeakKeyDictionary()
_unbound: weakref.WeakSet[AgentCache] = weakref.WeakSet()


def mark_changed(session: Session) -> None:
    """Note that this transaction changes agents (done automatically for ORM writes and
    bulk statements on `agent` and `queue_membership`)."""
    session.info[_CHANGED] = True


def _note_pending(session: Session) -> None:
    if any(
        isinstance(obj, (Agent, QueueMembership))
        for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        mark_changed(session)


@event.listens_for(Session, "after_flush")
def _note_agent_writes(session: Session, _ctx: UOWTransaction) -> None:
    _note_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    # By name: an ORM statement (`sa.delete(QueueMembership)`) holds an annotated copy
    # of the table, never the table itself.
    if getattr(getattr(state.statement, "table", None), "name", None) in _WATCHED:
        mark_changed(state.session)


@event.listens_for(Session, "before_commit")
def _signal_other_processes(session: Session) -> None:
    _note_pending(session)  # the commit's own last flush comes after this hook
    if not session.info.get(_CHANGED):
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Inside the transaction: delivered at commit, never for a rollback.
        session.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))


@event.listens_for(Session, "after_commit")
def _clear_local_caches(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        bind = session.get_bind()
        engine: Engine = bind.engine
        for cache in [*_bound.get(engine, ()), *_unbound]:
            cache.clear()
