"""A load generator that costs little: HTTP/1.1 over one keep-alive asyncio stream per
client, requests written as bytes and answers read by Content-Length.

httpx spends 2.6-3.2 ms of CPU per request here, more than the gateway's claim itself:
as a load generator it measured the client. This one spends tens of microseconds. It
speaks only what the benches need (no redirects, no chunked answers, no TLS) and
never retries: a connection closed under a request is an error, reported with how
long the connection had been idle before it, so a keep-alive race would show.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


class ConnectionClosed(Exception):
    """The server closed the connection instead of answering."""


class RawHttp:
    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None):
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._head = f"Host: {host}:{port}\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._idle_since = 0.0
        self.requests = 0
        self.reconnects = 0

    @classmethod
    def for_url(cls, url: str, headers: dict[str, str] | None = None) -> RawHttp:
        host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
        return cls(host, int(port or 80), headers)

    async def request(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body bytes)."""
        if self._writer is None or self._writer.is_closing():
            if self._writer is not None:
                self.reconnects += 1
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self._idle_since = time.monotonic()
        assert self._reader is not None and self._writer is not None
        data = b"" if body is None else json.dumps(body).encode()
        kind = "Content-Type: application/json\r\n" if body is not None else ""
        self._writer.write(
            f"{method} {path} HTTP/1.1\r\n{self._head}{kind}Content-Length: {len(data)}\r\n\r\n"
            .encode() + data
        )  # fmt: skip
        idle = time.monotonic() - self._idle_since
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self._drop()
            raise ConnectionClosed(
                f"{method} {path}: connection closed before an answer, after it sat idle "
                f"{idle * 1000:.1f} ms and served {self.requests} requests"
            ) from exc
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        payload = await self._reader.readexactly(length) if length else b""
        self.requests += 1
        if headers.get("connection", "").lower() == "close":
            self._drop()
        self._idle_since = time.monotonic()
        return status, headers, payload

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None
