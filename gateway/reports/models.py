"""Loss figures of decided cases and the exchange rates that convert them.

`case_loss` is one row per case: the figures the agent gave with the case's latest
decision (an appeal's new decision replaces them; the audit trail keeps every version).
Besides the figures in the order's currency it carries their conversion into the
reporting currency as integer minor units (exact sums on both databases, and fast:
bigint sums instead of numeric), and the dimensions the loss report groups by, copied
from the order facts and the case's first ticket when the figures are set. The report
then reads this one table (no joins over a million cases).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow

AMOUNT = sa.Numeric(38, 8)
RATE = sa.Numeric(38, 12)


class ExchangeRate(SQLModel, table=True):
    """1 `currency` = `rate` `quote`, from `effective_from` until a later row of the pair."""

    __tablename__ = "exchange_rate"
    __table_args__ = (
        sa.UniqueConstraint(
            "currency", "quote", "effective_from", name="uq_exchange_rate_pair_date"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    currency: str = Field(sa_type=sa.String(3))
    quote: str = Field(sa_type=sa.String(3))
    effective_from: date = Field(sa_type=sa.Date)
    rate: Decimal = Field(sa_type=RATE)
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CaseLoss(SQLModel, table=True):
    __tablename__ = "case_loss"
    __table_args__ = (
        # The report's range scan over one reporting currency.
        sa.Index("ix_case_loss_decided_at", "reporting_currency", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dispute_case.id", unique=True)
    decision_id: int = Field(foreign_key="case_decision.id")
    set_by: int = Field(foreign_key="agent.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    # In the order's currency, as the agent gave them.
    currency: str = Field(sa_type=sa.String(3))
    in_dispute: Decimal = Field(sa_type=AMOUNT)
    lost_buyer: Decimal = Field(sa_type=AMOUNT)
    lost_seller: Decimal = Field(sa_type=AMOUNT)
    lost_exchange: Decimal = Field(sa_type=AMOUNT)
    recovered: Decimal = Field(sa_type=AMOUNT)

    # In the reporting currency: the rate effective on the decision's day, in minor units.
    reporting_currency: str = Field(sa_type=sa.String(3))
    rate: Decimal = Field(sa_type=RATE)
    rate_date: date | None = Field(default=None, sa_type=sa.Date)
    in_dispute_minor: int = Field(sa_type=sa.BigInteger)
    lost_buyer_minor: int = Field(sa_type=sa.BigInteger)
    lost_seller_minor: int = Field(sa_type=sa.BigInteger)
    lost_exchange_minor: int = Field(sa_type=sa.BigInteger)
    recovered_minor: int = Field(sa_type=sa.BigInteger)

    # A chargeback's card network, reason code (`10.4`, `4837`) and respond-by date.
    chargeback_network: str | None = Field(default=None, sa_type=sa.String(10))
    reason_code: str | None = Field(default=None, sa_type=sa.String(16))
    chargeback_due_by: date | None = Field(default=None, sa_type=sa.Date)

    # What the report groups by, fixed when the figures are set.
    decided_at: datetime = Field(sa_type=UTCDateTime)
    week: date = Field(sa_type=sa.Date, description="Monday (UTC) of the decision's week")
    category: str = Field(sa_type=sa.String(40))
    payment_method: str | None = Field(default=None, sa_type=sa.String(64))
    asset: str | None = Field(default=None, sa_type=sa.String(16))
    channel: str | None = Field(default=None, sa_type=sa.String(16))
    language: str | None = Field(default=None, sa_type=sa.String(16))
    queue: str | None = Field(default=None, sa_type=sa.String(100))
