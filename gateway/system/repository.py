"""All SQL of `SystemState`, the desk's small key-value store. Functions flush or
execute in the caller's transaction; the caller commits.

Keys are `domain.name[:detail]` (`webchat.secret`, `telegram.polling.offset`,
`email.imap:<mailbox>`); values are text the owner encodes. Every write is one upsert
that works on both databases, so concurrent writers never collide on the primary key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.db import forget, transaction_memo, utcnow
from gateway.statements import Statement
from gateway.system.models import SystemState

_MEMO = "system_state"


def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(SystemState).values(rows)


async def get(session: AsyncSession, key: str) -> str | None:
    """The value under `key`, or None."""
    return await session.scalar(
        sa.select(col(SystemState.value)).where(col(SystemState.key) == key)
    )


async def get_once(session: AsyncSession, key: str) -> str | None:
    """`get`, read at most once per transaction (for a key that several parts of one
    change read, such as the rules version that routing and the SLA both check). Every
    write through this module forgets it."""
    memo: dict[str, str | None] = transaction_memo(session, _MEMO)
    if key not in memo:
        memo[key] = await get(session, key)
    return memo[key]


def value_of(key: str) -> sa.ScalarSelect[str | None]:
    """`key`'s value as a scalar subquery, for a caller that reads it along with another
    statement of its own (and then `remember`s it)."""
    return sa.select(col(SystemState.value)).where(col(SystemState.key) == key).scalar_subquery()


def remember(session: AsyncSession, key: str, value: str | None) -> None:
    """What `get_once` returns for `key` for the rest of this transaction: a value the
    caller read in this transaction (`value_of`), saving `get_once` its round trip."""
    memo: dict[str, str | None] = transaction_memo(session, _MEMO)
    memo[key] = value


async def get_many(
    session: AsyncSession, keys: Iterable[str], *, for_update: bool = False
) -> dict[str, str]:
    """The values of those `keys` that exist; `for_update` locks their rows (taken in
    key order, so two writers never deadlock) until the caller commits."""
    select = _GET_MANY[session.get_bind().dialect.name, for_update]
    rows = await select.rows(session, {"keys": sorted(set(keys))})
    return {key: value for key, value in rows}


def _get_many(dialect: str, for_update: bool) -> Statement:
    """`get_many`'s statement, built once (the limiter reads its keys on every send): on
    PostgreSQL `= ANY` of an array, one statement text for every number of keys."""
    key = col(SystemState.key)
    if dialect == "postgresql":
        wanted = key == sa.any_(sa.bindparam("keys", type_=postgresql.ARRAY(sa.String)))
    else:
        wanted = key.in_(sa.bindparam("keys", expanding=True))
    stmt = sa.select(key, col(SystemState.value)).where(wanted).order_by(key)
    return Statement(stmt.with_for_update() if for_update else stmt)


_GET_MANY = {
    (dialect, lock): _get_many(dialect, lock)
    for dialect in ("postgresql", "sqlite")
    for lock in (False, True)
}


_PUT_COLUMNS = ("key", "value", "updated_at")


def _upsert(insert: Any) -> Statement:
    """`put`'s statement for one dialect's INSERT ... ON CONFLICT, built once: the
    Telegram limiter puts several keys a send, and building and compiling the upsert on
    every call cost more client CPU than its round trip."""
    table = SystemState.__table__  # type: ignore[attr-defined]
    stmt = insert(SystemState).values(
        {name: sa.bindparam(name, type_=table.c[name].type) for name in _PUT_COLUMNS}
    )
    return Statement(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
    )


_PUT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


async def put(session: AsyncSession, key: str, value: str) -> None:
    """Set `key` to `value`, created or replaced."""
    forget(session, _MEMO, key)
    upsert = _PUT[session.get_bind().dialect.name]
    await upsert.rows(session, {"key": key, "value": value, "updated_at": utcnow()})


async def put_if_absent(session: AsyncSession, key: str, value: str) -> str:
    """Store `value` unless `key` holds one already; the value that is stored now
    (so concurrent first starts agree on one generated secret)."""
    forget(session, _MEMO, key)
    stmt = _insert(session, [{"key": key, "value": value, "updated_at": utcnow()}])
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    stored = await get(session, key)
    assert stored is not None
    return stored


async def ensure(session: AsyncSession, keys: Iterable[str], default: str) -> None:
    """Create whichever of `keys` are missing, holding `default` (one statement)."""
    now = utcnow()
    rows = [{"key": key, "value": default, "updated_at": now} for key in keys]
    for row in rows:
        forget(session, _MEMO, row["key"])
    if rows:
        await session.execute(_insert(session, rows).on_conflict_do_nothing(index_elements=["key"]))


async def raise_to(session: AsyncSession, key: str, value: int) -> None:
    """Set an integer `key` to `value` only if that is higher than what it holds (a
    marker that never moves back, however late a writer arrives)."""
    forget(session, _MEMO, key)
    stmt = _insert(session, [{"key": key, "value": str(value), "updated_at": utcnow()}])
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
            where=sa.cast(col(SystemState.value), sa.BigInteger)
            < sa.cast(stmt.excluded.value, sa.BigInteger),
        )
    )


async def delete(session: AsyncSession, key: str) -> None:
    """Forget `key` (nothing happens if it is not there)."""
    forget(session, _MEMO, key)
    await session.execute(sa.delete(SystemState).where(col(SystemState.key) == key))
