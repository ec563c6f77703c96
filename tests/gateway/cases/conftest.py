"""A whole desk on loopback for the case tests: the HTTP app with the web chat, the
SMTP listener, an exchange integration token, and a manual clock."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from channels.email.service import EmailIntake
from gateway.app import create_app
from gateway.clock import SystemClock
from gateway.integrations.service import create_service_token
from gateway.runtime import Runtime
from tests.channels.email.conftest import mail, smtp_send, start_listener
from tests.channels.telegram.conftest import botapi, tg  # noqa: F401  (Telegram fixtures)
from tests.conftest import make_settings
from tests.desk import http_server

ORIGIN = "https://exchange.example"
IDENTITY_SECRET = "cases-identity-secret"
DESK_ADDRESS = "support@desk.example"


def new_order_ref() -> str:
    """18 digits: what routing reads as an order reference in any message."""
    return str(uuid.uuid4().int)[:18]


def order_facts(buyer: str, seller: str, **overrides: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "buyer_user_id": buyer,
        "seller_user_id": seller,
        "side": "buy",
        "asset": "USDT",
        "crypto_amount": "500",
        "fiat_currency": "EUR",
        "fiat_amount": "460.00",
        "price": "0.92",
        "payment_method": "SEPA",
        "status": "paid_marked",
        "created_at": "2026-11-30T10:00:00Z",
        "payment_deadline_at": "2026-11-30T10:15:00Z",
        "marked_paid_at": "2026-11-30T10:09:00Z",
        "payer_account_name": "ANNA B SMITH",
        "payer_name_matches": True,
        "transfer_remark": "order payment",
    }
    return facts | overrides


@dataclass
class Desk:
    runtime: Runtime
    http: str
    smtp_port: int
    clock: SystemClock
    integration_token: str

    def api(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.http, headers=headers, timeout=60)

    async def push_order(self, order_ref: str, facts: dict[str, Any]) -> httpx.Response:
        async with self.api(self.integration_token) as client:
            return await client.put(f"/api/v1/orders/{order_ref}", json=facts)

    async def visitor(self, user_id: str | None = None, language: str = "en") -> dict[str, Any]:
        """A widget session; with `user_id`, vouched for by the exchange's HMAC."""
        body: dict[str, Any] = {"language": language, "name": f"visitor {user_id}"}
        if user_id:
            body["user_id"] = user_id
            body["user_hash"] = hmac.new(
                IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256
            ).hexdigest()
        async with httpx.AsyncClient(base_url=self.http) as client:
            response = await client.post(
                "/channels/webchat/sessions", json=body, headers={"Origin": ORIGIN}
            )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def chat(
        self, visitor: dict[str, Any], text: str, attachments: list[str] | None = None
    ) -> dict[str, Any]:
        async with self.widget(visitor) as client:
            body: dict[str, Any] = {"client_id": uuid.uuid4().hex, "text": text}
            if attachments:
                body["attachments"] = attachments
            response = await client.post("/channels/webchat/messages", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def widget(self, visitor: dict[str, Any]) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.http,
            headers={"Authorization": f"Bearer {visitor['token']}", "Origin": ORIGIN},
            timeout=60,
        )

    async def upload(self, visitor: dict[str, Any], name: str, data: bytes) -> str:
        async with self.widget(visitor) as client:
            response = await client.post(
                "/channels/webchat/attachments", params={"filename": name}, content=data
            )
        assert response.status_code == 201, response.text
        return str(response.json()["attachment_id"])

    async def email(self, sender: str, subject: str, text: str) -> None:
        message = mail(sender, subject, text, to=DESK_ADDRESS)
        code, reply = await smtp_send(self.smtp_port, message, sender, [DESK_ADDRESS])
        assert code == 250, reply

    async def email_message(self, message: EmailMessage) -> None:
        code, reply = await smtp_send(self.smtp_port, message, str(message["From"]), [DESK_ADDRESS])
        assert code == 250, reply

    async def scalar(self, stmt: sa.Select[Any]) -> Any:
        async with self.runtime.sessionmaker() as session:
            return await session.scalar(stmt)


@pytest.fixture(scope="session")
async def desk(database_url: str, tmp_root: Path) -> AsyncIterator[Desk]:
    settings = make_settings(
        database_url,
        tmp_root,
        webchat={
            "allowed_origins": [ORIGIN],
            "identity_secret": IDENTITY_SECRET,
            "messages_per_minute": 1000,
            "max_attachment_bytes": 2_000_000,
        },
        mail={"from": DESK_ADDRESS},
    )
    runtime = Runtime.from_settings(settings)
    # The real clock, as intake's; a test that needs the future swaps in a ManualClock.
    clock = SystemClock()
    runtime.clock = clock
    await runtime.router.warm_up()  # the language models, before the first message
    app = create_app(settings, runtime)
    async with runtime.sessionmaker.begin() as session:
        _row, token = await create_service_token(session, name=f"exchange-{uuid.uuid4().hex[:8]}")
    listener, stop, task = await start_listener(EmailIntake(runtime))
    assert listener.bound_port is not None
    async with http_server(app) as url:
        yield Desk(runtime, url, listener.bound_port, clock, token)
    stop.set()
    await task
    await runtime.close()
