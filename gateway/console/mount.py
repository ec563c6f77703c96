"""Mounting the console on the gateway app (the composition root calls install())."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from gateway.console import (
    actions,
    api,
    auth,
    canned_pages,
    cases,
    live,
    pages,
    risk,
    supervisor,
)
from gateway.console.web import HERE, SignInRequired, redirect


def install(app: FastAPI) -> None:
    """Mount the console's pages, static files and sign-in redirect on the app."""
    for router in (
        api.router,
        auth.router,
        pages.router,
        actions.router,
        live.router,
        supervisor.router,
        canned_pages.router,
        cases.router,
        risk.router,
    ):
        app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(SignInRequired)
    async def sign_in_required(_request: Request, _exc: SignInRequired) -> RedirectResponse:
        return redirect("/console/sign-in")
