"""Order facts: the exchange's record of one P2P order, as it pushed or we pulled it.

The exchange is the source of truth; a row here is its latest word, kept whole so
disputes, loss figures and risk signals read the same facts.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow

AMOUNT = sa.Numeric(38, 8)


class OrderStatus(enum.StrEnum):
    pending_payment = "pending_payment"
    paid_marked = "paid_marked"
    releasing = "releasing"
    released = "released"
    cancelled = "cancelled"
    completed = "completed"
    frozen = "frozen"


class OrderSide(enum.StrEnum):
    """The side of the advertisement the order was taken against (buyer's view: buy)."""

    buy = "buy"
    sell = "sell"


class OrderSource(enum.StrEnum):
    push = "push"  # PUT /api/v1/orders/{order_ref} by an integration
    pull = "pull"  # fetched from GATEWAY_EXCHANGE_ORDER_URL


class OrderFact(SQLModel, table=True):
    __tablename__ = "order_fact"

    id: int | None = Field(default=None, primary_key=True)
    order_ref: str = Field(sa_type=sa.String(100), unique=True)
    # Indexed: risk signals and loss reports group and join by user, method and currency.
    buyer_user_id: str = Field(sa_type=sa.String(200), index=True)
    seller_user_id: str = Field(sa_type=sa.String(200), index=True)
    side: str = Field(sa_type=sa.String(4))
    asset: str = Field(sa_type=sa.String(16))
    crypto_amount: Decimal = Field(sa_type=AMOUNT)
    fiat_currency: str = Field(sa_type=sa.String(3), index=True)
    fiat_amount: Decimal = Field(sa_type=AMOUNT)
    price: Decimal = Field(sa_type=AMOUNT)
    payment_method: str = Field(sa_type=sa.String(64), index=True)
    status: str = Field(sa_type=sa.String(20))
    order_created_at: datetime = Field(sa_type=UTCDateTime)
    payment_deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marked_paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    appeal_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payer_account_name: str | None = Field(default=None, sa_type=sa.String(200), index=True)
    # The exchange's check: the payer's bank account name equals the buyer's KYC name.
    payer_name_matches: bool | None = None
    # The seller's receiving account as the exchange identifies it (masked IBAN, wallet).
    receiving_account: str | None = Field(default=None, sa_type=sa.String(200), index=True)
    transfer_remark: str | None = Field(default=None, sa_type=sa.String(500))
    source: str = Field(default=OrderSource.push, sa_type=sa.String(8))
    # When the exchange last gave us these facts (a pull's cache age is counted from it).
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
