"""An operator's failures on the command line: one line naming the problem and the fix,
and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway import migrate
from tests.conftest import make_database
from tests.pg_refusing import RefusingPostgres
from tests.processes import free_port, gateway_env, run_cli

COMMANDS = [
    ["agents", "create", "--name", "ana"],
    ["agents", "list"],
    ["route", "I paid 200 USDT, not released"],
    ["rules", "show"],
    ["email", "dead-letters"],
    ["migrate"],
]


def _one_line_failure(args: list[str], env: dict[str, str], cwd: Path) -> str:
    result = run_cli(args, env, cwd)
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_unreachable_database_is_named_with_the_fix(args: list[str], tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/parley"
    line = _one_line_failure(args, gateway_env(url, tmp_path), tmp_path)
    assert "cannot reach the database" in line and "GATEWAY_DATABASE_URL" in line
    assert "127.0.0.1" in line


@pytest.mark.parametrize("args", COMMANDS[:3], ids=lambda a: " ".join(a[:2]))
def test_a_server_out_of_connections_says_so_and_what_to_change(
    args: list[str], tmp_path: Path
) -> None:
    with RefusingPostgres() as server:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/parley"
        line = _one_line_failure(args, gateway_env(url, tmp_path), tmp_path)
    assert "no free connections" in line and "max_connections" in line
    assert "GATEWAY_DATABASE_POOL_SIZE" in line


@pytest.mark.parametrize("args", [["agents", "list"], ["route", "hello"], ["rules", "show"]])
def test_looking_at_a_database_without_the_schema_asks_for_a_migration(
    args: list[str], tmp_path: Path
) -> None:
    """Read-only commands never migrate: they name the command that does."""
    db = tmp_path / "never-migrated.db"
    env = gateway_env(f"sqlite+aiosqlite:///{db}", tmp_path)
    line = _one_line_failure(args, env, tmp_path)
    assert "run `gateway migrate`" in line
    assert not db.exists()  # not even an empty file was created


async def test_a_schema_behind_the_code_asks_for_a_migration(
    tmp_root: Path, tmp_path: Path
) -> None:
    url = await make_database("sqlite", tmp_root)
    await asyncio.to_thread(migrate.downgrade, url, "-1")
    line = _one_line_failure(["agents", "list"], gateway_env(url, tmp_path), tmp_path)
    assert "gateway migrate" in line
    await asyncio.to_thread(migrate.upgrade, url)
    listed = run_cli(["agents", "list"], gateway_env(url, tmp_path), tmp_path)
    assert listed.returncode == 0, listed.stderr


def test_bad_settings_are_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = gateway_env("sqlite+aiosqlite:///x.db", tmp_path, GATEWAY_DATABASE_POOL_SIZE="many")
    line = _one_line_failure(["agents", "list"], env, tmp_path)
    assert "GATEWAY_DATABASE_POOL_SIZE" in line
