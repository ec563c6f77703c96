"""Decided cases with loss figures written straight into the tables, for report tests:
each test takes a window of its own far from today, so the shared database's other
cases never fall into it."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from gateway.agents.models import Agent
from gateway.cases.models import CaseDecision, DisputeCase
from gateway.reports.models import CaseLoss
from gateway.reports.service import week_of
from gateway.runtime import Runtime


@dataclass
class Loss:
    day: int  # days after the window's first Monday
    category: str = "chargeback"
    payment_method: str = "SEPA"
    lost_buyer: int = 0  # minor units of the reporting currency
    lost_seller: int = 0
    lost_exchange: int = 0
    recovered: int = 0
    in_dispute: int = 0
    reason_code: str | None = None
    reporting_currency: str = "USD"
    currency: str = "EUR"
    asset: str = "USDT"
    channel: str = "webchat"
    language: str = "en"
    queue: str = "general"


_windows = itertools.count()


def fresh_monday() -> datetime:
    """A Monday years from now, 20 weeks after the last call's (each run has its own
    databases, so a counter keeps tests' windows apart)."""
    monday = date(2040, 1, 2) + timedelta(weeks=20 * next(_windows))
    assert monday.weekday() == 0
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


async def seed(runtime: Runtime, start: datetime, losses: list[Loss]) -> None:
    async with runtime.sessionmaker.begin() as session:
        agent = Agent(
            name=f"seed-{uuid.uuid4().hex[:8]}", role="supervisor", token_hash=uuid.uuid4().hex
        )
        session.add(agent)
        await session.flush()
        for loss in losses:
            at = start + timedelta(days=loss.day, hours=12)
            case = DisputeCase(
                order_ref=f"seed-{uuid.uuid4().hex}", status="decided", decided_at=at
            )
            session.add(case)
            await session.flush()
            decision = CaseDecision(
                case_id=case.id,  # type: ignore[arg-type]
                outcome="return_to_seller",
                reason="seeded",
                decided_by=agent.id,  # type: ignore[arg-type]
                decided_at=at,
                appeal_until=at + timedelta(days=3),
            )
            session.add(decision)
            await session.flush()
            lost = loss.lost_buyer + loss.lost_seller + loss.lost_exchange
            in_dispute = loss.in_dispute or lost
            session.add(
                CaseLoss(
                    case_id=case.id,  # type: ignore[arg-type]
                    decision_id=decision.id,  # type: ignore[arg-type]
                    set_by=agent.id,  # type: ignore[arg-type]
                    set_at=at,
                    currency=loss.currency,
                    in_dispute=Decimal(in_dispute) / 100,
                    lost_buyer=Decimal(loss.lost_buyer) / 100,
                    lost_seller=Decimal(loss.lost_seller) / 100,
                    lost_exchange=Decimal(loss.lost_exchange) / 100,
                    recovered=Decimal(loss.recovered) / 100,
                    reporting_currency=loss.reporting_currency,
                    rate=Decimal(1),
                    in_dispute_minor=in_dispute,
                    lost_buyer_minor=loss.lost_buyer,
                    lost_seller_minor=loss.lost_seller,
                    lost_exchange_minor=loss.lost_exchange,
                    recovered_minor=loss.recovered,
                    chargeback_network="visa" if loss.reason_code else None,
                    reason_code=loss.reason_code,
                    decided_at=at,
                    week=week_of(at),
                    category=loss.category,
                    payment_method=loss.payment_method,
                    asset=loss.asset,
                    channel=loss.channel,
                    language=loss.language,
                    queue=loss.queue,
                )
            )
