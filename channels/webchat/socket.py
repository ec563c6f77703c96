"""One visitor's open websocket: reads their frames, pushes their conversation.

Two tasks share the socket: the reader stores messages and acks each after commit; the
pusher wakes on the webchat signal (any process) and sends every message past the
cursor, read from the database, so a lost signal costs latency and never a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from channels.webchat.normalise import CLIENT_ID
from channels.webchat.service import WebchatService
from channels.webchat.sessions import Visitor
from gateway import topics
from gateway.errors import GatewayError
from gateway.text import MAX_INT32

log = structlog.get_logger()

# A safety net under the signal: re-read the conversation this often anyway.
RECHECK_SECONDS = 30.0


class VisitorSocket:
    def __init__(self, websocket: WebSocket, service: WebchatService, visitor: Visitor, after: int):
        self.ws = websocket
        self.service = service
        self.conversation = service.conversation
        self.visitor = visitor
        self.cursor = max(after, 0)
        self.identity_id: int | None = None
        self.acked: set[int] = set()
        self.send_lock = asyncio.Lock()
        # Room for escapes and attachment ids; gateway/server.py sets the websocket
        # library's limit from the same figure, so nothing larger is ever read.
        self.max_frame_chars = service.settings.max_message_chars * 4 + 64 * 1024

    async def run(self) -> None:
        """Serve the socket until the visitor goes; never raises for their input."""
        notifier = self.service.ports.notifier
        async with notifier.subscribe(topics.WEBCHAT) as wakeups:
            self.identity_id = await self.conversation.identity_id(self.visitor.visitor_id)
            await self.send({"type": "ready", "visitor_id": self.visitor.visitor_id})
            # Subscribed before this first read: anything committed later also signals.
            await self.push_new()
            reader = asyncio.create_task(self.read_loop(), name="webchat-read")
            pusher = asyncio.create_task(self.push_loop(wakeups), name="webchat-push")
            try:
                done, _ = await asyncio.wait({reader, pusher}, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    exc = task.exception()
                    if exc is not None and not isinstance(exc, WebSocketDisconnect):
                        log.error("webchat.socket_failed", error=repr(exc))
            finally:
                for task in (reader, pusher):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def push_new(self) -> None:
        """Send every message of the conversation after the cursor, oldest first."""
        async with self.send_lock:
            if self.identity_id is None:
                self.identity_id = await self.conversation.identity_id(self.visitor.visitor_id)
            while True:
                frames = await self.conversation.history(self.identity_id, self.cursor)
                for frame in frames:
                    self.cursor = max(self.cursor, frame.message_id)
                    # The sender already holds its own message through the ack.
                    if frame.message_id in self.acked:
                        continue
                    await self.ws.send_text(frame.model_dump_json())
                if len(frames) < 200:
                    return

    async def push_loop(self, wakeups: asyncio.Queue[str]) -> None:
        notifier = self.service.ports.notifier
        while True:
            # A signal for this visitor, or the recheck: either way read again.
            ours = None if self.identity_id is None else {str(self.identity_id)}
            await notifier.wait_for(wakeups, ours, RECHECK_SECONDS)
            await self.push_new()

    async def read_loop(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            text = message.get("text")
            if text is None:
                await self.error("frames must be JSON text, not binary")
                continue
            await self.handle(text)

    async def error(self, detail: str, client_id: object = None) -> None:
        frame: dict[str, Any] = {"type": "error", "detail": detail}
        # Echoed only when it is a valid id: a lone surrogate in it could not be sent.
        if isinstance(client_id, str) and CLIENT_ID.match(client_id):
            frame["client_id"] = client_id
        await self.send(frame)

    async def handle(self, text: str) -> None:
        """One client frame: a bad one gets an error frame and the socket stays open."""
        if len(text) > self.max_frame_chars:
            await self.error(f"frame larger than {self.max_frame_chars} characters")
            return
        try:
            frame = json.loads(text)
        except ValueError:
            await self.error("frame is not JSON")
            return
        if not isinstance(frame, dict):
            await self.error("frame must be a JSON object")
            return
        kind = frame.get("type")
        if kind == "message":
            await self.on_message(frame)
        elif kind == "resume":
            after = frame.get("after", 0)
            if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_INT32:
                await self.error("resume needs 'after': a message id (integer >= 0)")
                return
            async with self.send_lock:
                # Asked for explicitly: the visitor's own messages come too.
                self.cursor = after
                self.acked.clear()
            await self.push_new()
        elif kind == "seen":
            try:
                await self.conversation.mark_seen(self.visitor, frame.get("message_id"))
            except GatewayError as exc:
                await self.error(exc.detail)
        elif kind == "ping":
            await self.send({"type": "pong"})
        else:
            await self.error("unknown frame type: expected message, seen, resume or ping")

    async def on_message(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        try:
            self.conversation.check_rate(self.visitor)
            # Stored and acked under the send lock: the commit signals this socket's own
            # pusher, which must find the message among the acked and not send it back
            # as a `message` frame ahead of its ack.
            async with self.send_lock:
                ack = await self.conversation.post_message(
                    self.visitor, client_id, frame.get("text", ""), frame.get("attachments") or []
                )
                self.acked.add(ack.message_id)
                await self.ws.send_text(json.dumps(ack.model_dump(), ensure_ascii=False))
        except GatewayError as exc:
            await self.error(exc.detail, client_id)
            return
        except Exception as exc:
            # Not stored: the client keeps the message and sends it again.
            log.exception("webchat.store_failed", visitor_id=self.visitor.visitor_id)
            await self.error(
                f"could not store the message, send it again ({type(exc).__name__})", client_id
            )
            return
