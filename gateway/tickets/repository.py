"""All SQL of the tickets domain. Functions flush; the caller owns the transaction."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.db import detached_loaded
from gateway.statements import Statement
from gateway.system import repository as system
from gateway.tickets.models import (
    ChannelIdentity,
    Customer,
    Direction,
    Message,
    Ticket,
    TicketStatus,
)

# The thread's ticket as a subquery of `seen`, beside the ticket it picks. Made once:
# a fresh alias per call would give the statement a new cache key, compiled every time.
_OTHER_TICKET = orm.aliased(Ticket)
# The customer's history for routing, read in `seen` too.
_HISTORY_TICKET = orm.aliased(Ticket)
_HISTORY_MESSAGE = orm.aliased(Message)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What routing reads of a customer's past for a message: the language of their
    latest earlier message that had one, and how many tickets they opened before the
    one this message goes to."""

    last_language: str | None
    earlier_tickets: int


@dataclass(frozen=True, slots=True)
class Seen:
    """What intake knows about an inbound message before it writes anything."""

    message: Message | None
    identity: ChannelIdentity | None
    # The identity's customer, when it was asked for and the identity exists.
    customer: Customer | None
    # An id reserved for the message's row (PostgreSQL), so it can be inserted once,
    # complete; None on SQLite, where the id comes from the INSERT.
    message_id: int | None
    # The customer's ticket on the thread (`newest_for_thread`), when it was asked for
    # and the identity exists (`thread_read`).
    thread_ticket: Ticket | None = None
    thread_read: bool = False
    # An id reserved for a new ticket (PostgreSQL), when this read shows the message
    # opens one: a new sender, or a thread with no ticket or only a closed one.
    ticket_id: int | None = None
    # The customer's history (when the customer was read and exists), counted for the
    # thread's ticket when the thread was read and the message joins it, else for a new
    # ticket.
    history: CustomerHistory | None = None


async def seen(
    session: AsyncSession,
    channel: str,
    external_id: str,
    sender: str,
    *,
    customer: bool,
    thread_key: str | None = None,
    state_keys: Sequence[str] = (),
) -> Seen:
    """The stored message with this (channel, external id), the sender's identity and
    (with `customer`) its customer and (with a `thread_key` too) the customer's ticket on
    that thread, in one round trip; the `state_keys` of the system store are read along
    with them and remembered for this transaction (`get_once`)."""
    thread = customer and thread_key is not None
    reserve = session.get_bind().dialect.name == "postgresql"
    statement = _seen_statement(customer, thread, reserve, tuple(state_keys))
    params = {"channel": channel, "external_id": external_id, "sender": sender}
    if thread:
        params["thread_key"] = thread_key  # type: ignore[assignment]
    row = (await statement.rows(session, params))[0]
    at = 0
    found: list[Any] = []
    for model, keys in _SEEN_ENTITIES[: 2 + customer + thread]:
        found.append(_attached(session, model, keys, row[at : at + len(keys)]))
        at += len(keys)
    message, identity = found[0], found[1]
    found_customer = found[2] if customer else None
    thread_ticket = found[3] if thread else None
    message_id, ticket_id, language, earlier = row[at : at + 4]
    for key, value in zip(state_keys, row[at + 4 :], strict=True):
        system.remember(session, key, value)
    return Seen(
        message,
        identity,
        found_customer,
        message_id,
        thread_ticket,
        thread_read=thread and identity is not None,
        ticket_id=ticket_id,
        history=CustomerHistory(language, earlier)
        if found_customer is not None and earlier is not None
        else None,
    )


# The rows `seen` reads, as columns: built into instances here instead of loaded by the
# ORM, whose loading (and building and keying the statement) cost more client CPU than
# the round trip on every ingest.
_SEEN_ENTITIES: tuple[tuple[type[Any], tuple[str, ...]], ...] = tuple(
    (model, tuple(prop.key for prop in sa.inspect(model).column_attrs))
    for model in (Message, ChannelIdentity, Customer, Ticket)
)


def _attached(
    session: AsyncSession, model: type[T], keys: tuple[str, ...], values: Sequence[Any]
) -> T | None:
    """The row as the ORM would load it into the session: the instance the session
    already holds for its key, else one built from these values and added (persistent,
    nothing changed). None for an outer join's missing side (its key NULL)."""
    row_id = values[keys.index("id")]
    if row_id is None:
        return None
    held = session.identity_map.get(session.sync_session.identity_key(model, row_id))
    if held is not None:
        return held  # type: ignore[no-any-return]
    instance = detached_loaded(model, zip(keys, values, strict=True))
    session.add(instance)
    return instance


@functools.cache
def _seen_statement(
    customer: bool, thread: bool, reserve: bool, state_keys: tuple[str, ...]
) -> Statement:
    """`seen`'s statement for one shape, built once; on PostgreSQL it runs straight on
    asyncpg (gateway/statements.py). `reserve`: the ids a message's and a new
    ticket's rows will take are drawn by this read (PostgreSQL's sequences)."""
    channel = sa.bindparam("channel", type_=sa.String)
    # One row whatever exists: each part is LEFT JOINed to a constant row on its unique key.
    anchor = sa.select(sa.literal(1).label("one")).subquery()
    columns: list[Any] = []
    for model, keys in _SEEN_ENTITIES[: 2 + customer + thread]:
        columns += [getattr(model, key) for key in keys]
    stmt = (
        sa.select(
            *columns,
            sa.func.nextval(sa.func.pg_get_serial_sequence("message", "id"))
            if reserve
            else sa.null(),
            _new_ticket_id(thread) if reserve else sa.null(),
            _LAST_LANGUAGE if customer else sa.null(),
            _EARLIER_TICKETS[thread] if customer else sa.null(),
            *(system.value_of(key) for key in state_keys),
        )
        .select_from(anchor)
        .outerjoin(
            Message,
            sa.and_(
                col(Message.channel) == channel,
                col(Message.external_id) == sa.bindparam("external_id", type_=sa.String),
            ),
        )
        .outerjoin(
            ChannelIdentity,
            sa.and_(
                col(ChannelIdentity.channel) == channel,
                col(ChannelIdentity.address) == sa.bindparam("sender", type_=sa.String),
            ),
        )
    )
    if customer:
        stmt = stmt.outerjoin(Customer, col(Customer.id) == col(ChannelIdentity.customer_id))
    if thread:
        other = _OTHER_TICKET
        thread_key = sa.bindparam("thread_key", type_=sa.String)
        newest = (
            sa.select(col(other.id))
            .where(*_on_thread(other, col(ChannelIdentity.customer_id), channel, thread_key))
            .order_by(*_thread_order(other))
            .limit(1)
            .correlate(ChannelIdentity)
            .scalar_subquery()
        )
        stmt = stmt.outerjoin(Ticket, col(Ticket.id) == newest)
    return Statement(stmt, [c.type for c in stmt.selected_columns])


def _last_language() -> sa.ScalarSelect[Any]:
    """The language of the identity's customer's latest stored inbound message that had
    one (this message is not stored yet)."""
    return (
        sa.select(col(_HISTORY_MESSAGE.language))
        .join(_HISTORY_TICKET, col(_HISTORY_TICKET.id) == col(_HISTORY_MESSAGE.ticket_id))
        .where(
            col(_HISTORY_TICKET.customer_id) == col(ChannelIdentity.customer_id),
            col(_HISTORY_MESSAGE.direction) == Direction.inbound,
            col(_HISTORY_MESSAGE.language).is_not(None),
        )
        .order_by(col(_HISTORY_MESSAGE.id).desc())
        .limit(1)
        .correlate(ChannelIdentity)
        .scalar_subquery()
    )


def _earlier_tickets(thread: bool) -> sa.ColumnElement[Any]:
    """How many tickets the identity's customer opened before the one this message goes
    to: the thread's ticket when it joins it (read, and not closed), else a new one (all
    of them). NULL without an identity."""
    other = _HISTORY_TICKET
    before: list[sa.ColumnElement[bool]] = []
    if thread:
        before.append(
            sa.or_(
                col(Ticket.id).is_(None),
                col(Ticket.status) == TicketStatus.closed,
                col(other.id) < col(Ticket.id),
            )
        )
    counted = (
        sa.select(sa.func.count())
        .select_from(other)
        .where(col(other.customer_id) == col(ChannelIdentity.customer_id), *before)
        .correlate(ChannelIdentity, *([Ticket] if thread else []))
        .scalar_subquery()
    )
    return sa.case((col(ChannelIdentity.id).is_not(None), counted), else_=sa.null())


# Built once, like the aliases: cheaper per ingest than building them anew.
_LAST_LANGUAGE = _last_language()
_EARLIER_TICKETS = {thread: _earlier_tickets(thread) for thread in (False, True)}


def _new_ticket_id(thread: bool) -> sa.ColumnElement[Any]:
    """The ticket sequence's next value when the row read shows a new ticket coming
    (PostgreSQL evaluates CASE lazily: no number is taken otherwise). A sender with no
    identity has no ticket; with `thread` read, neither has one whose thread ticket is
    missing or closed. A reference or reply that joins a ticket after all leaves the
    number unused, a gap in the refs like a rolled-back ticket's."""
    opens: sa.ColumnElement[bool] = col(ChannelIdentity.id).is_(None)
    if thread:
        opens = sa.or_(opens, col(Ticket.id).is_(None), col(Ticket.status) == TicketStatus.closed)
    return sa.case(
        (
            sa.and_(col(Message.id).is_(None), opens),
            sa.func.nextval(sa.func.pg_get_serial_sequence("ticket", "id")),
        ),
        else_=sa.null(),
    )


async def message_by_external_id(
    session: AsyncSession, channel: str, external_id: str
) -> Message | None:
    result = await session.execute(
        sa.select(Message).where(
            col(Message.channel) == channel, col(Message.external_id) == external_id
        )
    )
    return result.scalar_one_or_none()


async def messages_by_external_ids(
    session: AsyncSession, external_ids: Sequence[str]
) -> list[Message]:
    if not external_ids:
        return []
    result = await session.execute(
        sa.select(Message)
        .where(col(Message.external_id).in_(list(external_ids)))
        .order_by(col(Message.id).desc())
    )
    return list(result.scalars())


async def identity(session: AsyncSession, channel: str, address: str) -> ChannelIdentity | None:
    result = await session.execute(
        sa.select(ChannelIdentity).where(
            col(ChannelIdentity.channel) == channel, col(ChannelIdentity.address) == address
        )
    )
    return result.scalar_one_or_none()


async def customer_by_exchange_user(session: AsyncSession, user_id: str) -> Customer | None:
    result = await session.execute(
        sa.select(Customer).where(col(Customer.exchange_user_id) == user_id)
    )
    return result.scalar_one_or_none()


async def get_ticket(
    session: AsyncSession, ticket_id: int, *, for_update: bool = False
) -> Ticket | None:
    stmt = sa.select(Ticket).where(col(Ticket.id) == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def newest_for_thread(
    session: AsyncSession, customer_id: int, channel: str, thread_key: str
) -> Ticket | None:
    """The customer's newest ticket on this thread that is not closed (resolved counts:
    a customer writing again reopens it); failing that, the newest closed one."""
    result = await session.execute(
        sa.select(Ticket)
        .where(*_on_thread(Ticket, customer_id, channel, thread_key))
        .order_by(*_thread_order(Ticket))
        .limit(1)
    )
    return result.scalar_one_or_none()


def _on_thread(
    ticket: Any, customer_id: Any, channel: Any, thread_key: Any
) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        ticket.customer_id == customer_id,
        ticket.channel == channel,
        ticket.thread_key == thread_key,
    )


def _thread_order(ticket: Any) -> tuple[sa.ColumnElement[Any], ...]:
    return (sa.case((ticket.status == TicketStatus.closed, 1), else_=0), ticket.id.desc())
