"""Signing in and out of the console, and the console's display language."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console import i18n, sessions
from gateway.console.web import (
    ConsoleUser,
    check_same_origin,
    checked_form,
    clear_session_cookie,
    read_form,
    redirect,
    render,
    set_session_cookie,
)
from gateway.db import utcnow
from gateway.dependencies import RuntimeDep
from gateway.errors import GatewayError

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("")
async def console_home() -> RedirectResponse:
    return redirect("/console/queues")


@router.get("/sign-in")
async def sign_in_page(request: Request) -> HTMLResponse:
    return render(request, "sign_in.html", None)


@router.post("/sign-in")
async def sign_in(request: Request, runtime: RuntimeDep) -> Response:
    """A pasted API token becomes a session cookie; the token itself is never stored
    in the browser."""
    check_same_origin(request)
    form = await read_form(request)
    now = utcnow()
    try:
        async with runtime.sessionmaker.begin() as session:
            cookie = await sessions.sign_in_with_token(
                session, form.get("token", ""), runtime.settings.console, now
            )
    except GatewayError as exc:
        return render(request, "sign_in.html", None, exc.status_code, error=exc.detail)
    return _signed_in(request, runtime, cookie)


@router.get("/link/{token}")
async def link_page(request: Request, token: str) -> HTMLResponse:
    """A one-time link opens a page with a button: the GET itself uses nothing up, so
    mail scanners and link previews cannot spend the link."""
    return render(request, "link.html", None, token=token)


@router.post("/link")
async def redeem_link(request: Request, runtime: RuntimeDep) -> Response:
    check_same_origin(request)
    form = await read_form(request)
    try:
        async with runtime.sessionmaker.begin() as session:
            cookie = await sessions.redeem_link(
                session, form.get("token", ""), runtime.settings.console, utcnow()
            )
    except GatewayError as exc:
        return render(request, "sign_in.html", None, exc.status_code, error=exc.detail)
    return _signed_in(request, runtime, cookie)


@router.post("/sign-out")
async def sign_out(request: Request, user: ConsoleUser, runtime: RuntimeDep) -> RedirectResponse:
    await checked_form(request, user)
    async with runtime.sessionmaker.begin() as session:
        await sessions.end(session, request.cookies.get(sessions.COOKIE))
    response = redirect("/console/sign-in")
    clear_session_cookie(response, request)
    return response


@router.post("/language")
async def set_language(request: Request) -> RedirectResponse:
    """The console's labels in another language (a preference cookie, nothing stored)."""
    check_same_origin(request)
    form = await read_form(request)
    target = form.get("next", "/console/queues")
    if not target.startswith("/console") or target.startswith("//"):
        target = "/console/queues"
    response = redirect(target)
    lang = form.get("lang", "")
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 86400,
            path="/console",
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="strict",
        )
    return response


def _signed_in(request: Request, runtime: RuntimeDep, cookie: str) -> RedirectResponse:
    response = redirect("/console/queues")
    expires = utcnow() + timedelta(seconds=runtime.settings.console.session_seconds)
    set_session_cookie(response, request, cookie, expires)
    return response
