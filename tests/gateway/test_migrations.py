"""Migrations are the only way the schema is made: they must match the models exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import gateway.models
from gateway import migrate
from gateway.db import create_engine, create_sessionmaker
from gateway.outbox import service as outbox_service
from gateway.outbox.models import Outbox
from gateway.ports import Channel, InboundMessage
from gateway.settings import IngestSettings
from gateway.system.models import SystemState
from gateway.tickets.intake import ingest
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


@pytest.mark.parametrize("backend", BACKENDS)
async def test_telegram_progress_moves_from_system_state_onto_the_outbox_row(
    backend: str, tmp_root: Path
) -> None:
    url = await make_database(backend, tmp_root)
    engine = create_engine(url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as session:
            stored = await ingest(
                session,
                InboundMessage(Channel.telegram, "1:1", "1", "my USDT never came"),
                limits=IngestSettings(),
            )
            reply = await outbox_service.enqueue(
                session,
                ticket_id=stored.ticket_id,
                channel="telegram",
                text="part one\n\npart two",
                notifier=None,
                action="reply.queued",
            )
            row_id = await session.scalar(sa.select(Outbox.id).where(Outbox.message_id == reply.id))
        await engine.dispose()
        await asyncio.to_thread(migrate.downgrade, url, "0009_losses")
        engine = create_engine(url)
        async with engine.begin() as conn:
            for key, value in ((f"outbox-{row_id}", "[11]"), ("gone-reply", "[12]")):
                await conn.execute(
                    sa.text(
                        "INSERT INTO system_state (key, value, updated_at) VALUES (:k, :v, :t)"
                    ),
                    {"k": f"telegram.progress:{key}", "v": value, "t": datetime.now(UTC)},
                )
        await engine.dispose()
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            assert await outbox_service.delivery_progress(session, row_id) == [11]
            left = await session.scalar(
                sa.select(sa.func.count())
                .select_from(SystemState)
                .where(SystemState.key.like("telegram.progress:%"))
            )
            assert left == 0
    finally:
        await engine.dispose()
        if backend == "postgresql":
            await drop_pg_database(url)
