"""One line for an operator: what went wrong and what to do, instead of a traceback.

`explain()` knows the failures an operator meets on the command line (database down,
out of connections, schema behind the code, bad settings) and names the fix; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import asyncpg
import sqlalchemy.exc
from pydantic import ValidationError
from sqlalchemy.engine import make_url


class SchemaNotCurrent(Exception):
    """The database's schema is not the one this version of Parley needs."""

    def __init__(self, current: str | None, head: str):
        self.current, self.head = current, head
        super().__init__(f"schema at {current or 'nothing'}, code needs {head}")


def safe_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return "(unparseable URL)"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def _raised_by_driver(exc: BaseException) -> bool:
    """Whether the database driver raised it (not, say, the blob store)."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "asyncpg" in name or "aiosqlite" in name or "sqlalchemy" in name:
            return True
        tb = tb.tb_next
    return False


def explain(exc: BaseException, database_url: str) -> str | None:
    """The one-line message for a known operator-facing failure, or None."""
    where = safe_url(database_url)
    for cause in _chain(exc):
        if isinstance(cause, SchemaNotCurrent):
            if cause.current is None:
                return (
                    f"the database at {where} has no Parley schema yet: "
                    "run `gateway migrate` (or `gateway serve`, which migrates first)"
                )
            return (
                f"the database at {where} is at schema {cause.current}, this version needs "
                f"{cause.head}: run `gateway migrate`"
            )
        if isinstance(cause, asyncpg.TooManyConnectionsError):
            return (
                f"PostgreSQL at {where} has no free connections ({cause}): stop idle "
                "clients, lower GATEWAY_DATABASE_POOL_SIZE/_MAX_OVERFLOW of the running "
                "gateways, or raise the server's max_connections"
            )
        if isinstance(cause, sqlalchemy.exc.TimeoutError):
            return (
                "every pooled database connection stayed busy past "
                "GATEWAY_DATABASE_POOL_TIMEOUT_SECONDS: raise GATEWAY_DATABASE_POOL_SIZE "
                "or find what holds them"
            )
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return f"{cause} at {where}: create it (createdb) or fix GATEWAY_DATABASE_URL"
        if isinstance(
            cause, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
        ):
            return f"PostgreSQL at {where} refused the login ({cause}): fix GATEWAY_DATABASE_URL"
        if isinstance(cause, asyncpg.UndefinedTableError) or (
            isinstance(cause, sqlite3.OperationalError) and "no such table" in str(cause)
        ):
            return f"the database at {where} lacks a table ({cause}): run `gateway migrate`"
        if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
            return (
                f"cannot open the SQLite file of {where} ({cause}): create its folder "
                "or fix GATEWAY_DATABASE_URL"
            )
        if isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause):
            return f"the SQLite file of {where} stayed locked ({cause}): try again"
        if isinstance(cause, socket.gaierror | ConnectionError | TimeoutError) or (
            isinstance(cause, OSError) and _raised_by_driver(cause)
        ):
            return (
                f"cannot reach the database at {where} ({cause.strerror or cause}): start "
                "it, or fix GATEWAY_DATABASE_URL"
            )
        if isinstance(cause, ValidationError):
            problems = "; ".join(
                f"GATEWAY_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in cause.errors()
            )
            return f"invalid settings ({problems}): fix the GATEWAY_* variables or .env"
    return None
