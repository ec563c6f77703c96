"""RulesRouter through real ingest on SQLite and PostgreSQL: queue, fields, reasons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.agents.service import create_agent
from gateway.audit import AuditEvent
from gateway.ports import Channel, InboundMessage
from gateway.queues.models import Queue
from gateway.routing.rules import RuleSet, parse_toml
from gateway.routing.service import RulesRouter, load_rules
from gateway.runtime import Runtime
from gateway.tickets.intake import ingest
from gateway.tickets.models import Customer, Message, Ticket

SAMPLE = Path(__file__).parents[3] / "gateway" / "routing" / "rules.sample.toml"


@pytest.fixture
async def sample_rules(runtime: Runtime) -> AsyncIterator[None]:
    """The sample rules for one test; afterwards no rules again, so other tests of the
    shared database keep seeing the default queue."""
    async with runtime.sessionmaker.begin() as session:
        await load_rules(session, parse_toml(SAMPLE.read_text(encoding="utf-8")))
    yield
    async with runtime.sessionmaker.begin() as session:
        await load_rules(session, RuleSet(queues=(), rules=()))


async def send(
    runtime: Runtime, sender: str, text: str, n: int, *, hint: str | None = None
) -> Ticket:
    inbound = InboundMessage(
        channel=Channel.telegram,
        external_id=f"{sender}:{n}",
        sender=sender,
        text=text,
        thread_key=sender,
        language_hint=hint,
    )
    async with runtime.sessionmaker.begin() as session:
        result = await ingest(
            session, inbound, limits=runtime.settings.ingest, router=runtime.router
        )
        return await session.get_one(Ticket, result.ticket_id)


async def queue_name(runtime: Runtime, ticket: Ticket) -> str:
    async with runtime.sessionmaker() as session:
        return (await session.get_one(Queue, ticket.queue_id)).name


async def test_runtime_builds_the_rules_router(runtime: Runtime) -> None:
    assert isinstance(runtime.router, RulesRouter)


async def test_new_ticket_lands_in_the_queue_the_rules_name(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    ticket = await send(
        runtime,
        f"u{unique}",
        "Продавец не отпускает USDT по ордеру 22612345678901234567, оплатил 300 USDT час назад",
        1,
    )
    assert await queue_name(runtime, ticket) == "ru"
    assert (ticket.language, ticket.severity, ticket.category) == (
        "ru",
        "high",
        "crypto_not_released",
    )
    assert ticket.order_ref == "22612345678901234567"
    assert (ticket.amount, ticket.currency) == (300, "USDT")
    assert any(r.startswith("language ru") for r in ticket.routing_reasons)
    assert "rule 'lang-ru' (language=ru) -> ru" in ticket.routing_reasons
    async with runtime.sessionmaker() as session:
        message = (
            await session.execute(sa.select(Message).where(Message.ticket_id == ticket.id))
        ).scalar_one()
        assert message.language == "ru"
        event = (
            await session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.routed"
                )
            )
        ).scalar_one()
        assert event.data["queue"] == "ru" and event.data["rule"] == "lang-ru"


async def test_theft_jumps_every_queue(runtime: Runtime, sample_rules: None, unique: str) -> None:
    ticket = await send(runtime, f"u{unique}", "someone hacked my account and withdrew all", 1)
    assert (ticket.severity, ticket.severity_rank) == ("critical", 0)
    assert await queue_name(runtime, ticket) == "critical"


async def test_numbers_only_is_unknown_and_goes_to_the_default_queue(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    ticket = await send(runtime, f"u{unique}", "22612345678901234567", 1, hint="ru")
    assert ticket.language is None
    assert await queue_name(runtime, ticket) == "general"
    assert ticket.order_ref == "22612345678901234567"


async def test_later_message_raises_severity_and_moves_an_unassigned_ticket(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"u{unique}"
    first = await send(runtime, sender, "Hello, I have a question about my order please", 1)
    assert await queue_name(runtime, first) == "en"
    assert first.severity in {"low", "normal"}
    later = await send(runtime, sender, "the seller did not release 15,000 USDT", 2)
    assert later.id == first.id
    assert later.severity == "critical"
    assert later.category == "crypto_not_released"
    assert await queue_name(runtime, later) == "critical"
    assert any(r.startswith("message ") and "critical" in r for r in later.routing_reasons)
    # A calmer message never lowers it.
    calm = await send(runtime, sender, "thanks", 3)
    assert (calm.severity, await queue_name(runtime, calm)) == ("critical", "critical")


async def test_assigned_ticket_is_not_moved(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"u{unique}"
    first = await send(runtime, sender, "I have a question about fees please", 1)
    async with runtime.sessionmaker.begin() as session:
        agent, _token = await create_agent(session, name=f"a{unique}", queues=["en"])
        ticket = await session.get_one(Ticket, first.id)
        ticket.assignee_id = agent.id
    later = await send(runtime, sender, "someone hacked my account", 2)
    assert later.severity == "critical"
    assert await queue_name(runtime, later) == "en"


async def test_agent_set_language_wins(runtime: Runtime, sample_rules: None, unique: str) -> None:
    sender = f"u{unique}"
    first = await send(runtime, sender, "Hola, el vendedor todavía no me ha liberado los USDT", 1)
    assert first.language == "es"
    async with runtime.sessionmaker.begin() as session:
        customer = await session.get_one(Customer, first.customer_id)
        customer.language = "pt"
        ticket = await session.get_one(Ticket, first.id)
        ticket.status = "closed"
    second = await send(runtime, sender, "el vendedor todavía no libera", 2)
    assert second.id != first.id
    assert second.language == "pt"
    assert await queue_name(runtime, second) == "pt"
    assert "language set by an agent for this customer" in second.routing_reasons


async def test_repeat_dispute_raises_severity(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"u{unique}"
    first = await send(runtime, sender, "buyer sent the wrong amount", 1)
    assert first.severity == "normal"
    async with runtime.sessionmaker.begin() as session:
        (await session.get_one(Ticket, first.id)).status = "closed"
    second = await send(runtime, sender, "buyer sent the wrong amount again", 2)
    assert second.severity == "high"
    assert any("repeat dispute" in r for r in second.routing_reasons)


async def test_short_text_follows_the_customers_history(
    runtime: Runtime, sample_rules: None, unique: str
) -> None:
    sender = f"u{unique}"
    first = await send(runtime, sender, "Olá, o pix não caiu ainda na minha conta", 1)
    assert first.language == "pt"
    await send(runtime, sender, "pagado", 2)
    async with runtime.sessionmaker() as session:
        languages = (
            (
                await session.execute(
                    sa.select(Message.language)
                    .where(Message.ticket_id == first.id)
                    .order_by(Message.id)
                )
            )
            .scalars()
            .all()
        )
    assert languages == ["pt", "pt"]


async def test_every_process_sees_new_rules(runtime: Runtime, unique: str) -> None:
    other_process = RulesRouter(runtime.settings.routing)
    async with runtime.sessionmaker() as session:
        before, _ = await other_process.rules(session)
    source = (
        f'[[queues]]\nname = "q{unique}"\n[[rules]]\nname = "all{unique}"\nqueue = "q{unique}"\n'
    )
    try:
        async with runtime.sessionmaker.begin() as session:
            await load_rules(session, parse_toml(source))
        async with runtime.sessionmaker() as session:
            after, ids = await other_process.rules(session)
        assert [r.name for r in after.rules] == [f"all{unique}"]
        assert f"q{unique}" in ids and before != after
        ticket = await send(runtime, f"u{unique}", "anything at all", 1)
        assert await queue_name(runtime, ticket) == f"q{unique}"
    finally:
        async with runtime.sessionmaker.begin() as session:
            await load_rules(session, RuleSet(queues=(), rules=()))
