"""Queries through PgBouncer in transaction mode, wake-ups on a direct connection.

LISTEN needs a session of its own, which transaction pooling cannot give, so the
notifier takes GATEWAY_DATABASE_LISTEN_URL while every query goes through the pooler
(GATEWAY_DATABASE_TRANSACTION_POOLING: no prepared-statement cache, unique statement
names). These are the suite's cross-process cases in that shape: runs of Debian's
pgbouncer (.ci/install-pgbouncer.sh), skipped with the reason where it is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.ports import Channel, InboundMessage
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.tickets.models import Message
from tests.conftest import make_settings
from tests.desk import client, make_agent
from tests.processes import REPO_ROOT, free_port, gateway_env, run_cli

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def _pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer", path=SEARCH_PATH)
    if found is None:
        reason = "pgbouncer is not installed (sh .ci/install-pgbouncer.sh, as root)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI installs it")
        pytest.skip(reason)
    return found


@contextlib.contextmanager
def running_pgbouncer(database_url: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the database's server; its URL."""
    binary = _pgbouncer_binary()
    target = make_url(database_url)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="parley-pgbouncer-"))
    workdir.chmod(0o755)
    user = target.username or "postgres"
    (workdir / "users.txt").write_text(f'"{user}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={target.host or '127.0.0.1'} port={target.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {workdir / 'users.txt'}\n"
        "pool_mode = transaction\n"
        # Few server connections for many clients: what transaction pooling is for,
        # and it makes clients share server connections, which is what is tested.
        "default_pool_size = 3\nmax_client_conn = 200\n"
        "unix_socket_dir =\n"
    )
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        command[1:1] = ["-u", "postgres"]
    log = (workdir / "pgbouncer.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {(workdir / 'pgbouncer.log').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def pooled_url(database_url: str, backend: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        pytest.skip("PgBouncer pools PostgreSQL connections")
    with running_pgbouncer(database_url) as url:
        yield url


def pooled_settings(pooled_url: str, direct_url: str, tmp_root: Path) -> Settings:
    settings = make_settings(direct_url, tmp_root)
    database = settings.database.model_copy(
        update={"url": pooled_url, "listen_url": direct_url, "transaction_pooling": True}
    )
    return settings.model_copy(update={"database": database})


def _inbound(sender: str, external_id: str) -> InboundMessage:
    return InboundMessage(
        channel=Channel.telegram,
        external_id=external_id,
        sender=sender,
        text="I paid 300 USDT and the seller vanished",
        thread_key=sender,
    )


async def test_concurrent_intake_through_the_pooler_stores_each_message_once(
    pooled_url: str, database_url: str, tmp_root: Path, unique: str
) -> None:
    """More clients than server connections: statements of different sessions share
    server connections; each message is stored exactly once, resends included."""
    runtime = Runtime.from_settings(pooled_settings(pooled_url, database_url, tmp_root))
    ids = [f"pgb-{unique}-{n}" for n in range(30)]

    async def send(external_id: str) -> None:
        async with runtime.sessionmaker.begin() as session:
            await runtime.ingest(session, _inbound(f"pgb-{unique}-{external_id[-1]}", external_id))

    try:
        await asyncio.gather(*(send(i) for i in ids + ids[:10]))
        async with runtime.sessionmaker() as session:
            stored = await session.scalar(
                sa.select(sa.func.count()).select_from(Message).where(Message.external_id.in_(ids))
            )
    finally:
        await runtime.close()
    assert stored == len(ids)


CROSS_PROCESS_INGEST = """
import asyncio, json, sys, uuid
from gateway.ports import Channel, InboundMessage
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.settings import Settings
from gateway.queues import repository
from gateway.tickets.models import Ticket

async def main(database, queue):
    settings = Settings.model_validate({"database": json.loads(database)})
    runtime = Runtime.from_settings(settings)
    async with runtime.sessionmaker.begin() as session:
        target = await repository.ensure_queue(session, queue)
        result = await runtime.ingest(session, InboundMessage(channel=Channel.telegram,
            external_id=uuid.uuid4().hex, sender="other-process", text="released? no!",
            thread_key=uuid.uuid4().hex))
        ticket = await session.get(Ticket, result.ticket_id)
        ticket.queue_id = target.id
        await runtime.notifier.publish(session, "parley_tickets", str(target.id))
    print(result.ticket_ref)
    await runtime.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_long_poll_wakes_for_a_ticket_another_process_stored_through_the_pooler(
    pooled_url: str, database_url: str, tmp_root: Path, unique: str
) -> None:
    settings = pooled_settings(pooled_url, database_url, tmp_root)
    runtime = Runtime.from_settings(settings)
    app = create_app(runtime.settings, runtime, plugins=[])
    queue = f"pgb-{unique}"
    try:
        token = await make_agent(runtime, [queue])
        async with client(app, token) as http:
            waiting = asyncio.create_task(http.post(f"/api/v1/queues/{queue}/claim?wait=60"))
            await asyncio.sleep(0.3)
            database = json.dumps(runtime.settings.database.model_dump(mode="json"))
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CROSS_PROCESS_INGEST, database, queue,
                cwd=REPO_ROOT, stdout=subprocess.PIPE,
            )  # fmt: skip
            stdout, _ = await process.communicate()
            response = await asyncio.wait_for(waiting, 30)
    finally:
        await runtime.close()
    assert process.returncode == 0
    assert response.status_code == 200, response.text
    assert response.json()["ref"] == stdout.decode().split()[-1]


def test_read_only_commands_work_through_the_pooler(
    pooled_url: str, database_url: str, tmp_path: Path
) -> None:
    """PgBouncer refuses unknown startup parameters: read-only mode is per transaction."""
    env = gateway_env(
        pooled_url, tmp_path, GATEWAY_DATABASE_TRANSACTION_POOLING="true",
        GATEWAY_DATABASE_LISTEN_URL=database_url,
    )  # fmt: skip
    for args in (["agents", "list"], ["route", "I paid 100 USDT, not released"]):
        result = run_cli(args, env, tmp_path)
        assert result.returncode == 0, (args, result.stderr)
