"""Agent routes on dispute cases: read, search, link, answer either party, note,
evidence, decide, appeal, export."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response

from gateway import audit
from gateway.agents.dependencies import CurrentAgent
from gateway.cases import decisions, export, service, view
from gateway.cases.models import CaseStatus, Party, ReviewState
from gateway.cases.schemas import (
    AppealBody,
    CaseCreate,
    CaseList,
    CaseNoteBody,
    CasePublic,
    CaseReply,
    CaseReplyBody,
    DeadlinePublic,
    DecisionBody,
    DecisionPublic,
    DecisionResult,
    EvidencePublic,
    EvidenceRequestBody,
    LinkBody,
    NotePublic,
    ReviewBody,
)
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import Conflict
from gateway.tickets import service as tickets_service
from gateway.tickets.models import ActorType, Attachment

# Ids are 64-bit on both databases; a bigger number is a 422, not an overflow.
EvidenceId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case in the caller's queues"}
}
router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=NOT_FOUND)


@router.get("", response_model=CaseList)
async def list_cases(
    session: SessionDep,
    ctx: CurrentAgent,
    order_ref: Annotated[str | None, Query(max_length=100)] = None,
    status: CaseStatus | None = None,
    party: Annotated[str | None, Query(max_length=200, description="Exchange user id")] = None,
    limit: Annotated[int, Query(ge=1, le=view.PAGE_MAX)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> CaseList:
    """Cases the caller may see, newest first."""
    return await view.search(
        session, ctx, order_ref=order_ref, status=status, party=party, limit=limit, cursor=cursor
    )


@router.post("", status_code=201, response_model=CasePublic)
async def create_case(
    body: CaseCreate, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> CasePublic:
    """Open the case of an order from one ticket (or add the ticket to its case)."""
    case = await service.open_case(
        session,
        ctx,
        body.order_ref,
        body.ticket,
        body.party,
        blobs=runtime.blobs,
        now=runtime.clock.now(),
    )
    return await view.public(session, case, runtime.clock.now())


@router.get("/{case_id}", response_model=CasePublic)
async def get_case(
    case_id: str, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> CasePublic:
    """Order facts, both parties' tickets side by side, the merged timeline, evidence,
    deadlines (breached ones say so), decisions and notes."""
    case = await service.case_for(session, ctx, case_id)
    return await view.public(session, case, runtime.clock.now())


@router.post("/{case_id}/tickets", response_model=CasePublic)
async def link_ticket(
    case_id: str, body: LinkBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> CasePublic:
    """Link a ticket by hand, or say which party it is (audited)."""
    case = await service.case_for(session, ctx, case_id, for_update=True)
    await service.link(
        session, ctx, case, body.ticket, body.party, blobs=runtime.blobs, now=runtime.clock.now()
    )
    return await view.public(session, case, runtime.clock.now())


@router.delete("/{case_id}/tickets/{ref}", response_model=CasePublic)
async def unlink_ticket(
    case_id: str, ref: str, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> CasePublic:
    """Take a ticket out of the case (audited); intake will not link it again."""
    case = await service.case_for(session, ctx, case_id, for_update=True)
    await service.unlink(session, ctx, case, ref, now=runtime.clock.now())
    return await view.public(session, case, runtime.clock.now())


@router.post("/{case_id}/replies", status_code=201, response_model=CaseReply)
async def reply(
    case_id: str, body: CaseReplyBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> CaseReply:
    """Answer the buyer or the seller (or one named ticket) on their own channel."""
    limits = runtime.settings.outbox
    files = tickets_service.decode_files(
        body.attachments, max_files=limits.max_attachments, max_bytes=limits.max_attachment_bytes
    )
    case = await service.case_for(session, ctx, case_id)
    row, ticket, message = await service.reply(
        session,
        ctx,
        case,
        party=body.party,
        ticket_ref=body.ticket,
        text=body.text,
        files=files,
        max_chars=runtime.settings.ingest.max_text_chars,
        notifier=runtime.notifier,
        blobs=runtime.blobs,
    )
    return CaseReply(
        ticket=ticket.ref,
        party=Party(row.party),
        message=view.message_public(message, ctx.agent.name),
    )


@router.post("/{case_id}/notes", status_code=201, response_model=NotePublic)
async def add_note(
    case_id: str, body: CaseNoteBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> NotePublic:
    """A note on the whole case; never sent to either party."""
    case = await service.case_for(session, ctx, case_id)
    note = await service.add_note(
        session, ctx, case, body.text, max_chars=runtime.settings.ingest.max_text_chars
    )
    return NotePublic(
        id=note.id,  # type: ignore[arg-type]
        author=ctx.agent.name,
        text=note.text,
        created_at=note.created_at,
    )


@router.post("/{case_id}/evidence/{evidence_id}/review", response_model=EvidencePublic)
async def review_evidence(
    case_id: str,
    evidence_id: EvidenceId,
    body: ReviewBody,
    session: SessionDep,
    ctx: CurrentAgent,
    runtime: RuntimeDep,
) -> EvidencePublic:
    """Accept or reject (with a reason) one evidence item (audited)."""
    case = await service.case_for(session, ctx, case_id)
    await service.review(
        session,
        ctx,
        case,
        evidence_id,
        ReviewState(body.state),
        body.reason,
        now=runtime.clock.now(),
    )
    current = await view.public(session, case, runtime.clock.now())
    return next(e for e in current.evidence if e.id == evidence_id)


@router.get(
    "/{case_id}/evidence/{evidence_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 409: {}},
)
async def evidence_file(
    case_id: str,
    evidence_id: EvidenceId,
    session: SessionDep,
    ctx: CurrentAgent,
    runtime: RuntimeDep,
) -> Response:
    """The evidence bytes, always as a download (never rendered as a page of ours)."""
    case = await service.case_for(session, ctx, case_id)
    item = await service.evidence_in(session, case, evidence_id)
    attachment = await session.get_one(Attachment, item.attachment_id)
    if attachment.blob_key is None:
        raise Conflict(f"evidence {evidence_id} is {attachment.state}, not stored yet")
    data = await runtime.blobs.get(attachment.blob_key)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.post("/{case_id}/evidence-requests", status_code=201, response_model=DeadlinePublic)
async def request_evidence(
    case_id: str,
    body: EvidenceRequestBody,
    session: SessionDep,
    ctx: CurrentAgent,
    runtime: RuntimeDep,
) -> DeadlinePublic:
    """Ask the buyer or the seller for evidence by a deadline: a templated reply in
    their language on their channel; the deadline shows on the case."""
    case = await service.case_for(session, ctx, case_id)
    now = runtime.clock.now()
    request = await service.request_evidence(
        session,
        ctx,
        case,
        party=body.party,
        ticket_ref=body.ticket,
        what=body.what,
        deadline_hours=body.deadline_hours,
        settings=runtime.settings.cases,
        max_chars=runtime.settings.ingest.max_text_chars,
        notifier=runtime.notifier,
        now=now,
    )
    return view.request_public(request, now)


@router.post("/{case_id}/decision", status_code=201, response_model=DecisionResult)
async def decide(
    case_id: str, body: DecisionBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> DecisionResult:
    """Decide the case; both parties are told in their languages on their channels.
    With `loss`, the case's loss figures are set (audited) and converted into the
    reporting currency at the loaded rate of the day: 422 naming the fix when no rate
    is loaded, when the figures do not add up, or for an unknown chargeback reason code."""
    case = await service.case_for(session, ctx, case_id, for_update=True)
    decision, told = await decisions.decide(
        session,
        ctx,
        case,
        body.outcome,
        body.reason,
        settings=runtime.settings.cases,
        max_chars=runtime.settings.ingest.max_text_chars,
        notifier=runtime.notifier,
        now=runtime.clock.now(),
        loss=body.loss,
        reporting_currency=runtime.settings.reports.currency,
    )
    current = await view.public(session, case, runtime.clock.now())
    unknown = next(side for side in current.parties if side.party == "unknown")
    [public_decision] = [d for d in current.decisions if d.id == decision.id]
    return DecisionResult(
        decision=public_decision,
        told=told,
        not_told=[t.ref for t in unknown.tickets],
    )


@router.post("/{case_id}/appeal", response_model=DecisionPublic)
async def appeal(
    case_id: str, body: AppealBody, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> DecisionPublic:
    """Record a party's appeal within the window: the case opens again (409 after it)."""
    case = await service.case_for(session, ctx, case_id, for_update=True)
    decision = await decisions.appeal(
        session,
        ctx,
        case,
        body.party,
        body.reason,
        notifier=runtime.notifier,
        now=runtime.clock.now(),
    )
    names = await view.agent_names(session, {decision.decided_by})
    return view.decision_public(decision, names)


@router.get(
    "/{case_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def export_pack(
    case_id: str, session: SessionDep, ctx: CurrentAgent, runtime: RuntimeDep
) -> Response:
    """The export pack (zip): manifest.json with every file's sha256, the transcript as
    HTML and PDF, every evidence file and the hash-chained audit trail."""
    case = await service.case_for(session, ctx, case_id)
    now = runtime.clock.now()
    # Handing a case out is itself on record, and in the pack.
    audit.record(
        session,
        "case.exported",
        ticket_id=None,
        case_id=case.id,
        actor_type=ActorType.agent,
        actor_agent_id=ctx.id,
    )
    await session.flush()
    data = await export.build_pack(
        session,
        case,
        blobs=runtime.blobs,
        font=runtime.settings.cases.pdf_font,
        now=now,
        generated_by=ctx.agent.name,
    )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{case.id}-export.zip"'},
    )
