"""The admin's routing rules over HTTP: the same TOML as `gateway rules load/show`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from gateway import audit
from gateway.agents.dependencies import CurrentAdmin
from gateway.dependencies import SessionDep
from gateway.errors import InvalidRequest
from gateway.routing import repository as repo
from gateway.routing import rules as routing_rules
from gateway.routing.service import load_rules
from gateway.tickets.models import ActorType

router = APIRouter(prefix="/api/v1/admin/rules", tags=["routing"])
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
