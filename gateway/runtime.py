"""The long-lived parts one gateway process shares: built once, handed to every edge."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import gateway.models  # noqa: F401  every table registered, so foreign keys resolve
from gateway.agents.cache import AgentCache
from gateway.blobs import BlobStore
from gateway.clock import Clock, SystemClock
from gateway.db import create_engine, create_sessionmaker
from gateway.notify import Notifier
from gateway.orders.pull import ExchangeOrderClient
from gateway.ports import Channel, ChannelAdapter, Choice, InboundMessage
from gateway.routing.service import RulesRouter
from gateway.settings import Settings
from gateway.tickets.intake import DefaultQueueRouter, IngestResult, TicketRouter, ingest


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    notifier: Notifier
    router: TicketRouter = field(default_factory=DefaultQueueRouter)
    adapters: dict[Channel, ChannelAdapter] = field(default_factory=dict)
    # Where SLA clocks, the SLA worker and case deadlines read the time; tests hand in a
    # ManualClock.
    clock: Clock = field(default_factory=SystemClock)
    # Set when GATEWAY_EXCHANGE_ORDER_URL is: order facts are pulled on demand.
    exchange: ExchangeOrderClient | None = None
    # Bearer tokens seen in the last few seconds (gateway/agents/cache.py).
    agent_cache: AgentCache = field(default_factory=AgentCache)

    def __post_init__(self) -> None:
        self.agent_cache.bind(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        database = settings.database
        engine = create_engine(
            database.url,
            pool_size=database.pool_size,
            max_overflow=database.max_overflow,
            pool_timeout=database.pool_timeout_seconds,
            echo=database.echo,
            transaction_pooling=database.transaction_pooling,
        )
        clock = SystemClock()
        exchange = ExchangeOrderClient(settings.exchange) if settings.exchange.order_url else None
        return cls(
            settings=settings,
            clock=clock,
            exchange=exchange,
            engine=engine,
            sessionmaker=create_sessionmaker(engine, public_url=settings.http.base_url()),
            blobs=BlobStore(settings.blob.dir),
            # The language models load on the first routed message, once per process.
            router=RulesRouter(settings.routing),
            notifier=Notifier(database.listen_url or database.url),
        )

    async def ingest(self, session: AsyncSession, inbound: InboundMessage) -> IngestResult:
        """`gateway.tickets.intake.ingest` with this process's limits, router, blob store
        and notifier: what every channel calls. Flushes; the caller commits."""
        return await ingest(
            session,
            inbound,
            limits=self.settings.ingest,
            router=self.router,
            blobs=self.blobs,
            notifier=self.notifier,
        )

    async def answer_choice(
        self, session: AsyncSession, channel: Channel, address: str, value: str
    ) -> str | None:
        """A button the customer tapped (a survey rating), from `address` on `channel`:
        the text to show them, or None when the value is not one of ours. Flushes."""
        from gateway.csat.choices import answer_choice  # csat reaches back into tickets

        return await answer_choice(
            session,
            channel=str(channel),
            address=address,
            value=value,
            now=self.clock.now(),
            notifier=self.notifier,
        )

    async def choices_for(
        self, session: AsyncSession, message_ids: list[int]
    ) -> dict[int, tuple[Choice, ...]]:
        """The buttons to show under these messages (open surveys' ratings)."""
        from gateway.csat.choices import choices_by_message

        return await choices_by_message(session, message_ids, now=self.clock.now())

    async def close(self) -> None:
        if self.exchange is not None:
            await self.exchange.close()
        await self.notifier.close()
        await self.engine.dispose()
