"""Shared fixtures: a fresh, migrated database per backend per run.

Every storage test runs on SQLite and PostgreSQL (`backend` parameter). The PostgreSQL
database is created by this run, migrated with Alembic and dropped at the end. Where no
PostgreSQL answers, those tests skip with the reason, except under CI, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from gateway import migrate
from gateway.app import create_app
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.pg_budget import ConnectionSampler

PG_ADMIN_DSN = os.environ.get("PARLEY_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
# Every database this run creates is named with this prefix, so the run's connections
# can be counted apart from other clients of a shared server.
RUN_PREFIX = f"parley_test_{uuid.uuid4().hex[:6]}_"
# Each test gateway (in-process runtime or subprocess) holds at most this many query
# connections (pool + overflow) plus one LISTEN connection, so the whole run stays within
# PG_CONNECTION_BUDGET on a server with max_connections 100 shared with others.
TEST_POOL = {"pool_size": 1, "max_overflow": 3, "pool_timeout_seconds": 60.0}
PG_CONNECTION_BUDGET = int(os.environ.get("PARLEY_TEST_PG_MAX_CONNECTIONS", "40"))


_sampler = ConnectionSampler(PG_ADMIN_DSN, RUN_PREFIX)


def pytest_sessionstart(session: pytest.Session) -> None:
    _sampler.start()


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _sampler.current_test = nodeid


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it held more PostgreSQL connections than its budget."""
    _sampler.stop()
    if _sampler.peak > PG_CONNECTION_BUDGET and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _sampler.error is not None:
        return
    verdict = "over budget" if _sampler.peak > PG_CONNECTION_BUDGET else "within budget"
    terminalreporter.write_line(
        f"PostgreSQL connections held by this run: peak {_sampler.peak} "
        f"(budget {PG_CONNECTION_BUDGET}, {verdict}), during {_sampler.peak_test or '-'}",
        red=_sampler.peak > PG_CONNECTION_BUDGET,
    )


async def _pg_available() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}"
    await conn.close()
    return None


def pg_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def create_pg_database() -> str:
    """Create an empty PostgreSQL database for this run; returns its async URL."""
    name = f"{RUN_PREFIX}{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return pg_url(PG_ADMIN_DSN, name)


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parley")


async def make_database(backend: str, tmp_root: Path) -> str:
    """A new migrated database of the given backend (skips PostgreSQL when absent)."""
    if backend == "postgresql":
        reason = await _pg_available()
        if reason:
            if os.environ.get("CI"):
                pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
            pytest.skip(reason)
        url = await create_pg_database()
    else:
        url = f"sqlite+aiosqlite:///{tmp_root / f'{uuid.uuid4().hex[:8]}.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_root: Path) -> AsyncIterator[str]:
    """A migrated database shared by the run's tests of one backend; tests use their own
    rows (unique senders, queues) and never depend on each other's leftovers."""
    url = await make_database(request.param, tmp_root)
    yield url
    if request.param == "postgresql":
        await drop_pg_database(url)


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


class IsolatedSettings(Settings):
    """Settings from explicit values only: the host's GATEWAY_* and .env never leak in."""

    @classmethod
    def settings_customise_sources(  # type: ignore[override]
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        **_: object,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def make_settings(database_url: str, tmp_root: Path, **sections: dict[str, object]) -> Settings:
    """Settings for a test: a database, a blob folder, no SMTP listener, plus `sections`
    (for example `telegram={"token": "..."}`)."""
    values: dict[str, object] = {
        "database": {"url": database_url, **TEST_POOL},
        "blob": {"dir": tmp_root / "blobs"},
        "smtp": {"port": 0},
        "log": {"level": "WARNING", "json": True},
    }
    return IsolatedSettings(**(values | sections))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_root: Path) -> Settings:
    return make_settings(database_url, tmp_root)


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(settings)
    yield runtime
    await runtime.close()


@pytest.fixture
def unique() -> Iterator[str]:
    """A short unique string for names and addresses that must not collide across tests."""
    yield uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> FastAPI:
    """The HTTP app on the shared test runtime, without channels (core routes only)."""
    return create_app(runtime.settings, runtime, plugins=[])
