"""Inbound messages into tickets: the one door every channel goes through."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit, audit_chain, metrics, notify
from gateway.blobs import BlobStore
from gateway.cases import linking as cases_linking
from gateway.db import lock_key, lock_keys, utcnow
from gateway.errors import InvalidInbound
from gateway.notify import Notifier
from gateway.ports import InboundMessage
from gateway.queues import repository as queues_repo
from gateway.routing import repository as routing_repo
from gateway.settings import IngestSettings
from gateway.sla import service as sla_service
from gateway.text import display_line, display_name, problem_in
from gateway.tickets import repository as repo
from gateway.tickets import senders
from gateway.tickets.models import (
    CLAIMABLE_STATUSES,
    SEVERITY_RANK,
    ActorType,
    Attachment,
    ChannelIdentity,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Severity,
    Ticket,
    TicketStatus,
    parse_ticket_ref,
)
from gateway.webhooks import events as webhook_events
from gateway.webhooks.models import EventType

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class IngestResult:
    ticket_id: int
    ticket_ref: str
    message_id: int
    duplicate: bool
    new_ticket: bool


class TicketRouter(Protocol):
    """Decides language, severity, category and queue for a ticket's new message."""

    async def route(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        message: Message,
        inbound: InboundMessage,
        customer: Customer,
        new_ticket: bool,
        new_customer: bool = False,
        history: repo.CustomerHistory | None = None,
    ) -> None:
        """Set the ticket's routing fields (and queue_id when it may move). Flushes.
        `new_customer`: the customer was created by this message (has no history);
        `history`: the customer's, as intake's first read found it (else read)."""
        ...

    async def warm_up(self) -> None:
        """Load whatever the first message would otherwise wait for (language models)."""
        ...


class DefaultQueueRouter:
    """No rules: every new ticket goes to the default queue."""

    async def warm_up(self) -> None:
        return None

    async def route(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        message: Message,
        inbound: InboundMessage,
        customer: Customer,
        new_ticket: bool,
        new_customer: bool = False,
        history: repo.CustomerHistory | None = None,
    ) -> None:
        if new_ticket:
            ticket.queue_id = await queues_repo.default_queue_id(session)
            ticket.routing_reasons = ["no routing rules: default queue"]


def validate(inbound: InboundMessage, limits: IngestSettings) -> None:
    """Refuse what cannot be stored, before anything is written."""
    if not inbound.external_id or not inbound.external_id.strip():
        raise InvalidInbound("message has no external id: the channel must give a stable id")
    if len(inbound.external_id) > limits.max_external_id_chars:
        raise InvalidInbound(f"external id longer than {limits.max_external_id_chars} characters")
    if not inbound.sender or not inbound.sender.strip():
        raise InvalidInbound("message has no sender address")
    if len(inbound.sender) > limits.max_sender_chars:
        raise InvalidInbound(f"sender address longer than {limits.max_sender_chars} characters")
    if len(inbound.text) > limits.max_text_chars:
        raise InvalidInbound(
            f"message text is {len(inbound.text)} characters; the limit is "
            f"{limits.max_text_chars} (GATEWAY_INGEST_MAX_TEXT_CHARS)"
        )
    if not inbound.text.strip() and not inbound.attachments:
        raise InvalidInbound("message has neither text nor attachments")
    # The shared text rules (gateway.text): channels clean what they can; what is left
    # here is refused with the reason instead of failing in the database.
    fields = [
        ("text", inbound.text),
        ("sender", inbound.sender),
        ("external id", inbound.external_id),
        ("sender name", inbound.sender_name),
        ("subject", inbound.subject),
        ("html", inbound.html),
        ("thread key", inbound.thread_key),
        ("language hint", inbound.language_hint),
        ("contact email", inbound.contact_email),
        ("verified user id", inbound.verified_user_id),
    ]
    for item in inbound.attachments:
        fields += [("attachment name", item.filename), ("attachment type", item.content_type)]
    for field, value in fields:
        if value is not None and (problem := problem_in(value)):
            raise InvalidInbound(f"message {field} {problem}")


async def ingest(
    session: AsyncSession,
    inbound: InboundMessage,
    *,
    limits: IngestSettings,
    router: TicketRouter | None = None,
    blobs: BlobStore | None = None,
    notifier: Notifier | None = None,
) -> IngestResult:
    """Record one inbound message exactly once and thread it onto the right ticket.

    Idempotent on (channel, external_id): a repeat, concurrent or not, returns the stored
    result. Flushes; the caller commits (and only then acks the source).
    """
    # Names and subjects are display text everywhere they show: one line, no controls,
    # no bidi overrides, whatever the channel passed on.
    inbound = replace(
        inbound,
        sender_name=display_name(inbound.sender_name),
        subject=display_line(inbound.subject, max_chars=998),
    )
    validate(inbound, limits)
    started = time.perf_counter()
    channel = str(inbound.channel)

    # Concurrent copies of one message, and concurrent messages of one sender, queue up
    # here: the first commits, the rest then see its rows. Always in this order.
    # Both locks in one round trip, the message's first: every ingest takes them in
    # this order, so two ingests never wait on each other crosswise.
    await lock_keys(
        session, ("msg", channel, inbound.external_id), ("sender", channel, inbound.sender)
    )
    # The customer is read with the identity unless a verified user id is to be locked
    # first (identify links under that lock and must read the customer after it).
    seen = await repo.seen(
        session,
        channel,
        inbound.external_id,
        inbound.sender,
        customer=not inbound.verified_user_id,
        # The thread's ticket too, when no reply or reference comes first (those are
        # read locked, after this read).
        thread_key=None if inbound.reply_to_ids or inbound.ticket_ref else inbound.thread_key,
        # The rules version routing and the SLA check: read here, not in a round trip
        # of its own.
        state_keys=(routing_repo.VERSION_KEY,),
    )
    existing = seen.message
    if existing is not None and not await senders.same_sender(
        session, existing, inbound, seen.identity
    ):
        # An id is not a secret (a Message-ID is quoted in every reply): the same id from
        # someone else is their own message, kept under an id scoped to its sender, so a
        # resend of it is still stored once. Locked after the first key, in one order.
        inbound = replace(inbound, external_id=senders.sender_scoped_id(inbound))
        await lock_key(session, "msg", channel, inbound.external_id)
        existing = await repo.message_by_external_id(session, channel, inbound.external_id)
    if existing is not None:
        metrics.duplicates.labels(channel).inc()
        ticket = await repo.get_ticket(session, existing.ticket_id)
        assert ticket is not None and existing.id is not None
        return IngestResult(ticket.id, ticket.ref, existing.id, True, False)  # type: ignore[arg-type]

    identity, customer, new_customer = await senders.identify(session, inbound, seen)
    ticket, new_ticket, parent = await _thread(
        session, inbound, seen, identity, customer, new_customer
    )
    # Taken before anything is flushed: a reopen by this message is still seen as a change.
    before = None if new_ticket else webhook_events.snapshot(ticket)
    now = inbound.received_at or utcnow()

    message = Message(
        id=seen.message_id,
        ticket_id=ticket.id,  # type: ignore[arg-type]
        channel=channel,
        external_id=inbound.external_id,
        direction=Direction.inbound,
        author_type=ActorType.customer,
        text=inbound.text,
        html=inbound.html,
        subject=inbound.subject,
        delivery_state=DeliveryState.received,
        raw_blob_key=inbound.raw_blob_key,
    )
    session.add(message)
    if message.id is None:
        # SQLite: routing needs the message's id, which only its INSERT gives. With an id
        # reserved (PostgreSQL) the row waits for routing and is inserted once, with its
        # language, instead of inserted and then updated.
        await session.flush()
    if new_ticket:
        # Added after the message's flush on SQLite, so the ticket's audit rows go out
        # together in the final flush (one INSERT), still in the order they happened.
        audit.record(
            session,
            "ticket.created",
            ticket_id=ticket.id,
            actor_type=ActorType.customer,
            channel=channel,
            parent=parent.ref if parent else None,
        )

    ticket.last_customer_message_at = now
    ticket.updated_at = utcnow()
    await (router or DefaultQueueRouter()).route(
        session,
        ticket=ticket,
        message=message,
        inbound=inbound,
        customer=customer,
        new_ticket=new_ticket,
        new_customer=new_customer,
        # Read with the first read when it counted for this ticket: a new one, or the
        # thread's (a reply or a reference may join another).
        history=seen.history
        if new_ticket or (seen.thread_read and ticket is seen.thread_ticket)
        else None,
    )
    ticket.severity_rank = SEVERITY_RANK[Severity(ticket.severity)]
    if not new_ticket:
        # The SLA reads a follow-up's history back from the ticket's rows, this message
        # and a reopen among them. A ticket this message opened has no history to read.
        await session.flush()
    if inbound.attachments:
        await session.flush()  # an attachment row points at its message's
        await _attach(session, message, inbound, blobs)
    # Before the audit row below, so the message counts in the ticket's history.
    # A ticket this message opened has no other history: the refresh reads nothing.
    # A follow-up's history read takes the ticket chain's lock for the audit row below
    # (after the ticket's row lock, which the flush above took: the order every writer
    # of a ticket's chain takes them in).
    chain_lock = None if new_ticket else audit_chain.lock_along(session, "ticket", ticket.id)
    await sla_service.refresh(
        session,
        ticket,
        utcnow(),
        notifier=notifier,
        opened_by=message.created_at if new_ticket else None,
        # Its rows go out with the final flush below, the audit rows in one INSERT.
        flush=False,
        along=() if chain_lock is None else (chain_lock,),
    )
    if chain_lock is not None:
        audit_chain.held(session, "ticket", ticket.id)  # type: ignore[arg-type]
    if new_ticket and ticket.order_ref:
        # The case's link row points at the ticket's, which a reserved id left unwritten.
        await session.flush()
    await cases_linking.on_intake(
        session,
        ticket,
        customer,
        message,
        new_ticket=new_ticket,
        has_files=bool(inbound.attachments),
        blobs=blobs,
        now=utcnow(),
    )
    if notifier is not None:
        # Open consoles showing this ticket re-read it (the agent sees the message live).
        await notifier.publish(session, notify.MESSAGES, str(ticket.id))
        if ticket.assignee_id is None and ticket.status in CLAIMABLE_STATUSES:
            await notifier.publish(session, notify.TICKETS, str(ticket.queue_id))
    if new_ticket:
        # With the ticket's other events, in the final flush's one INSERT.
        audit.record(
            session,
            "message.received",
            ticket_id=ticket.id,
            actor_type=ActorType.customer,
            message_id=message.id,
            channel=channel,
        )
    else:
        # Head read, hash and insert in one statement, under the lock taken above.
        await audit_chain.append(
            session,
            "message.received",
            ticket_id=ticket.id,  # type: ignore[arg-type]
            actor_type=ActorType.customer,
            message_id=message.id,
            channel=channel,
            # The signals above, queued by this statement instead of one of their own.
            along=notifier.carry(session) if notifier is not None else (),
        )
    await session.flush()
    if before is None:
        await webhook_events.emit(
            session, EventType.ticket_created, ticket=ticket, notifier=notifier
        )
    else:
        await webhook_events.emit_ticket_updated(
            session, ticket, before, notifier=notifier, by="customer_message"
        )
    await webhook_events.emit(
        session, EventType.message_created, ticket=ticket, message_id=message.id, notifier=notifier
    )

    metrics.messages_ingested.labels(channel).inc()
    metrics.ingest_seconds.labels(channel).observe(time.perf_counter() - started)
    log.info(
        "ticket.message_ingested",
        channel=channel,
        ticket=ticket.ref,
        message_id=message.id,
        new_ticket=new_ticket,
    )
    assert message.id is not None
    return IngestResult(ticket.id, ticket.ref, message.id, False, new_ticket)  # type: ignore[arg-type]


async def _thread(
    session: AsyncSession,
    inbound: InboundMessage,
    seen: repo.Seen,
    identity: ChannelIdentity,
    customer: Customer,
    new_customer: bool,
) -> tuple[Ticket, bool, Ticket | None]:
    """The ticket this message belongs to, reopened if resolved; or a new one (with its
    id, not yet audited) with the closed ticket it follows, if any."""
    ticket: Ticket | None = None
    parent: Ticket | None = None
    how = "new"
    # 1. A reply to a message we sent or received (unguessable ids).
    #    Every signal joins only a ticket that belongs to the sender (_belongs_to_sender).
    for replied in await repo.messages_by_external_ids(session, inbound.reply_to_ids):
        if replied.channel != str(inbound.channel):
            continue
        candidate = await repo.get_ticket(session, replied.ticket_id, for_update=True)
        if candidate is not None and await senders.belongs_to_sender(
            session, candidate, customer, inbound
        ):
            ticket, how = candidate, "reply_to"
            break
    # 2. A ticket reference the channel found (sequential, so guessable).
    if ticket is None and inbound.ticket_ref:
        ticket_id = parse_ticket_ref(inbound.ticket_ref)
        candidate = (
            await repo.get_ticket(session, ticket_id, for_update=True) if ticket_id else None
        )
        if candidate is not None and await senders.belongs_to_sender(
            session, candidate, customer, inbound
        ):
            ticket, how = candidate, "ticket_ref"
    # 3. The customer's open conversation on this channel; a closed one is the parent of
    #    the new ticket. A customer created by this very message has no tickets at all.
    if ticket is None and inbound.thread_key and not new_customer:
        ticket = (
            seen.thread_ticket
            if seen.thread_read
            else await repo.newest_for_thread(
                session,
                customer.id,  # type: ignore[arg-type]
                str(inbound.channel),
                inbound.thread_key,
            )
        )
        how = "thread_key"

    if ticket is not None and ticket.status == TicketStatus.closed:
        parent, ticket = ticket, None

    if ticket is not None:
        if ticket.status == TicketStatus.resolved:
            ticket.status = TicketStatus.open
            ticket.resolved_at = None
            audit.record(session, "ticket.reopened", ticket_id=ticket.id, by="customer_message")
        elif ticket.status == TicketStatus.pending_customer:
            ticket.status = TicketStatus.open
            audit.record(
                session,
                "ticket.status_changed",
                ticket_id=ticket.id,
                old=TicketStatus.pending_customer,
                new=TicketStatus.open,
                by="customer_message",
            )
        log.debug("ticket.threaded", ticket=ticket.ref, how=how)
        return ticket, False, None

    now = utcnow()
    ticket = Ticket(
        id=seen.ticket_id,
        customer_id=customer.id,  # type: ignore[arg-type]
        identity_id=identity.id,  # type: ignore[arg-type]
        channel=str(inbound.channel),
        thread_key=inbound.thread_key,
        subject=_subject(inbound),
        status=TicketStatus.new,
        queue_id=await queues_repo.default_queue_id(session),
        language=customer.language,
        parent_ticket_id=parent.id if parent else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    if ticket.id is None:
        # SQLite: the id comes from the INSERT, which then goes out before routing and
        # is updated with its outcome. With an id reserved (PostgreSQL) the row waits
        # for routing and is inserted once, with its events in the same flush.
        await session.flush()
    else:
        audit_chain.fresh(session, "ticket", ticket.id)
    return ticket, True, parent


def _subject(inbound: InboundMessage) -> str | None:
    """The mail's subject, or the first line of a chat message, shortened for lists."""
    if inbound.subject and inbound.subject.strip():
        return inbound.subject.strip()[:998]
    first_line = next((line for line in inbound.text.splitlines() if line.strip()), "")
    return display_line(first_line, max_chars=120)


async def _attach(
    session: AsyncSession,
    message: Message,
    inbound: InboundMessage,
    blobs: BlobStore | None,
) -> None:
    for item in inbound.attachments:
        blob_key, sha256, state = item.blob_key, item.sha256, "stored"
        size = item.size
        if blob_key is None and item.data is not None:
            if blobs is None:
                raise InvalidInbound("attachment bytes given but no blob store configured")
            blob_key = await blobs.put(item.data)
            sha256, size = blob_key, len(item.data)
        elif blob_key is None:
            state = "pending"
        session.add(
            Attachment(
                message_id=message.id,  # type: ignore[arg-type]
                filename=item.filename[:255],
                content_type=item.content_type[:255],
                size=size,
                sha256=sha256,
                blob_key=blob_key,
                source_ref=item.source_ref,
                state=state,
                inline=item.inline,
            )
        )
