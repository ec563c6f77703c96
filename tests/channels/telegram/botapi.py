"""A Bot API server double on loopback, for the real python-telegram-bot client.

It answers the methods Parley uses (getMe, sendMessage, sendPhoto, sendDocument, getFile,
file downloads, setWebhook, deleteWebhook, getUpdates), records every call with the time
it arrived, and fails on demand (429 with retry_after, 403, 5xx) through `fail()`.
Used by the tests and by bench/.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.time() on arrival
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)


@dataclass
class Failure:
    method: str
    status: int
    times: int
    retry_after: int | None = None
    chat_id: str | None = None
    description: str | None = None
    skip: int = 0  # matching calls let through before failing


@dataclass
class Delay:
    method: str
    seconds: float
    chat_id: str | None
    times: int


class BotApiServer:
    """Run with `async with BotApiServer(token) as api:`; point the bot at `api.base_url`."""

    def __init__(self, token: str, *, file_size_limit: int = 20 * 1024 * 1024):
        self.token = token
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.delays: list[Delay] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.reported_sizes: dict[str, int] = {}
        self.updates: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.file_size_limit = file_size_limit
        self._message_ids = itertools.count(1000)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- test controls ---------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: str | None = None,
        description: str | None = None,
        skip: int = 0,
    ) -> None:
        """After `skip` calls, the next `times` calls of `method` (to `chat_id`, if given)
        fail with `status`."""
        self.failures.append(
            Failure(method, status, times, retry_after, chat_id, description, skip)
        )

    def delay(
        self, method: str, seconds: float, *, chat_id: str | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) reach Telegram
        `seconds` late, as over a slow uplink or from a sender whose loop stalled: they
        are recorded, and their messages sent, only then."""
        self.delays.append(Delay(method, seconds, chat_id, times))

    def add_file(self, file_id: str, data: bytes, *, reported_size: int | None = None) -> None:
        """Serve `data` for getFile(file_id); `reported_size` overrides the announced size."""
        self.files[file_id] = (f"documents/{file_id}.bin", data)
        if reported_size is not None:
            self.reported_sizes[file_id] = reported_size

    def sent(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if method is None or c.method == method]

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> BotApiServer:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        # Its own thread and loop, like the real Telegram on another machine: arrival
        # times are not skewed by the client's busy event loop.
        self._thread = threading.Thread(target=asyncio.run, args=(self._server.serve(),))
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("Bot API double failed to start")
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join)

    # -- HTTP ------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        arrived = time.time()
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params, files = await _params(request)
        delay = self._delay_for(method, params)
        if delay:
            await asyncio.sleep(delay)
            arrived = time.time()
        call = Call(method, params, arrived, files)
        self.calls.append(call)
        failure = self._failure_for(call)
        if failure is not None:
            return _failure_response(failure)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(call)
        if isinstance(result, Response):
            return result
        return JSONResponse({"ok": True, "result": result})

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        path = request.path_params["path"]
        self.calls.append(Call("download", {"path": path}, time.time()))
        for file_path, data in self.files.values():
            if file_path == path:
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)

    def _delay_for(self, method: str, params: dict[str, Any]) -> float:
        for delay in self.delays:
            if delay.method == method and delay.times > 0:
                if delay.chat_id is None or delay.chat_id == str(params.get("chat_id")):
                    delay.times -= 1
                    return delay.seconds
        return 0.0

    def _failure_for(self, call: Call) -> Failure | None:
        for failure in self.failures:
            if failure.method == call.method and failure.times > 0:
                if failure.chat_id is None or failure.chat_id == call.chat_id:
                    if failure.skip > 0:
                        failure.skip -= 1
                        continue
                    failure.times -= 1
                    return failure
        return None

    # -- methods ---------------------------------------------------------------------

    async def _m_getMe(self, _call: Call) -> dict[str, Any]:
        return {"id": 4242, "is_bot": True, "first_name": "Parley", "username": "parley_bot"}

    def _message(self, call: Call, **content: Any) -> dict[str, Any]:
        chat_id = int(call.params["chat_id"])
        return {
            "message_id": next(self._message_ids),
            "date": int(call.at),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": 4242, "is_bot": True, "first_name": "Parley"},
            **content,
        }

    async def _m_sendMessage(self, call: Call) -> dict[str, Any]:
        return self._message(call, text=call.params["text"])

    async def _m_sendPhoto(self, call: Call) -> dict[str, Any]:
        size = len(call.files.get("photo", b""))
        photo = {
            "file_id": "ph",
            "file_unique_id": "ph",
            "width": 1,
            "height": 1,
            "file_size": size,
        }
        return self._message(call, photo=[photo])

    async def _m_sendDocument(self, call: Call) -> dict[str, Any]:
        size = len(call.files.get("document", b""))
        return self._message(
            call, document={"file_id": "doc", "file_unique_id": "doc", "file_size": size}
        )

    async def _m_getFile(self, call: Call) -> Response | dict[str, Any]:
        file_id = call.params.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        size = self.reported_sizes.get(file_id, len(data))
        if size > self.file_size_limit:
            return _error(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": size, "file_path": path}

    async def _m_answerCallbackQuery(self, _call: Call) -> bool:
        return True

    async def _m_editMessageReplyMarkup(self, _call: Call) -> bool:
        return True

    async def _m_setWebhook(self, call: Call) -> bool:
        self.webhook = dict(call.params)
        return True

    async def _m_deleteWebhook(self, _call: Call) -> bool:
        self.webhook = {}
        return True

    async def _m_getUpdates(self, call: Call) -> list[dict[str, Any]]:
        offset = int(call.params.get("offset") or 0)
        timeout = min(float(call.params.get("timeout") or 0), 0.5)
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.05)


# PTB sends strings unquoted: these stay strings even when they look like JSON ("123").
STRING_PARAMS = {"text", "caption", "url", "secret_token", "file_id"}


async def _params(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB posts form fields, each value JSON-encoded unless a plain string; files as
    multipart parts."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.method == "GET":
        items: list[tuple[str, Any]] = list(request.query_params.multi_items())
    else:
        async with request.form() as form:  # closes the uploads' temporary files
            items = []
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = await value.read()
                else:
                    items.append((key, value))
    for key, value in items:
        if key in STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    # A file sent by attach:// name lands under its own part name.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            files[key] = files.pop(value.removeprefix("attach://"), b"")
    return params, files


def _error(status: int, description: str, **parameters: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


def _failure_response(failure: Failure) -> JSONResponse:
    if failure.status == 429:
        retry = failure.retry_after or 1
        return _error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
    if failure.status == 403:
        return _error(403, failure.description or "Forbidden: bot was blocked by the user")
    return _error(failure.status, failure.description or "Internal Server Error")
