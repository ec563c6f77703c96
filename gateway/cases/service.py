"""What agents do to a dispute case. Every change is an audit event. Functions flush only.

A case is seen by supervisors and by agents who can see one of its tickets (through
their queues or by holding it); to anyone else it answers 404 like a case that does not
exist. Messages to a party go out on that party's own ticket and channel, so neither
side ever receives what the other wrote or sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.agents.context import AgentContext
from gateway.blobs import BlobStore
from gateway.cases import evidence as evidence_items
from gateway.cases import linking, templates
from gateway.cases import repository as repo
from gateway.cases.models import (
    CaseNote,
    CaseTicket,
    DisputeCase,
    Evidence,
    EvidenceRequest,
    LinkSource,
    Party,
    ReviewState,
    parse_case_ref,
)
from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.notify import Notifier
from gateway.outbox.service import OutgoingFile
from gateway.settings import CasesSettings
from gateway.sla import service as sla_service
from gateway.tickets import service as tickets_service
from gateway.tickets.models import ActorType, Customer, Message, Ticket, TicketStatus

Link = tuple[CaseTicket, Ticket]


async def case_for(
    session: AsyncSession, ctx: AgentContext, ref: str, *, for_update: bool = False
) -> DisputeCase:
    """The case if the caller may see it; 404 otherwise, as for a case that is not."""
    case_id = parse_case_ref(ref)
    case = await repo.get_case(session, case_id, for_update=for_update) if case_id else None
    if case is None or not await may_see(session, ctx, case):
        raise NotFound(f"no case {ref} in your queues")
    return case


async def may_see(session: AsyncSession, ctx: AgentContext, case: DisputeCase) -> bool:
    if ctx.sees_all:
        return True
    return any(ctx.can_see(ticket) for _link, ticket in await repo.active_links(session, case.id))  # type: ignore[arg-type]


async def open_case(
    session: AsyncSession,
    ctx: AgentContext,
    order_ref: str,
    ticket_ref: str,
    party: Party | None,
    *,
    blobs: BlobStore | None,
    now: datetime,
) -> DisputeCase:
    """A case for an order no ticket named yet, starting from one ticket the agent sees
    (an existing case of the order gets the ticket instead)."""
    ticket = await tickets_service.ticket_for(session, ctx, ticket_ref, for_update=True)
    case, created = await repo.ensure_case(session, order_ref)
    if created:
        audit.record(
            session,
            "case.opened",
            ticket_id=None,
            case_id=case.id,
            actor_type=ActorType.agent,
            actor_agent_id=ctx.id,
            order_ref=order_ref,
        )
    await _link(session, ctx, case, ticket, party, blobs=blobs, now=now)
    return case


async def link(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    ticket_ref: str,
    party: Party | None,
    *,
    blobs: BlobStore | None,
    now: datetime,
) -> CaseTicket:
    """Link a ticket the agent sees to the case, or say which party it is."""
    ticket = await tickets_service.ticket_for(session, ctx, ticket_ref, for_update=True)
    return await _link(session, ctx, case, ticket, party, blobs=blobs, now=now)


async def _link(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    ticket: Ticket,
    party: Party | None,
    *,
    blobs: BlobStore | None,
    now: datetime,
) -> CaseTicket:
    current = await repo.link_of_ticket(session, ticket.id)  # type: ignore[arg-type]
    if current is not None and current.unlinked_at is None and current.case_id != case.id:
        raise Conflict(f"ticket {ticket.ref} is in case C-{current.case_id}; unlink it there first")
    customer = await session.get_one(Customer, ticket.customer_id)
    row = await linking.link_ticket(
        session,
        case,
        ticket,
        customer,
        now=now,
        by=LinkSource.agent,
        agent_id=ctx.id,
        party=party,
    )
    await linking.backfill_evidence(session, row, ticket, blobs, now)
    return row


async def unlink(
    session: AsyncSession, ctx: AgentContext, case: DisputeCase, ticket_ref: str, *, now: datetime
) -> None:
    for row, ticket in await repo.active_links(session, case.id):  # type: ignore[arg-type]
        if ticket.ref == ticket_ref.strip().upper():
            await linking.unlink_ticket(session, case, row, agent_id=ctx.id, now=now)
            return
    raise NotFound(f"ticket {ticket_ref} is not in case {case.ref}")


def pick(links: Sequence[Link], party: str | None, ticket_ref: str | None) -> Link:
    """The ticket to write to: the one named, else the party's newest that is not
    closed."""
    if ticket_ref is not None:
        for pair in links:
            if pair[1].ref == ticket_ref.strip().upper():
                return pair
        raise NotFound(f"ticket {ticket_ref} is not in this case")
    if party is None:
        raise InvalidRequest("name the party (buyer or seller) or one of the case's tickets")
    candidates = [p for p in links if p[0].party == party and p[1].status != TicketStatus.closed]
    if not candidates:
        raise Conflict(f"the case has no open ticket of the {party}; link one first")
    return max(candidates, key=lambda p: p[1].id or 0)


async def reply(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    *,
    party: str | None,
    ticket_ref: str | None,
    text: str,
    files: Sequence[OutgoingFile],
    max_chars: int,
    notifier: Notifier,
    blobs: BlobStore,
) -> tuple[CaseTicket, Ticket, Message]:
    """Answer one party on their own ticket and channel."""
    row, ticket = pick(await repo.active_links(session, case.id), party, ticket_ref)  # type: ignore[arg-type]
    ticket = await session.get_one(Ticket, ticket.id, with_for_update=True, populate_existing=True)
    message = await tickets_service.reply(
        session,
        ctx,
        ticket,
        text,
        max_chars=max_chars,
        notifier=notifier,
        files=files,
        blobs=blobs,
    )
    return row, ticket, message


async def add_note(
    session: AsyncSession, ctx: AgentContext, case: DisputeCase, text: str, *, max_chars: int
) -> CaseNote:
    """A note on the whole case, for the desk only."""
    text = tickets_service.clean_text(text, max_chars)
    note = CaseNote(case_id=case.id, author_agent_id=ctx.id, text=text)  # type: ignore[arg-type]
    session.add(note)
    await session.flush()
    audit.record(
        session,
        "case.note_added",
        ticket_id=None,
        case_id=case.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        note_id=note.id,
    )
    return note


async def evidence_in(session: AsyncSession, case: DisputeCase, evidence_id: int) -> Evidence:
    """One evidence item of the case's linked tickets (404 for any other id)."""
    links = await repo.active_links(session, case.id)  # type: ignore[arg-type]
    item = await session.get(Evidence, evidence_id)
    if item is None or item.case_id != case.id or item.ticket_id not in {t.id for _, t in links}:
        raise NotFound(f"no evidence {evidence_id} in case {case.ref}")
    return item


async def review(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    evidence_id: int,
    state: ReviewState,
    reason: str | None,
    *,
    now: datetime,
) -> Evidence:
    item = await evidence_in(session, case, evidence_id)
    reason = reason.strip() if reason else None
    if state == ReviewState.rejected and not reason:
        raise InvalidRequest("a rejection needs a reason")
    if reason and "\x00" in reason:
        raise InvalidRequest("reason contains NUL characters")
    evidence_items.review(session, item, state, reason, agent_id=ctx.id, now=now)
    await session.flush()
    return item


async def request_evidence(
    session: AsyncSession,
    ctx: AgentContext,
    case: DisputeCase,
    *,
    party: str | None,
    ticket_ref: str | None,
    what: str,
    deadline_hours: float | None,
    settings: CasesSettings,
    max_chars: int,
    notifier: Notifier,
    now: datetime,
) -> EvidenceRequest:
    """Ask one party for evidence by a deadline, in their language, on their channel."""
    if not linking.is_open(case):
        raise Conflict(f"case {case.ref} is {case.status}")
    what = tickets_service.clean_text(what, 2000)
    seconds = (
        deadline_hours * 3600 if deadline_hours is not None else settings.evidence_deadline_seconds
    )
    if seconds > settings.max_evidence_deadline_seconds:
        raise InvalidRequest(
            f"deadline is more than {settings.max_evidence_deadline_seconds // 3600} hours away"
        )
    row, ticket = pick(await repo.active_links(session, case.id), party, ticket_ref)  # type: ignore[arg-type]
    if row.party == Party.unknown:
        raise Conflict(f"say which party ticket {ticket.ref} is before asking it for evidence")
    ticket = await session.get_one(Ticket, ticket.id, with_for_update=True, populate_existing=True)
    deadline = now + timedelta(seconds=seconds)
    text = templates.evidence_request(
        await party_language(session, ticket), order=case.order_ref, what=what, deadline=deadline
    )
    message = await tickets_service.reply(
        session, ctx, ticket, text, max_chars=max_chars, notifier=notifier
    )
    request = EvidenceRequest(
        case_id=case.id,  # type: ignore[arg-type]
        ticket_id=ticket.id,  # type: ignore[arg-type]
        party=row.party,
        message_id=message.id,  # type: ignore[arg-type]
        what=what,
        deadline_at=deadline,
        requested_by=ctx.id,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    audit.record(
        session,
        "evidence.requested",
        ticket_id=ticket.id,
        case_id=case.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
        request_id=request.id,
        party=row.party,
        deadline_at=deadline.isoformat(),
    )
    if ticket.status in (TicketStatus.open, TicketStatus.escalated):
        await tickets_service.change_status(
            session, ctx, ticket, TicketStatus.pending_customer, notifier
        )
    # The deadline is an SLA target of the ticket: its clock starts now and the SLA
    # worker looks at the ticket again when it falls due.
    await sla_service.refresh(session, ticket, now, notifier=notifier)
    return request


async def party_language(session: AsyncSession, ticket: Ticket) -> str | None:
    customer = await session.get_one(Customer, ticket.customer_id)
    return customer.language or ticket.language
