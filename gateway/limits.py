"""A ceiling on request bodies, enforced while they stream in (ASGI middleware).

Content-Length over the limit is refused before any byte is read; a chunked body is
counted as it arrives and cut off at the limit. Either way the answer is 413 with a
JSON detail, and nothing downstream sees a partial body.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.text import problem_in


class BodyTooLarge(HTTPException):
    """Raised from `receive` mid-body. An HTTPException, so FastAPI's body parsing lets
    it through as a 413 instead of wrapping it into "error parsing the body" (400)."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"request body over {max_bytes} bytes (GATEWAY_HTTP_MAX_BODY_BYTES)")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body over {self.max_bytes} bytes (GATEWAY_HTTP_MAX_BODY_BYTES)"}
        ).encode()
        headers: list[tuple[bytes, Any]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class StorableParams:
    """Path and query strings hold no NUL and no lone surrogate: every route looks them up
    or stores them, and the database refuses both (a 500). Refused once, here, with 400;
    this covers HTTP and the websocket handshake alike."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = _param_problem(scope)
            if problem is not None:
                if scope["type"] == "http":
                    await _answer(send, 400, f"request {problem}")
                else:
                    await send({"type": "websocket.close", "code": 4400, "reason": problem[:100]})
                return
        await self.app(scope, receive, send)


def _param_problem(scope: Scope) -> str | None:
    path = str(scope.get("path", ""))
    if found := problem_in(path):
        return f"path {found}"
    query = bytes(scope.get("query_string") or b"").decode("utf-8", "surrogateescape")
    for key, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
        if found := problem_in(key) or problem_in(value):
            return f"query parameter {found}"
    return None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, Any]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
