"""Real `gateway serve` processes for the multi-process and browser tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from channels.webchat.adapter import WebchatAdapter
from gateway.db import utcnow
from gateway.ports import Channel, OutboundMessage
from gateway.runtime import Runtime
from gateway.tickets.models import ActorType, DeliveryState, Direction, Message, parse_ticket_ref

REPO = Path(__file__).resolve().parents[3]


async def agent_reply(runtime: Runtime, ticket: str, text: str, *, note: bool = False) -> int:
    """What the agent API and the outbox worker do for a reply: a message row, then the
    webchat adapter's deliver(). A note is written and never delivered."""
    ticket_id = parse_ticket_ref(ticket)
    assert ticket_id is not None
    async with runtime.sessionmaker.begin() as session:
        message = Message(
            ticket_id=ticket_id,
            channel=str(Channel.webchat),
            direction=Direction.note if note else Direction.outbound,
            author_type=ActorType.agent,
            text=text,
            delivery_state=DeliveryState.internal if note else DeliveryState.pending,
            created_at=utcnow(),
        )
        session.add(message)
        await session.flush()
        assert message.id is not None
        message_id = message.id
    if not note:
        await WebchatAdapter(runtime).deliver(
            OutboundMessage(
                outbox_id=0,
                message_id=message_id,
                ticket_ref=ticket,
                channel=Channel.webchat,
                recipient="",
                text=text,
                idempotency_key=f"test-{message_id}",
            )
        )
    return message_id


class GatewayProcess:
    """`python -m gateway serve` on a port, started and stopped like an operator would."""

    def __init__(self, database_url: str, port: int, workdir: Path, **env: str):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
            "PYTHONPATH": str(REPO),
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_HTTP_PORT": str(port),
            "GATEWAY_SMTP_PORT": "0",
            "GATEWAY_BLOB_DIR": str(workdir / "blobs"),
            "GATEWAY_LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log_path = self.workdir / f"gateway-{self.port}.log"
        with log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway",
                "serve",
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"gateway exited: see {log_path}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("gateway did not become healthy in 30 s")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(sig)
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def origins(*values: str) -> str:
    return json.dumps(list(values))
