"""Setting a case's loss figures with its decision. Audited; flushes only.

The figures are checked and converted before the decision is written (`prepare`), so a
missing rate or figures that do not add up refuse the whole decision with a 4xx, and
stored against the decision once it has an id (`store`).

The report's dimensions come from the order facts (payment method, asset) and from the
case's first linked ticket, the one that opened the dispute (category, channel,
language, queue), as they stand when the figures are set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit
from gateway.agents.context import AgentContext
from gateway.errors import InvalidRequest
from gateway.orders.models import OrderFact
from gateway.queues.models import Queue
from gateway.reports import rates
from gateway.reports.codes import minor_digits
from gateway.reports.models import CaseLoss
from gateway.reports.schemas import AmountsPublic, ChargebackPublic, LossIn, LossPublic
from gateway.tickets.models import ActorType, Ticket

FIGURES = ("in_dispute", "lost_buyer", "lost_seller", "lost_exchange", "recovered")


@dataclass(frozen=True)
class PreparedLoss:
    currency: str
    amounts: dict[str, Decimal]
    reporting_currency: str
    rate: Decimal
    rate_date: date | None
    minor: dict[str, int]
    body: LossIn


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the moment's ISO week."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def to_minor(amount: Decimal, rate: Decimal, currency: str) -> int:
    scaled = amount * rate * (Decimal(10) ** minor_digits(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor(value: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return (Decimal(value) / (Decimal(10) ** digits)).quantize(Decimal(1).scaleb(-digits))


async def prepare(
    session: AsyncSession,
    body: LossIn,
    order: OrderFact | None,
    *,
    reporting_currency: str,
    now: datetime,
) -> PreparedLoss:
    """Check the figures against the order and convert them; 422 with the fix if not."""
    currency = body.currency or (order.fiat_currency if order else None)
    if currency is None:
        raise InvalidRequest("the case has no order facts: give loss.currency (ISO 4217)")
    if order is not None and currency != order.fiat_currency:
        raise InvalidRequest(
            f"loss.currency {currency} is not the order's currency {order.fiat_currency}: "
            "give figures in the order's currency (they are converted for reports)"
        )
    in_dispute = body.in_dispute
    if in_dispute is None:
        if order is None:
            raise InvalidRequest("the case has no order facts: give loss.in_dispute")
        in_dispute = Decimal(order.fiat_amount)
    lost = body.lost.buyer + body.lost.seller + body.lost.exchange
    if lost > in_dispute:
        raise InvalidRequest(
            f"the amount lost ({lost}: buyer + seller + exchange) is more than the amount "
            f"in dispute ({in_dispute})"
        )
    amounts = {
        "in_dispute": in_dispute,
        "lost_buyer": body.lost.buyer,
        "lost_seller": body.lost.seller,
        "lost_exchange": body.lost.exchange,
        "recovered": body.recovered,
    }
    rate, rate_date = await rates.rate_on(session, currency, reporting_currency, now.date())
    minor = {k: to_minor(v, rate, reporting_currency) for k, v in amounts.items()}
    return PreparedLoss(currency, amounts, reporting_currency, rate, rate_date, minor, body)


async def store(
    session: AsyncSession,
    ctx: AgentContext,
    *,
    case_id: int,
    decision_id: int,
    prepared: PreparedLoss,
    order: OrderFact | None,
    first_ticket: Ticket,
    decided_at: datetime,
) -> CaseLoss:
    """The case's loss row (a later decision's figures replace an earlier's), audited."""
    queue = await session.scalar(
        sa.select(col(Queue.name)).where(col(Queue.id) == first_ticket.queue_id)
    )
    row = await session.scalar(sa.select(CaseLoss).where(col(CaseLoss.case_id) == case_id))
    if row is None:
        row = CaseLoss(case_id=case_id)  # type: ignore[call-arg]
        session.add(row)
    chargeback = prepared.body.chargeback
    values = {
        "decision_id": decision_id,
        "set_by": ctx.id,
        "set_at": decided_at,
        "currency": prepared.currency,
        **prepared.amounts,
        "reporting_currency": prepared.reporting_currency,
        "rate": prepared.rate,
        "rate_date": prepared.rate_date,
        **{f"{k}_minor": v for k, v in prepared.minor.items()},
        "chargeback_network": chargeback.network if chargeback else None,
        "reason_code": chargeback.reason_code if chargeback else None,
        "chargeback_due_by": chargeback.due_by if chargeback else None,
        "decided_at": decided_at,
        "week": week_of(decided_at),
        "category": first_ticket.category,
        "payment_method": order.payment_method if order else None,
        "asset": order.asset if order else None,
        "channel": first_ticket.channel,
        "language": first_ticket.language,
        "queue": queue,
    }
    for key, value in values.items():
        setattr(row, key, value)
    await session.flush()
    audit.record(
        session,
        "case.loss_set",
        ticket_id=None,
        case_id=case_id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        decision_id=decision_id,
        currency=prepared.currency,
        **{k: str(v) for k, v in prepared.amounts.items()},
        reporting_currency=prepared.reporting_currency,
        rate=str(prepared.rate),
        rate_date=prepared.rate_date.isoformat() if prepared.rate_date else None,
        chargeback=(
            {
                "network": chargeback.network,
                "reason_code": chargeback.reason_code,
                "due_by": chargeback.due_by.isoformat(),
            }
            if chargeback
            else None
        ),
    )
    return row


async def of_case(session: AsyncSession, case_id: int) -> CaseLoss | None:
    return await session.scalar(sa.select(CaseLoss).where(col(CaseLoss.case_id) == case_id))


def plain(amount: Decimal, currency: str) -> Decimal:
    """The amount with the currency's minor digits, or more where it has them
    (`400` EUR -> `400.00`, `0.125` -> `0.125`)."""
    exponent = amount.normalize().as_tuple().exponent
    digits = max(minor_digits(currency), -exponent if isinstance(exponent, int) else 0)
    return amount.quantize(Decimal(1).scaleb(-digits))


def _amounts(currency: str, values: dict[str, Decimal]) -> AmountsPublic:
    lost = values["lost_buyer"] + values["lost_seller"] + values["lost_exchange"]
    shown = {k: plain(v, currency) for k, v in values.items()}
    return AmountsPublic(
        currency=currency,
        lost=plain(lost, currency),
        net_loss=plain(lost - values["recovered"], currency),
        **shown,
    )


def public(row: CaseLoss, names: dict[int, str]) -> LossPublic:
    cur = row.reporting_currency
    return LossPublic(
        decision_id=row.decision_id,
        order_currency=_amounts(row.currency, {k: Decimal(getattr(row, k)) for k in FIGURES}),
        reporting=_amounts(cur, {k: from_minor(getattr(row, f"{k}_minor"), cur) for k in FIGURES}),
        rate=rates.exact(Decimal(row.rate)),
        rate_date=row.rate_date,
        chargeback=(
            ChargebackPublic(
                network=row.chargeback_network,
                reason_code=row.reason_code,
                due_by=row.chargeback_due_by,  # type: ignore[arg-type]
            )
            if row.chargeback_network and row.reason_code
            else None
        ),
        set_by=names.get(row.set_by, "agent"),
        set_at=row.set_at,
    )
