"""Migrations are the only way the schema is made: they must match the models exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import gateway.models
from gateway import migrate
from gateway.db import create_engine
from tests.conftest import BACKENDS, drop_pg_database, make_database


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, gateway.models.metadata)


async def _schema_diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrations_match_models_and_round_trip(backend: str, tmp_root: Path) -> None:
    url = await make_database(backend, tmp_root)
    try:
        assert await _schema_diff(url) == []
        await asyncio.to_thread(migrate.downgrade, url, "base")
        remaining = await _schema_diff(url)
        # After downgrade every table is gone: autogenerate wants to add all of them back.
        added = {op[1].name for op in remaining if op[0] == "add_table"}  # type: ignore[index]
        assert added == set(gateway.models.metadata.tables)
        await asyncio.to_thread(migrate.upgrade, url)
        assert await _schema_diff(url) == []
    finally:
        if backend == "postgresql":
            await drop_pg_database(url)
