"""Engine, sessions and the column types every table shares.

SQLite is the embedded default (one file, WAL, a busy timeout, foreign keys on);
PostgreSQL through asyncpg is the production store. Both are made by the same Alembic
migrations; nothing here creates tables.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import JSON, DateTime, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection idle longer than this is checked before use.
PING_AFTER_IDLE_SECONDS = 5.0

# Deterministic constraint names, so both databases and every migration agree on them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


# Default factories for the rows every ingest builds. Pydantic inspects a field's factory
# on each construction; a builtin (`dict`, `list`) has only a text signature, which it
# parses every time (about 0.3 ms a Ticket), a plain function's is read at once.
def empty_dict() -> dict[str, Any]:
    return {}


def empty_list() -> list[Any]:
    return []


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite keeps no zone, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    echo: bool = False,
    read_only: bool = False,
    transaction_pooling: bool = False,
) -> AsyncEngine:
    """Make the async engine for a SQLAlchemy URL, tuned per database. On PostgreSQL it
    never holds more than `pool_size + max_overflow` connections. `read_only` engines
    (dry runs, listings) are refused every write by the database itself.
    `transaction_pooling`: the URL is a PgBouncer in transaction mode."""
    kwargs: dict[str, Any] = {"echo": echo}
    target: str | URL = url
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
        if transaction_pooling:
            # A statement prepared in one transaction may be looked for on another
            # server connection in the next: no caches (asyncpg's and SQLAlchemy's),
            # and names that never collide between clients sharing a server connection.
            target = make_url(url).update_query_dict({"prepared_statement_cache_size": "0"})
            kwargs["connect_args"] = {
                "statement_cache_size": 0,
                "prepared_statement_name_func": lambda: f"__parley_{uuid.uuid4().hex}__",
            }
    engine = create_async_engine(target, **kwargs)
    if is_sqlite(url):
        _tune_sqlite(engine, read_only=read_only)
    else:
        _ping_when_idle(engine)
        if read_only:
            _read_only_transactions(engine)
    return engine


def _read_only_transactions(engine: AsyncEngine) -> None:
    """Every transaction starts READ ONLY (a per-transaction statement, so it also holds
    through PgBouncer, which refuses unknown startup parameters)."""

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it sat idle a while.

    SQLAlchemy's pool_pre_ping costs three round trips (BEGIN, ping, ROLLBACK) on every
    checkout; a connection returned a moment ago is alive. One that sat idle may have
    been cut (database restart, firewall): pinged, and replaced if dead, before use.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another.
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc


def _tune_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT and
        # BEGIN IMMEDIATE; we emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # One writer at a time, decided at BEGIN: a transaction that reads then writes
        # can never hit SQLITE_BUSY halfway (which busy_timeout cannot retry), so
        # claims and ingests are serialised instead of failing. A reader never waits
        # for the writer's lock.
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(
    engine: AsyncEngine, *, public_url: str | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions of one gateway. `public_url` rides in `session.info`, so code deep in a
    transaction (a webhook payload's attachment URLs) can name the gateway's address."""
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info={PUBLIC_URL: public_url}
    )


PUBLIC_URL = "parley.public_url"


def public_url(session: AsyncSession) -> str:
    """The gateway's address as others reach it, from the session's sessionmaker."""
    return str(session.info.get(PUBLIC_URL) or "")


async def lock_key(session: AsyncSession, *parts: str) -> None:
    """Serialise transactions on one key until commit (PostgreSQL advisory lock).

    SQLite needs nothing: every write transaction there starts with BEGIN IMMEDIATE,
    so there is only ever one writer.
    """
    await lock_keys(session, parts)


async def lock_keys(session: AsyncSession, *keys: Sequence[str]) -> None:
    """`lock_key` for several keys in one round trip, taken in the order given."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await _locking(len(keys)).rows(session, {f"key_{n}": _key(k) for n, k in enumerate(keys)})


@functools.cache
def _locking(count: int) -> Any:
    """The statement that takes `count` advisory locks, built and compiled once: every
    ingest takes two, and building, keying and executing it through the ORM costs more
    client CPU than the round trip."""
    from gateway.statements import Statement  # which imports this module

    return Statement(
        sa.select(
            *(
                sa.func.pg_advisory_xact_lock(sa.bindparam(f"key_{n}", type_=sa.BigInteger))
                for n in range(count)
            )
        )
    )


def _key(parts: Sequence[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def detached_loaded(model: type[T], values: Iterable[tuple[str, Any]]) -> T:
    """An instance of a table model as the ORM would load it from these column values,
    detached (in no session, nothing pending): for rows read or returned by Core
    statements on hot paths, where the ORM's loading costs more than the statement.
    Cheaper than the model's constructor, which tracks every value as a change."""
    instance: T = sa.inspect(model).class_manager.new_instance()
    for key, value in values:
        set_committed_value(instance, key, value)
    make_transient_to_detached(instance)
    return instance


def pk(column: int | None) -> Mapped[int]:
    """A primary key column in a query (`sa.select(pk(Queue.id), ...)`): a stored row's
    key is never NULL, whatever SQLModel's `int | None` attribute (None until the first
    flush) says. Typing only: the column itself is returned."""
    return cast("Mapped[int]", column)


# --- per-transaction memo ------------------------------------------------------------

_MEMO = "parley_transaction_memo"


def transaction_memo(session: AsyncSession | Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction: for reads that
    several parts of one change make of the same row (the rules version, a queue's
    name), so the row is read once per transaction instead of once per part. Forgotten
    when the outermost transaction or a savepoint ends; a writer of a memoised row must
    drop its entry (`forget`)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    memo: dict[str, dict[Any, Any]] = sync.info.setdefault(_MEMO, {})
    return memo.setdefault(name, {})


def forget(session: AsyncSession | Session, name: str, key: Any) -> None:
    """Drop one memoised entry (its row was just written in this transaction)."""
    transaction_memo(session, name).pop(key, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_memo(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None or transaction.nested:
        session.info.pop(_MEMO, None)
