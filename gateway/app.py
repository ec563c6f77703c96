"""Composition root: builds the FastAPI app and wires the channels into the core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from channels import email as email_channel
from channels import telegram as telegram_channel
from channels import webchat as webchat_channel
from gateway.agents.router import router as agents_router
from gateway.canned.router import router as canned_router
from gateway.cases.router import router as cases_router
from gateway.console.mount import install as install_console
from gateway.csat.router import router as csat_router
from gateway.deadletters.router import router as dead_letters_router
from gateway.dependencies import RuntimeDep
from gateway.errors import GatewayError
from gateway.limits import BodySizeLimit, StorableParams
from gateway.orders.router import router as orders_router
from gateway.ports import ChannelPlugin
from gateway.queues.router import router as queues_router
from gateway.reports.router import router as reports_router
from gateway.risk.router import router as risk_router
from gateway.routing.router import router as rules_router
from gateway.routing.router import triage_router
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.sla.router import router as sla_router
from gateway.tickets.router import router as tickets_router
from gateway.webhooks.router import router as webhooks_router

log = structlog.get_logger()


def install_channels(runtime: Runtime) -> list[ChannelPlugin]:
    """Build every channel against the runtime (its ports: gateway/channel_ports.py) and
    register their delivery adapters."""
    plugins: list[ChannelPlugin] = [
        email_channel.install(runtime),
        telegram_channel.install(runtime),
        webchat_channel.install(runtime),
    ]
    for plugin in plugins:
        if plugin.adapter is not None:
            runtime.adapters[plugin.channel] = plugin.adapter
    return plugins


def create_app(
    settings: Settings,
    runtime: Runtime | None = None,
    plugins: list[ChannelPlugin] | None = None,
) -> FastAPI:
    """The HTTP app. Without a `runtime` it builds (and closes) its own, with channels."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if runtime is None:
            await own_runtime.close()

    own_runtime = runtime or Runtime.from_settings(settings)
    if plugins is None:
        plugins = install_channels(own_runtime)

    app = FastAPI(
        title="Parley",
        version="1.0",
        summary="Support gateway for a P2P dispute desk: email, Telegram and web chat.",
        lifespan=lifespan,
    )
    app.state.runtime = own_runtime
    app.add_middleware(BodySizeLimit, max_bytes=settings.http.max_body_bytes)
    app.add_middleware(StorableParams)
    for api in (
        agents_router,
        queues_router,
        tickets_router,
        rules_router,
        triage_router,
        canned_router,
        orders_router,
        cases_router,
        risk_router,
        sla_router,
        dead_letters_router,
        webhooks_router,
        csat_router,
        reports_router,
    ):
        app.include_router(api)
    for plugin in plugins:
        if plugin.routes is not None:
            app.include_router(plugin.routes)
    install_console(app)

    @app.exception_handler(GatewayError)
    async def gateway_error(_request: Request, exc: GatewayError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # api.md: every error is {"detail": "<text>"}; the field-level list rides along.
        errors = jsonable_encoder(exc.errors(), exclude={"input", "ctx", "url"})
        return JSONResponse(
            {"detail": describe_validation(errors), "errors": errors}, status_code=422
        )

    app.openapi = lambda: _openapi_with_error_body(app)  # type: ignore[method-assign]

    @app.get("/healthz", tags=["ops"])
    async def healthz(runtime: RuntimeDep) -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # any driver error means "not healthy"
            log.warning("health.database_down", error=str(exc))
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus text exposition."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def describe_validation(errors: list[dict[str, Any]]) -> str:
    """One readable line per problem: `body.text: String should have at least 1 character`."""
    parts = []
    for error in errors[:10]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _openapi_with_error_body(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with its 422 body described as the one we send."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "HTTPValidationError" in components:
            components["HTTPValidationError"] = ERROR_BODY_SCHEMA
        app.openapi_schema = schema
    return app.openapi_schema


ERROR_BODY_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, for a person"},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Field-level problems of a validation error",
        },
    },
}
