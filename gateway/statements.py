"""Hot-path statements defined once as SQLAlchemy Core, run two ways side by side.

A `Statement` wraps one Core statement, which is the only place its SQL is written:

- On SQLite (and any other backend) it runs as Core on the transaction's connection.
- On PostgreSQL it is compiled once to asyncpg's SQL and run straight on the asyncpg
  connection under the session's transaction, inside that same transaction; asyncpg
  prepares it once per connection and caches it. SQLAlchemy's execution and result
  machinery costs more client CPU than the round trip itself (0.2-0.35 ms a statement
  against asyncpg's 0.07 ms, README's Performance section), which is what a claim,
  hundreds a second, cannot afford.

Parameters are passed by name as to Core; list parameters on PostgreSQL are arrays
(`= ANY($n)`), so one prepared statement serves every list length. Values go through
the same type processing as Core (bind and result processors of the statement's
types); `tests/gateway/api/test_claim_statements.py` runs both paths on PostgreSQL and
checks they return the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import transaction_memo

_DRIVER = "asyncpg_connection"
# dialect, SQL, parameter names in order, fixed values, bind and result processors
_Compiled = tuple[Dialect, str, tuple[str, ...], dict[str, Any], tuple[Any, ...], tuple[Any, ...]]


class Statement:
    """One Core statement; `rows()` runs it on the session's transaction."""

    def __init__(self, core: Any, result_types: Sequence[sa.types.TypeEngine[Any]] = ()):
        self.core = core
        self._result_types = tuple(result_types)
        self._compiled: _Compiled
        self._compiled_for: Dialect | None = None

    async def rows(
        self, session: AsyncSession, params: Mapping[str, Any], *, raw: bool | None = None
    ) -> Sequence[Sequence[Any]]:
        """Every row, as tuples in the statement's column order (none for a write without
        RETURNING). `raw` picks the path (default: asyncpg on PostgreSQL, Core
        elsewhere); tests pass it to compare."""
        connection = await session.connection()
        if raw is None:
            raw = connection.dialect.name == "postgresql"
        if not raw:
            result = await connection.execute(self.core, dict(params))
            # A write without RETURNING has no rows, as asyncpg's fetch returns none.
            return [tuple(row) for row in result] if result.returns_rows else []
        driver = await _asyncpg(session)
        _dialect, sql, names, fixed, binds, results = self._compile(connection.dialect)
        args = [
            value if bind is None else bind(value)
            for value, bind in zip(
                (params[n] if n in params else fixed[n] for n in names), binds, strict=True
            )
        ]
        records = await driver.fetch(sql, *args)
        if not any(results) or not records:
            return [tuple(record) for record in records]
        # Columns past the typed ones (a lock's void result) come back as they are; NULL
        # stays None (what every result processor makes of it).
        processors = results + (None,) * (len(records[0]) - len(results))
        return [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip(record, processors, strict=True)
            )
            for record in records
        ]

    def _compile(self, dialect: Dialect) -> _Compiled:
        if self._compiled_for is not dialect:
            compiled = self.core.compile(dialect=dialect)
            names = tuple(compiled.positiontup or ())
            # Values the statement carries itself (a literal compared to, CASE's results).
            fixed = {n: compiled.binds[n].value for n in names}
            binds = tuple(compiled.binds[n].type.bind_processor(dialect) for n in names)
            results = tuple(_result_processor(t, dialect) for t in self._result_types)
            self._compiled = (dialect, compiled.string, names, fixed, binds, results)
            self._compiled_for = dialect
        return self._compiled


def _result_processor(
    type_: sa.types.TypeEngine[Any], dialect: Dialect
) -> Callable[[Any], Any] | None:
    if isinstance(type_, sa.Numeric) and type_.asdecimal:
        return None  # asyncpg returns numeric as Decimal already
    processor: Callable[[Any], Any] | None = type_.result_processor(dialect, None)
    return processor


async def _asyncpg(session: AsyncSession) -> Any:
    """The asyncpg connection of the session's transaction, with that transaction begun.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement: a
    statement sent around it before then would run outside the transaction (a FOR
    UPDATE lock released at once). So the adapter is asked to begin first; it then
    commits or rolls back as it always does."""
    memo = transaction_memo(session, _DRIVER)
    driver = memo.get("driver")
    if driver is not None:
        return driver
    connection = await session.connection()
    pooled = await connection.get_raw_connection()
    adapted: Any = pooled.dbapi_connection
    if adapted._transaction is None and adapted.isolation_level != "autocommit":
        await adapted._start_transaction()
    driver = pooled.driver_connection
    assert driver is not None and driver.is_in_transaction()
    memo["driver"] = driver
    return driver
