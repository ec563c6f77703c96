"""POST /channels/telegram/webhook: verify, parse, store, and only then answer 200."""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Header, Request
from pydantic import BaseModel
from telegram import Bot, Update

from channels.telegram.files import AttachmentFetcher
from channels.telegram.service import answer_callback, handle_update, set_aside
from gateway.channel_ports import ChannelPorts
from gateway.errors import (
    BadRequest,
    InvalidInbound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)

log = structlog.get_logger()

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookAck(BaseModel):
    """Sent once the update is committed (or deliberately ignored)."""

    ok: bool = True
    outcome: str
    ticket: str | None = None


def build_routes(ports: ChannelPorts, fetcher: AttachmentFetcher | None) -> APIRouter:
    """The webhook route; `fetcher` is None when no bot token is configured (503)."""
    routes = APIRouter(tags=["telegram"])
    settings = ports.settings.telegram

    @routes.post(
        "/channels/telegram/webhook",
        response_model=WebhookAck,
        responses={
            400: {"description": "Body is not a JSON Telegram Update"},
            401: {"description": f"Missing or wrong {SECRET_HEADER}"},
            413: {"description": "Update larger than GATEWAY_TELEGRAM_MAX_UPDATE_BYTES"},
            503: {"description": "Telegram is not configured (no token or webhook secret)"},
        },
    )
    async def telegram_webhook(
        request: Request,
        background: BackgroundTasks,
        secret_token: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
    ) -> WebhookAck:
        """Store one Telegram Update; 200 only after it is committed, so Telegram retries
        anything that failed before."""
        if fetcher is None:
            raise Unavailable("Telegram is off: GATEWAY_TELEGRAM_TOKEN is not set")
        if settings.webhook_secret is None:
            raise Unavailable(
                "GATEWAY_TELEGRAM_WEBHOOK_SECRET is not set: updates cannot be verified"
            )
        expected = settings.webhook_secret.get_secret_value().encode()
        if secret_token is None or not hmac.compare_digest(secret_token.encode(), expected):
            log.warning("telegram.webhook_unauthorized", client=_client(request))
            raise Unauthorized(f"missing or wrong {SECRET_HEADER}")

        body = await request.body()
        if len(body) > settings.max_update_bytes:
            raise PayloadTooLarge(f"update larger than {settings.max_update_bytes} bytes")
        try:
            data = json.loads(body)
        except RecursionError:
            # Valid JSON nested past what any Update has: keep it for an operator and
            # answer 200, or Telegram would re-post it for a day.
            await set_aside(ports, body, reason="invalid", error="JSON nested too deeply")
            return WebhookAck(outcome="set_aside")
        except ValueError as exc:
            raise BadRequest(f"body is not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise BadRequest("body is not a Telegram Update (no integer update_id)")
        try:
            update = parse_update(data, fetcher.bot)
        except Exception as exc:  # any parser failure: keep the raw update for an operator
            await set_aside(ports, body, reason="unparseable", error=repr(exc))
            return WebhookAck(outcome="set_aside")
        try:
            async with ports.sessionmaker.begin() as session:
                handled = await handle_update(session, update, ports, body)
        except InvalidInbound as exc:
            # Telegram would re-post it forever: set it aside and acknowledge.
            await set_aside(ports, body, reason="invalid", error=exc.detail)
            return WebhookAck(outcome="set_aside")
        if handled.pending_attachments:
            background.add_task(fetcher.fetch_many, handled.pending_attachments)
        if handled.callback is not None:
            background.add_task(answer_callback, fetcher.bot, handled)
        return WebhookAck(outcome=handled.outcome, ticket=handled.ticket_ref)

    return routes


# What a message needs to reach an agent when the rest of it cannot be parsed.
CORE_MESSAGE_FIELDS = ("message_id", "from", "chat", "date", "edit_date", "text", "caption")


def parse_update(data: dict[str, Any], bot: Bot) -> Update:
    """The Update, parsed by python-telegram-bot. Payloads older or newer than the library
    (users without `is_bot`, media without `file_unique_id`) keep at least their message's
    text, so a customer's words are never dropped for a field we do not use."""
    try:
        return Update.de_json(data, bot)
    except (TypeError, ValueError, KeyError) as first_error:
        data = _with_is_bot(data)
        try:
            return Update.de_json(data, bot)
        except (TypeError, ValueError, KeyError):
            pass
        for kind in ("message", "edited_message"):
            message = data.get(kind)
            if isinstance(message, dict):
                core = {k: v for k, v in message.items() if k in CORE_MESSAGE_FIELDS}
                log.warning("telegram.update_partly_parsed", error=repr(first_error))
                return Update.de_json({"update_id": data["update_id"], kind: core}, bot)
        raise


def _with_is_bot(value: Any) -> Any:
    if isinstance(value, dict):
        fixed = {key: _with_is_bot(item) for key, item in value.items()}
        if "id" in fixed and "first_name" in fixed and "type" not in fixed:
            fixed.setdefault("is_bot", False)
        return fixed
    if isinstance(value, list):
        return [_with_is_bot(item) for item in value]
    return value


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None
