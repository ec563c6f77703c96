"""Admin routes for canned replies: /api/v1/admin/canned."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from gateway.agents.dependencies import CurrentAdmin
from gateway.canned import repository as repo
from gateway.canned import service
from gateway.canned.schemas import CannedCreate, CannedList, CannedPublic, CannedUpdate
from gateway.dependencies import SessionDep

router = APIRouter(prefix="/api/v1/admin/canned", tags=["admin"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such canned reply"}}


@router.get("", response_model=CannedList)
async def list_canned(session: SessionDep, _admin: CurrentAdmin) -> CannedList:
    """Every canned reply, by category then name."""
    return CannedList(items=[service.public(r) for r in await repo.all_replies(session)])


@router.post("", status_code=201, response_model=CannedPublic, responses={409: {}})
async def create_canned(
    body: CannedCreate, session: SessionDep, _admin: CurrentAdmin
) -> CannedPublic:
    """A new canned reply (409 when the name is taken)."""
    return service.public(await service.create(session, body))


@router.get("/{reply_id}", response_model=CannedPublic, responses=NOT_FOUND)
async def get_canned(reply_id: int, session: SessionDep, _admin: CurrentAdmin) -> CannedPublic:
    return service.public(await service.get(session, reply_id))


@router.put("/{reply_id}", response_model=CannedPublic, responses=NOT_FOUND)
async def update_canned(
    reply_id: int, body: CannedUpdate, session: SessionDep, _admin: CurrentAdmin
) -> CannedPublic:
    """Replace category and bodies (and the name, when given)."""
    return service.public(await service.update(session, reply_id, body))


@router.delete("/{reply_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
async def delete_canned(reply_id: int, session: SessionDep, _admin: CurrentAdmin) -> Response:
    await service.delete(session, reply_id)
    return Response(status_code=204)
