"""The admin's routing rules over HTTP: the same TOML as `gateway rules load/show`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, model_validator

from gateway import audit
from gateway.agents.dependencies import CurrentAdmin, CurrentAgent
from gateway.dependencies import RuntimeDep, SessionDep
from gateway.errors import InvalidRequest
from gateway.routing import repository as repo
from gateway.routing import rules as routing_rules
from gateway.routing.corrections import correct
from gateway.routing.service import load_rules
from gateway.sla import service as sla
from gateway.tickets import service as tickets_service
from gateway.tickets import views as tickets_views
from gateway.tickets.models import ActorType, Category, Severity
from gateway.tickets.schemas import TicketSummary

router = APIRouter(prefix="/api/v1/admin/rules", tags=["routing"])
triage_router = APIRouter(
    prefix="/api/v1/tickets",
    tags=["tickets"],
    responses={404: {"description": "No such ticket in the caller's queues"}},
)
TOML = {"application/toml": {"schema": {"type": "string"}}}


class RulesLoaded(BaseModel):
    version: int
    queues: int
    rules: int


@router.get("", response_class=Response, responses={200: {"content": TOML}})
async def get_rules(session: SessionDep, _admin: CurrentAdmin) -> Response:
    """The stored queues and rules as a rules file."""
    rule_set, _ids = await repo.load_rule_set(session)
    return Response(routing_rules.to_toml(rule_set), media_type="application/toml")


@router.put(
    "",
    response_model=RulesLoaded,
    openapi_extra={"requestBody": {"required": True, "content": TOML}},
)
async def put_rules(request: Request, session: SessionDep, admin: CurrentAdmin) -> RulesLoaded:
    """Replace every routing rule with the file's (queues are created or updated, never
    deleted). A file that does not validate changes nothing: 422 with the reason."""
    try:
        source = (await request.body()).decode("utf-8")
        rule_set = routing_rules.parse_toml(source)
    except (UnicodeDecodeError, routing_rules.RulesError) as exc:
        raise InvalidRequest(f"rules file: {exc}") from None
    version = await load_rules(session, rule_set)
    audit.record(
        session,
        "routing.rules_replaced",
        ticket_id=None,
        actor_type=ActorType.agent,
        actor_agent_id=admin.id,
        version=version,
    )
    return RulesLoaded(version=version, queues=len(rule_set.queues), rules=len(rule_set.rules))


class TriageCorrection(BaseModel):
    """What an agent says the ticket is; give either or both."""

    model_config = ConfigDict(extra="forbid")
    category: Category | None = None
    severity: Severity | None = None

    @model_validator(mode="after")
    def _something(self) -> TriageCorrection:
        if self.category is None and self.severity is None:
            raise ValueError("give category, severity or both")
        return self


@triage_router.patch("/{ref}", response_model=TicketSummary)
async def patch_ticket(
    ref: str,
    body: TriageCorrection,
    session: SessionDep,
    ctx: CurrentAgent,
    runtime: RuntimeDep,
) -> TicketSummary:
    """Correct the ticket's category and/or severity: it is queued where the rules send
    the new values (unassigned, like a transfer, when that is another queue), the audit
    trail keeps old and new, and the correction becomes a labelled routing example."""
    ticket = await tickets_service.ticket_for(session, ctx, ref, for_update=True)
    await correct(
        session,
        ticket,
        agent_id=ctx.id,
        may_act=ticket.assignee_id in (None, ctx.id) or ctx.sees_all,
        category=body.category,
        severity=body.severity,
        notifier=runtime.notifier,
    )
    # A new severity (or category, or queue) may mean another SLA policy: the due times
    # are recomputed from the ticket's history, with an `sla.recomputed` audit event.
    await sla.refresh(session, ticket, runtime.clock.now(), notifier=runtime.notifier)
    return (await tickets_views.summaries(session, [ticket]))[0]
