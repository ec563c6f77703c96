"""The console's canned replies page: everyone reads them, admins write them."""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gateway.agents.models import Role
from gateway.canned import repository as repo
from gateway.canned import service
from gateway.canned.schemas import CannedCreate, CannedUpdate
from gateway.console import i18n
from gateway.console.web import ConsoleUser, checked_form, redirect, render
from gateway.dependencies import RuntimeDep
from gateway.errors import Forbidden, GatewayError, InvalidRequest
from gateway.tickets.models import Category

T = TypeVar("T", CannedCreate, CannedUpdate)
router = APIRouter(prefix="/console/canned", include_in_schema=False)


@router.get("")
async def canned_page(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    return await _page(request, user, runtime)


async def _page(
    request: Request,
    user: ConsoleUser,
    runtime: RuntimeDep,
    error: GatewayError | None = None,
) -> Response:
    async with runtime.sessionmaker() as session:
        replies = [service.public(r) for r in await repo.all_replies(session)]
    return render(
        request,
        "canned.html",
        user,
        status_code=error.status_code if error else 200,
        error=error.detail if error else None,
        replies=replies,
        categories=[str(c) for c in Category],
        body_languages=list(i18n.LANGUAGES),
        is_admin=user.ctx.agent.role == Role.admin,
    )


@router.post("")
async def save_canned(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> Response:
    """Create a reply, or replace one (form field `id`)."""
    form = await checked_form(request, user)
    try:
        if user.ctx.agent.role != Role.admin:
            raise Forbidden("only admins change canned replies")
        fields: dict[str, object] = {
            "name": form.get("name", ""),
            "category": form.get("category") or None,
            "bodies": {
                lang: form[f"body_{lang}"]
                for lang in i18n.LANGUAGES
                if form.get(f"body_{lang}", "").strip()
            },
        }
        async with runtime.sessionmaker.begin() as session:
            if form.get("id", "").isdigit():
                await service.update(session, int(form["id"]), _valid(CannedUpdate, fields))
            else:
                await service.create(session, _valid(CannedCreate, fields))
    except GatewayError as exc:
        return await _page(request, user, runtime, exc)
    return redirect("/console/canned")


@router.post("/{reply_id}/delete")
async def delete_canned(
    request: Request, reply_id: int, user: ConsoleUser, runtime: RuntimeDep
) -> Response:
    await checked_form(request, user)
    try:
        if user.ctx.agent.role != Role.admin:
            raise Forbidden("only admins change canned replies")
        async with runtime.sessionmaker.begin() as session:
            await service.delete(session, reply_id)
    except GatewayError as exc:
        return await _page(request, user, runtime, exc)
    return redirect("/console/canned")


def _valid(model: type[T], fields: dict[str, object]) -> T:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidRequest(problems) from None
