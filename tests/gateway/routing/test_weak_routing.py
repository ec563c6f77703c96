"""Telegram chats start with /start: it decides nothing, the first real message routes
(SQLite and PostgreSQL, through real ingest)."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.audit import AuditEvent
from gateway.routing.decision import is_command
from gateway.runtime import Runtime
from gateway.tickets.models import Ticket
from tests.gateway.routing.test_service import queue_name, sample_rules, send

__all__ = ["sample_rules"]


async def events(runtime: Runtime, ticket: Ticket, action: str) -> list[AuditEvent]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
        return list(rows.scalars())


async def test_start_then_the_real_message_routes_the_ticket(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"tg{unique}"
    opened = await send(runtime, sender, "/start", 1, hint="en")
    assert is_command("/start")
    assert opened.language is None and opened.routing_confidence == 0.0
    assert await queue_name(runtime, opened) == "general"
    later = await send(
        runtime, sender, "Продавец не отпускает USDT, я оплатил час назад", 2, hint="en"
    )
    assert later.id == opened.id
    assert (later.language, later.category, later.severity) == (
        "ru",
        "crypto_not_released",
        "high",
    )
    assert await queue_name(runtime, later) == "ru"
    [moved] = await events(runtime, later, "ticket.rerouted")
    assert moved.data["weak_before"] is True and moved.data["queue"] == "ru"


async def test_the_next_message_after_a_confident_one_does_not_move_the_language(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"tg{unique}"
    first = await send(runtime, sender, "el vendedor no me ha liberado los USDT y ya pagué", 1)
    assert (first.language, await queue_name(runtime, first)) == ("es", "es")
    later = await send(runtime, sender, "the seller still did not release", 2)
    assert later.language == "es"
    assert await queue_name(runtime, later) == "es"


async def test_telegram_language_code_counts_for_romanised_russian(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    ticket = await send(
        runtime, f"tg{unique}", "Prodavec ne otpuskaet usdt, ya oplatil", 1, hint="ru"
    )
    assert ticket.language == "ru"
    assert await queue_name(runtime, ticket) == "ru"


async def test_start_on_a_claimed_ticket_changes_nothing(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"tg{unique}"
    first = await send(runtime, sender, "someone hacked my account and withdrew my btc", 1)
    again = await send(runtime, sender, "/start", 2)
    assert (again.severity, again.category) == ("critical", "account_takeover")
    assert await queue_name(runtime, again) == "critical"
    assert again.routing_confidence == first.routing_confidence
