"""Order facts over HTTP: the exchange pushes them with a service token (role
`integration`); agents see them inside a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from gateway import audit
from gateway.cases import linking
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import NotFound
from gateway.integrations.dependencies import CurrentIntegration
from gateway.orders import repository as repo
from gateway.orders import service
from gateway.orders.schemas import ORDER_REF_PATTERN, OrderFactsIn, OrderFactsPublic
from gateway.risk import service as risk

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
OrderRef = Annotated[str, Path(pattern=ORDER_REF_PATTERN, description="The exchange's order id")]


@router.put(
    "/{order_ref}",
    response_model=OrderFactsPublic,
    responses={201: {"description": "A new order", "model": OrderFactsPublic}},
)
async def put_order(
    order_ref: OrderRef,
    body: OrderFactsIn,
    response: Response,
    session: SessionDep,
    caller: CurrentIntegration,
    runtime: RuntimeDep,
) -> OrderFactsPublic:
    """Store the exchange's facts of one order (200 updated, 201 new). The whole record
    each time: a field left out is cleared. A case on the order learns which ticket is
    the buyer's and which the seller's."""
    row, created = await repo.upsert(
        session, order_ref, body, source=service.OrderSource.push, now=runtime.clock.now()
    )
    case = await linking.refresh_parties(session, row)
    if case is not None:
        # On the case's chain: what the exchange said, and when, is part of the dispute.
        audit.record(
            session,
            "order.facts_stored",
            ticket_id=None,
            case_id=case.id,
            order_ref=order_ref,
            status=row.status,
            by=caller.name,
        )
    # In this transaction: the parties' risk scores never lag the facts they read.
    await risk.on_order(session, row, now=runtime.clock.now())
    response.status_code = 201 if created else 200
    return repo.public(row)


@router.get("/{order_ref}", response_model=OrderFactsPublic, responses={404: {}})
async def get_order(
    order_ref: OrderRef, _caller: CurrentIntegration, runtime: RuntimeDep
) -> OrderFactsPublic:
    """The facts as stored, or pulled from the exchange when a pull URL is configured
    and they are missing or older than the cache time; 404 when nobody knows the order."""
    row = await service.facts_for(
        runtime.sessionmaker,
        order_ref,
        client=runtime.exchange,
        clock=runtime.clock,
        cache_seconds=runtime.settings.exchange.order_cache_seconds,
    )
    if row is None:
        raise NotFound(f"no order {order_ref}")
    return repo.public(row)
