"""Webchat HTTP routes, the websocket and the widget script.

The widget runs on the exchange's pages, so every route here answers CORS for the
allowed origins itself (errors included: the widget must read a 401 to renew its
session) and refuses other origins with 403.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Request, Response, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from channels.webchat.schemas import (
    Ack,
    AttachmentUploaded,
    ChoiceAnswer,
    ChoiceComment,
    ChoiceCreate,
    CommentAnswer,
    History,
    MessageCreate,
    SeenCreate,
    SessionCreate,
    SessionPublic,
)
from channels.webchat.service import WebchatService
from channels.webchat.sessions import Visitor, origin_allowed
from channels.webchat.socket import VisitorSocket
from gateway import topics
from gateway.errors import GatewayError, PayloadTooLarge, Unauthorized
from gateway.text import MAX_INT32
from gateway.validation import AfterQuery

log = structlog.get_logger()

WIDGET_PATH = Path(__file__).parent / "static" / "widget.js"
MAX_LONG_POLL_SECONDS = 25


def _validation_detail(exc: RequestValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}" for err in exc.errors()
    )


def build_routes(service: WebchatService) -> APIRouter:
    allowed = service.settings.allowed_origins
    sessions, uploads, conversation = service.sessions, service.uploads, service.conversation

    class CorsRoute(APIRoute):
        """Checks Origin, renders errors here and adds CORS headers to every answer."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                origin = request.headers.get("origin")
                if not origin_allowed(origin, request.headers.get("host"), allowed):
                    log.warning("webchat.origin_refused", origin=origin[:200] if origin else None)
                    return JSONResponse({"detail": "origin not allowed"}, status_code=403)
                try:
                    response = await handler(request)
                except GatewayError as exc:
                    response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
                except RequestValidationError as exc:
                    response = JSONResponse({"detail": _validation_detail(exc)}, status_code=422)
                if origin:
                    response.headers["Access-Control-Allow-Origin"] = origin
                    response.headers["Vary"] = "Origin"
                return response

            return route

    routes = APIRouter(route_class=CorsRoute, tags=["webchat"])

    async def visitor_of(authorization: str | None) -> Visitor:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("session token required: Authorization: Bearer <token>")
        return await sessions.authenticate(token.strip())

    @routes.options("/channels/webchat/{path:path}", include_in_schema=False)
    async def preflight(path: str) -> Response:
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            },
        )

    @routes.post("/channels/webchat/sessions", response_model=SessionPublic)
    async def create_session(body: SessionCreate) -> SessionPublic:
        """A signed, expiring session token for a new visitor (401 on a forged user_hash)."""
        return await sessions.create_session(body)

    @routes.post("/channels/webchat/messages", response_model=Ack)
    async def post_message(
        body: MessageCreate, authorization: Annotated[str | None, Header()] = None
    ) -> Ack:
        """HTTP fallback for a `message` frame: the same ack, after commit, once per client_id."""
        visitor = await visitor_of(authorization)
        conversation.check_rate(visitor)
        return await conversation.post_message(visitor, body.client_id, body.text, body.attachments)

    @routes.post("/channels/webchat/choices", response_model=ChoiceAnswer)
    async def post_choice(
        body: ChoiceCreate, authorization: Annotated[str | None, Header()] = None
    ) -> ChoiceAnswer:
        """A tapped button under a message (a survey rating): what to show the visitor
        (thanks, already answered, expired). Only the visitor it was offered to counts."""
        visitor = await visitor_of(authorization)
        conversation.check_rate(visitor)
        return await conversation.answer_choice(visitor, body.value)

    @routes.post("/channels/webchat/choices/comment", response_model=CommentAnswer)
    async def post_choice_comment(
        body: ChoiceComment, authorization: Annotated[str | None, Header()] = None
    ) -> CommentAnswer:
        """The optional comment typed on the survey card after its rating (`value` is
        the rating's button): once per survey, while it is open; 409 when empty."""
        visitor = await visitor_of(authorization)
        conversation.check_rate(visitor)
        return CommentAnswer(
            text=await conversation.comment_choice(visitor, body.value, body.comment)
        )

    @routes.post("/channels/webchat/seen", status_code=204, response_class=Response)
    async def post_seen(
        body: SeenCreate, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        """HTTP fallback for a `seen` frame: the widget showed every reply up to
        `message_id`, so none of them is mailed as unseen. A GET never records this."""
        visitor = await visitor_of(authorization)
        await conversation.mark_seen(visitor, body.message_id)
        return Response(status_code=204)

    @routes.get("/channels/webchat/messages", response_model=History)
    async def get_messages(
        after: AfterQuery = 0,
        wait: Annotated[float, Query(ge=0, le=MAX_LONG_POLL_SECONDS)] = 0,
        authorization: Annotated[str | None, Header()] = None,
    ) -> History:
        """The visitor's conversation after a message id; with `wait`, a long poll that
        answers as soon as something arrives (at most `wait` seconds)."""
        visitor = await visitor_of(authorization)
        identity_id = await conversation.identity_id(visitor.visitor_id)
        items = await conversation.history(identity_id, after)
        if not items and wait > 0:
            deadline = time.monotonic() + wait
            notifier = service.ports.notifier
            async with notifier.subscribe(topics.WEBCHAT) as wakeups:
                items = await conversation.history(identity_id, after)
                while not items and (left := deadline - time.monotonic()) > 0:
                    # Before the visitor's first message there is no identity: any
                    # signal may be theirs.
                    ours = None if identity_id is None else {str(identity_id)}
                    if not await notifier.wait_for(wakeups, ours, left):
                        break
                    if identity_id is None:
                        identity_id = await conversation.identity_id(visitor.visitor_id)
                    items = await conversation.history(identity_id, after)
        last = max([after, *(item.message_id for item in items)])
        return History(items=items, last_message_id=last)

    @routes.post(
        "/channels/webchat/attachments",
        response_model=AttachmentUploaded,
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def upload(
        request: Request,
        filename: Annotated[str | None, Query(max_length=255)] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> AttachmentUploaded:
        """Upload a screenshot or screen recording (raw bytes: PNG, JPEG, WebP, GIF, PDF,
        MP4, MOV or WebM); the id it returns goes into the next message's `attachments`."""
        visitor = await visitor_of(authorization)
        limit = service.settings.max_attachment_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"file is larger than {limit} bytes")
        data = bytearray()
        async for chunk in request.stream():
            data.extend(chunk)
            if len(data) > limit:
                raise PayloadTooLarge(f"file is larger than {limit} bytes")
        return await uploads.store(visitor, bytes(data), filename)

    @routes.get(
        "/widget.js",
        response_class=Response,
        responses={200: {"content": {"text/javascript": {}}}},
    )
    async def widget() -> Response:
        """The embeddable chat widget (one static script)."""
        return Response(
            WIDGET_PATH.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    @routes.websocket("/channels/webchat/ws")
    async def websocket(websocket: WebSocket, token: str = "", after: str = "0") -> None:
        """Frames per api.md; token and Origin are checked before the socket is accepted."""
        origin = websocket.headers.get("origin")
        if not origin_allowed(origin, websocket.headers.get("host"), allowed):
            log.warning("webchat.origin_refused", origin=origin[:200] if origin else None)
            await _deny(websocket, 403, "origin not allowed")
            return
        cursor = int(after) if after.isascii() and after.isdigit() and len(after) <= 10 else -1
        if not 0 <= cursor <= MAX_INT32:
            await _deny(websocket, 422, "after must be a message id (an integer >= 0)")
            return
        try:
            visitor = await sessions.authenticate(token)
        except Unauthorized as exc:
            await _deny(websocket, 401, exc.detail)
            return
        await websocket.accept()
        log.info("webchat.socket_opened", visitor_id=visitor.visitor_id)
        try:
            await VisitorSocket(websocket, service, visitor, cursor).run()
        finally:
            log.info("webchat.socket_closed", visitor_id=visitor.visitor_id)

    return routes


async def _deny(websocket: WebSocket, status: int, detail: str) -> None:
    """Refuse the handshake with an HTTP status (or close code 4401/4403 where the server
    cannot send an HTTP answer)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"detail": detail}, status_code=status))
    else:
        await websocket.close(code=4000 + status, reason=detail[:120])
