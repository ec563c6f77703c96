"""The email desk through real processes: a customer's mail client, `gateway serve`,
an agent with curl-like HTTP calls, the relay the replies leave through, and a delivery
worker killed with SIGKILL mid-send."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.outbox.models import Outbox
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.tickets.intake import IngestResult
from tests.channels.email.conftest import mail, smtp_send
from tests.desk import client, make_agent, new_ticket
from tests.processes import free_port, gateway_env, gateway_process, run_cli

DESK = "support@desk.test"


class Relay:
    """The outbound relay on loopback; `delay` slows each mail down like a busy server."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        self.received.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received]


async def start_relay(relay: Relay) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(relay, hostname="relay.test", loop=loop), "127.0.0.1", 0
    )
    return server, server.sockets[0].getsockname()[1]


async def wait_until(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_customer_mail_agent_reply_and_threaded_answer(
    fresh_database_url: str, tmp_path: Path, unique: str
) -> None:
    database_url = fresh_database_url
    relay = Relay()
    server, relay_port = await start_relay(relay)
    http_port, smtp_port = free_port(), free_port()
    env = gateway_env(
        database_url,
        tmp_path,
        GATEWAY_SMTP_PORT=str(smtp_port),
        GATEWAY_SMTP_RELAY_HOST="127.0.0.1",
        GATEWAY_SMTP_RELAY_PORT=str(relay_port),
        GATEWAY_MAIL_FROM=DESK,
        GATEWAY_OUTBOX_POLL_SECONDS="0.2",
    )
    queue = f"mail-{unique}"
    created = run_cli(
        ["agents", "create", "--name", f"ola-{unique}", "--queues", f"general,{queue}"],
        env,
        tmp_path,
    )
    token = created.stdout.strip().splitlines()[-1]
    customer = f"trader-{unique}@example.com"
    try:
        with gateway_process(env, tmp_path, port=http_port):
            first = mail(
                customer,
                "USDT not released",
                "I paid 300 EUR two hours ago.",
                message_id=f"<m1-{unique}@example.com>",
            )
            code, _ = await smtp_send(smtp_port, first, customer)
            assert code == 250

            base = f"http://127.0.0.1:{http_port}"
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=70
            ) as http:
                claimed = await http.post("/api/v1/claim?wait=30")
                assert claimed.status_code == 200, claimed.text
                ticket = claimed.json()
                assert ticket["channel"] == "email" and ticket["messages"][0]["text"].startswith(
                    "I paid 300 EUR"
                )
                ref = ticket["ref"]
                answer = await http.post(
                    f"/api/v1/tickets/{ref}/replies",
                    json={"text": "The seller has been asked to release."},
                )
                assert answer.status_code == 201

                await wait_until(lambda: relay.received, 30, "the reply at the relay")
                reply = relay.received[0]
                assert reply["To"] == customer and f"[{ref}]" in reply["Subject"]
                assert reply["In-Reply-To"] == f"<m1-{unique}@example.com>"
                body = reply.get_body(("plain",))
                assert (
                    body is not None
                    and "The seller has been asked to release." in body.get_content()
                )

                # The customer's mail client answers: a new subject, only In-Reply-To.
                answer_mail = mail(
                    customer,
                    "still waiting",
                    "Nothing arrived yet.",
                    message_id=f"<m2-{unique}@example.com>",
                    In_Reply_To=str(reply["Message-ID"]),
                )
                assert (await smtp_send(smtp_port, answer_mail, customer))[0] == 250
                full = (await http.get(f"/api/v1/tickets/{ref}")).json()
                assert [m["direction"] for m in full["messages"]] == [
                    "inbound",
                    "outbound",
                    "inbound",
                ]
                assert full["messages"][1]["delivery_state"] == "sent"
                assert full["messages"][2]["text"].startswith("Nothing arrived yet.")
    finally:
        server.close()
        await server.wait_closed()


async def test_worker_killed_mid_delivery_loses_nothing(
    app: object, runtime: Runtime, database_url: str, tmp_path: Path, unique: str
) -> None:
    relay = Relay(delay=0.05)
    server, relay_port = await start_relay(relay)
    queue = f"crash-{unique}"
    token = await make_agent(runtime, [queue], capacity=1000)
    tickets = [
        await new_ticket(runtime, queue, channel=Channel.email, sender=f"c{i}-{unique}@example.com")
        for i in range(30)
    ]
    async with client(app, token) as http:  # type: ignore[arg-type]
        for round_ in range(2):
            for ticket in tickets:
                sent = await http.post(
                    f"/api/v1/tickets/{ticket.ticket_ref}/replies",
                    json={"text": f"{unique} {round_}"},
                )
                assert sent.status_code == 201
    env = gateway_env(
        database_url,
        tmp_path,
        GATEWAY_SMTP_RELAY_HOST="127.0.0.1",
        GATEWAY_SMTP_RELAY_PORT=str(relay_port),
        GATEWAY_MAIL_FROM=DESK,
        GATEWAY_OUTBOX_LEASE_SECONDS="3",
        GATEWAY_OUTBOX_POLL_SECONDS="0.2",
    )

    def mine() -> list[email.message.EmailMessage]:
        return [m for m in relay.received if str(m["To"]).endswith(f"-{unique}@example.com")]

    try:
        with gateway_process(env, tmp_path, command="worker") as worker:
            await wait_until(lambda: len(mine()) >= 10, 60, "the first deliveries")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        at_kill = len(mine())
        assert at_kill < 60, "the worker finished before the kill; slow the relay down"
        with gateway_process(env, tmp_path, command="worker"):
            await wait_until(
                lambda: len({str(m["Message-ID"]) for m in mine()}) >= 60, 90, "every reply"
            )
    finally:
        server.close()
        await server.wait_closed()

    ids = [str(m["Message-ID"]) for m in mine()]
    assert len(set(ids)) == 60  # every reply arrived
    duplicates = len(ids) - len(set(ids))
    # Only a send in flight at the kill may arrive twice: at most one per ticket.
    assert duplicates <= len(tickets)
    print(f"kill after {at_kill} deliveries; {duplicates} resent after restart")


async def outbox_states(runtime: Runtime, tickets: list[IngestResult]) -> dict[str, int]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Outbox.state, sa.func.count())
            .where(Outbox.ticket_id.in_([t.ticket_id for t in tickets]))
            .group_by(Outbox.state)
        )
        return {state: count for state, count in rows.all()}


pytestmark = pytest.mark.slow
