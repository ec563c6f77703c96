"""The long-lived parts one gateway process shares: built once, handed to every edge."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import gateway.models  # noqa: F401  every table registered, so foreign keys resolve
from gateway.agents.cache import AgentCache
from gateway.blobs import BlobStore
from gateway.channel_ports import StateStore
from gateway.clock import Clock, SystemClock
from gateway.db import create_engine, create_sessionmaker
from gateway.doors import CoreHistory, CoreIdentities, CoreIntake, CoreOutbox
from gateway.notify import Notifier
from gateway.orders.pull import ExchangeOrderClient
from gateway.ports import Channel, ChannelAdapter, InboundMessage
from gateway.risk import service as risk_service
from gateway.routing.service import RulesRouter
from gateway.settings import Settings
from gateway.system import repository as system_state
from gateway.tickets.intake import DefaultQueueRouter, IngestResult, TicketRouter
from gateway.webhooks.cache import SubscriptionCache


@dataclass
class Runtime:
    """Also the `ChannelPorts` bundle (gateway/channel_ports.py) every channel is installed with:
    its `intake`, `identities`, `history`, `outbox` and `state` are the core's doors."""

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
    intake: CoreIntake = field(init=False)
    identities: CoreIdentities = field(init=False)
    history: CoreHistory = field(init=False)
    outbox: CoreOutbox = field(init=False)
    # The SystemState repository module is the state store port, as it stands.
    state: StateStore = field(init=False, default=system_state)
    # Bearer tokens seen in the last few seconds (gateway/agents/cache.py).
    agent_cache: AgentCache = field(default_factory=AgentCache)
    # The active webhook subscribers, read once, not per event (gateway/webhooks/cache.py).
    webhook_cache: SubscriptionCache = field(default_factory=SubscriptionCache)

    def __post_init__(self) -> None:
        self.intake = CoreIntake(self)
        self.identities = CoreIdentities()
        self.history = CoreHistory(self)
        self.outbox = CoreOutbox(self)
        self.agent_cache.bind(self.engine)
        self.webhook_cache.bind(self.engine, self.notifier)

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
        sessionmaker = create_sessionmaker(engine, public_url=settings.http.base_url())
        # Risk scores refresh deep inside transactions (a case link at intake).
        risk_service.install(sessionmaker, settings.risk)
        return cls(
            settings=settings,
            clock=clock,
            exchange=exchange,
            engine=engine,
            sessionmaker=sessionmaker,
            blobs=BlobStore(settings.blob.dir),
            # The language models load on the first routed message, once per process.
            router=RulesRouter(settings.routing, risk=settings.risk),
            notifier=Notifier(database.listen_url or database.url),
        )

    async def ingest(self, session: AsyncSession, inbound: InboundMessage) -> IngestResult:
        """The intake port's ingest, for the core's own callers. Flushes."""
        return await self.intake.ingest(session, inbound)

    async def close(self) -> None:
        if self.exchange is not None:
            await self.exchange.close()
        await self.notifier.close()
        await self.engine.dispose()
