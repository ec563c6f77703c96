"""What every console page shares: templates, the signed-in agent, forms and CSRF.

Pages are server-rendered with Jinja2 (autoescaping on for everything), so customer text,
names, subjects and file names reach the browser only as escaped text. Every response
carries a strict Content-Security-Policy: scripts only from /console/static, no inline
script, no framing.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console import i18n, sessions
from gateway.console.sessions import SignedIn
from gateway.db import utcnow
from gateway.dependencies import RuntimeDep
from gateway.errors import BadRequest, Forbidden, GatewayError, UnsupportedMediaType

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on our
    # own form posts, which the origin check must refuse.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 1024 * 1024

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class SignInRequired(Exception):
    """No live console session: the handler sends the browser to the sign-in page."""


def render(
    request: Request,
    name: str,
    user: SignedIn | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    lang = i18n.pick(request)
    values = {"error": None, "notice": None} | values
    html = templates.get_template(name).render(
        request=request,
        user=user,
        lang=lang,
        dir="rtl" if lang in i18n.RTL else "ltr",
        t=i18n.translator(lang),
        languages=i18n.LANGUAGES,
        now=utcnow(),
        **values,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def error_page(request: Request, user: SignedIn, exc: GatewayError) -> HTMLResponse:
    """The console's page for a refused action or a missing thing: its status and reason."""
    return render(
        request,
        "error.html",
        user,
        status_code=exc.status_code,
        status=exc.status_code,
        detail=exc.detail,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


async def signed_in(request: Request, runtime: RuntimeDep) -> SignedIn:
    """The console session of the request's cookie, or SignInRequired."""
    async with runtime.sessionmaker() as session:
        user = await sessions.load(session, request.cookies.get(sessions.COOKIE), utcnow())
    if user is None:
        raise SignInRequired()
    return user


ConsoleUser = Annotated[SignedIn, Depends(signed_in)]


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body, one value per field (the last)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("console forms are sent url-encoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadRequest("form too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadRequest("form is not UTF-8") from None
    # Browsers send textarea line breaks as CRLF; the desk stores plain text with LF.
    return {key: values[-1].replace("\r\n", "\n") for key, values in parsed.items()}


def check_same_origin(request: Request) -> None:
    """Browsers send Origin on every cross-site POST; one that is not ours is refused even
    before the token is looked at (this also guards the sign-in form, which has no session
    yet)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            raise Forbidden("cross-site request refused")
        if origin == "null":
            raise Forbidden("cross-site request refused")
        return
    expected = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    if origin != expected:
        raise Forbidden("cross-site request refused")


async def checked_form(request: Request, user: SignedIn) -> dict[str, str]:
    """The form of a state-changing request, after the origin and CSRF token checks."""
    check_same_origin(request)
    form = await read_form(request)
    token = form.get("csrf", "") or request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(token.encode(), user.csrf_token.encode()):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    return form


def set_session_cookie(response: Response, request: Request, value: str, expires: datetime) -> None:
    response.set_cookie(
        sessions.COOKIE,
        value,
        max_age=max(0, int((expires - utcnow()).total_seconds())),
        path="/console",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        sessions.COOKIE,
        path="/console",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
