"""The order facts body the exchange pushes (and its pull endpoint returns)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from gateway.orders.models import OrderSide, OrderSource, OrderStatus
from gateway.validation import InboundModel

ORDER_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{3,99}$"
USER_ID = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
MONEY = Field(gt=0, max_digits=30, decimal_places=8)
# fiat_amount may differ from crypto_amount * price by rounding on the exchange's side,
# never by more than this share of the fiat amount.
PRICE_TOLERANCE = Decimal("0.01")


class OrderFactsIn(InboundModel):
    model_config = ConfigDict(extra="forbid")

    buyer_user_id: str = USER_ID
    seller_user_id: str = USER_ID
    side: OrderSide
    asset: str = Field(pattern=r"^[A-Z0-9]{2,16}$", description="e.g. USDT")
    crypto_amount: Decimal = MONEY
    fiat_currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR")
    fiat_amount: Decimal = MONEY
    price: Decimal = MONEY
    payment_method: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    status: OrderStatus
    created_at: AwareDatetime
    payment_deadline_at: AwareDatetime | None = None
    marked_paid_at: AwareDatetime | None = None
    released_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    appeal_opened_at: AwareDatetime | None = None
    payer_account_name: str | None = Field(default=None, max_length=200)
    payer_name_matches: bool | None = None
    receiving_account: str | None = Field(default=None, max_length=200)
    transfer_remark: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.buyer_user_id == self.seller_user_id:
            raise ValueError("buyer_user_id and seller_user_id are the same user")
        expected = self.crypto_amount * self.price
        if abs(expected - self.fiat_amount) > self.fiat_amount * PRICE_TOLERANCE:
            raise ValueError(
                f"fiat_amount {self.fiat_amount} is not crypto_amount * price ({expected})"
            )
        for name in (
            "payment_deadline_at",
            "marked_paid_at",
            "released_at",
            "cancelled_at",
            "appeal_opened_at",
        ):
            value = getattr(self, name)
            if value is not None and value < self.created_at:
                raise ValueError(f"{name} is before created_at")
        if self.released_at is not None and self.cancelled_at is not None:
            raise ValueError("an order cannot be both released and cancelled")
        if self.status == OrderStatus.released and self.released_at is None:
            raise ValueError("status released needs released_at")
        if self.status == OrderStatus.cancelled and self.cancelled_at is None:
            raise ValueError("status cancelled needs cancelled_at")
        for text in (self.payer_account_name, self.receiving_account, self.transfer_remark):
            if text is not None and "\x00" in text:
                raise ValueError("text fields must not contain NUL characters")
        return self


class OrderFactsPublic(BaseModel):
    order_ref: str
    buyer_user_id: str
    seller_user_id: str
    side: OrderSide
    asset: str
    crypto_amount: Decimal
    fiat_currency: str
    fiat_amount: Decimal
    price: Decimal
    payment_method: str
    status: OrderStatus
    created_at: datetime
    payment_deadline_at: datetime | None
    marked_paid_at: datetime | None
    released_at: datetime | None
    cancelled_at: datetime | None
    appeal_opened_at: datetime | None
    payer_account_name: str | None
    payer_name_matches: bool | None
    receiving_account: str | None
    transfer_remark: str | None
    source: OrderSource
    fetched_at: datetime
    updated_at: datetime
