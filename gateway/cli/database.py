"""Database access for one-off commands: few connections, and honest about the schema.

Commands that change data (`agents create`, `rules load`, ...) bring the schema to head
first, so they work on a fresh install before any `serve`. Commands that only look
(`route`, `agents list`, `email dead-letters`, `rules show`) never write, not even a
migration: they open a read-only connection and say so when the schema is behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import migrate
from gateway.cli.errors import SchemaNotCurrent
from gateway.db import create_engine, create_sessionmaker, is_sqlite
from gateway.runtime import Runtime
from gateway.settings import Settings

# A command does one thing at a time: it needs one connection, two at most.
CLI_POOL = {"pool_size": 1, "max_overflow": 1}


async def open_runtime(settings: Settings) -> Runtime:
    """The runtime for a command that writes, on a database brought to the newest
    schema first (idempotent)."""
    await asyncio.to_thread(migrate.upgrade, settings.database.url)
    database = settings.database.model_copy(update=CLI_POOL)
    return Runtime.from_settings(settings.model_copy(update={"database": database}))


@asynccontextmanager
async def open_ports(settings: Settings) -> AsyncIterator[Runtime]:
    """`open_runtime` as the ports a channel's command is handed, closed after."""
    runtime = await open_runtime(settings)
    try:
        yield runtime
    finally:
        await runtime.close()


@asynccontextmanager
async def read_only_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session the database refuses writes on; raises SchemaNotCurrent unless the
    schema is the one this code needs."""
    url = settings.database.url
    head = await asyncio.to_thread(migrate.head_revision)
    if is_sqlite(url) and not _sqlite_file_exists(url):
        # Opening it would create an empty file: report the missing schema instead.
        raise SchemaNotCurrent(None, head)
    engine = create_engine(
        url,
        pool_size=1,
        max_overflow=0,
        read_only=True,
        transaction_pooling=settings.database.transaction_pooling,
    )
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(migrate.current_revision)
        if current != head:
            raise SchemaNotCurrent(current, head)
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def _sqlite_file_exists(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:" or Path(database).exists()
