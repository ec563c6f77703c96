"""Loss figures as the agent gives them with a decision, and as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.reports.codes import reason_code_problem
from gateway.validation import InboundModel

# Amounts in the order's currency: not negative, at most 8 decimal places.
MONEY = Field(default=Decimal(0), ge=0, max_digits=30, decimal_places=8)


class LostBy(InboundModel):
    """Who bears the loss, in the order's currency."""

    model_config = ConfigDict(extra="forbid")
    buyer: Decimal = MONEY
    seller: Decimal = MONEY
    exchange: Decimal = MONEY


class ChargebackIn(InboundModel):
    model_config = ConfigDict(extra="forbid")
    network: Literal["visa", "mastercard"]
    reason_code: str = Field(
        min_length=2, max_length=8, description="Visa 10.1-13.9, Mastercard 48xx", examples=["10.4"]
    )
    due_by: date = Field(description="The date the response to the network is due")

    @model_validator(mode="after")
    def _known_code(self) -> Self:
        self.reason_code = self.reason_code.strip()
        problem = reason_code_problem(self.network, self.reason_code)
        if problem:
            raise ValueError(problem)
        return self


class LossIn(InboundModel):
    """Loss figures set with a decision. Amounts are in the order's currency; the
    reporting-currency figures are converted at the rate effective on the decision's day."""

    model_config = ConfigDict(extra="forbid")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Default: the order's fiat currency"
    )
    in_dispute: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=30,
        decimal_places=8,
        description="Amount in dispute; default: the order's fiat amount",
    )
    lost: LostBy = Field(default_factory=LostBy)
    recovered: Decimal = MONEY
    chargeback: ChargebackIn | None = None

    @model_validator(mode="after")
    def _adds_up(self) -> Self:
        total = self.lost.buyer + self.lost.seller + self.lost.exchange
        if self.recovered > total:
            raise ValueError(f"recovered ({self.recovered}) is more than the amount lost ({total})")
        return self


class ChargebackPublic(BaseModel):
    network: str
    reason_code: str
    due_by: date


class AmountsPublic(BaseModel):
    """Amounts as decimal strings (exact)."""

    currency: str
    in_dispute: Decimal
    lost_buyer: Decimal
    lost_seller: Decimal
    lost_exchange: Decimal
    lost: Decimal = Field(description="Buyer + seller + exchange")
    recovered: Decimal
    net_loss: Decimal = Field(description="Lost minus recovered")


class LossPublic(BaseModel):
    decision_id: int
    order_currency: AmountsPublic
    reporting: AmountsPublic
    rate: Decimal = Field(description="1 order currency = rate reporting currency")
    rate_date: date | None = Field(description="When the rate used took effect")
    chargeback: ChargebackPublic | None
    set_by: str
    set_at: datetime
