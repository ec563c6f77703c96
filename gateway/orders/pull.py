"""Pulling order facts from the exchange (GATEWAY_EXCHANGE_ORDER_URL), signed and cached.

The request is `GET <url with {order_ref} filled in>` with two headers the exchange
checks: `X-Parley-Timestamp` (unix seconds) and `X-Parley-Signature` =
`sha256=` + hex HMAC-SHA256(secret, "<timestamp>\\nGET\\n<path and query>"). A 200
carries the same JSON as `PUT /api/v1/orders/{order_ref}`; 404 means no such order.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote, urlsplit

import httpx
import structlog
from pydantic import ValidationError

from gateway.errors import GatewayError
from gateway.orders.schemas import OrderFactsIn
from gateway.settings import ExchangeSettings

log = structlog.get_logger()

# One order's facts are a few hundred bytes; a larger answer is not one.
MAX_BODY_BYTES = 64 * 1024


class ExchangeUnavailable(GatewayError):
    """The exchange did not answer usefully: the caller may retry later."""

    status_code = 502


def signature(secret: bytes, timestamp: str, method: str, path: str) -> str:
    mac = hmac.new(secret, f"{timestamp}\n{method}\n{path}".encode(), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class ExchangeOrderClient:
    """Fetches one order's facts. Takes its transport, so tests can point it anywhere."""

    def __init__(
        self,
        settings: ExchangeSettings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        assert settings.order_url is not None
        self.settings = settings
        self._client = httpx.AsyncClient(
            transport=transport, timeout=settings.order_timeout_seconds, follow_redirects=False
        )

    async def fetch(self, order_ref: str, *, now: datetime) -> OrderFactsIn | None:
        """The exchange's facts, or None when it has no such order."""
        assert self.settings.order_url is not None
        url = self.settings.order_url.replace("{order_ref}", quote(order_ref, safe=""))
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        timestamp = str(int(now.timestamp()))
        headers = {"X-Parley-Timestamp": timestamp, "Accept": "application/json"}
        if self.settings.order_secret is not None:
            secret = self.settings.order_secret.get_secret_value().encode()
            headers["X-Parley-Signature"] = signature(secret, timestamp, "GET", path)
        try:
            # httpx times each read; this bounds the whole answer (a slow drip too).
            async with (
                asyncio.timeout(self.settings.order_timeout_seconds),
                self._client.stream("GET", url, headers=headers) as response,
            ):
                status = response.status_code
                body = bytearray()
                if status == 200:
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_BODY_BYTES:
                            raise ExchangeUnavailable(
                                f"the exchange sent more than {MAX_BODY_BYTES} bytes for "
                                f"order {order_ref}"
                            )
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("orders.pull_failed", order_ref=order_ref, error=repr(exc))
            raise ExchangeUnavailable(f"the exchange did not answer for order {order_ref}") from exc
        if status == 404:
            return None
        if status != 200:
            log.warning("orders.pull_failed", order_ref=order_ref, status=status)
            raise ExchangeUnavailable(f"the exchange answered {status} for order {order_ref}")
        try:
            return OrderFactsIn.model_validate_json(bytes(body))
        except ValidationError as exc:
            log.warning("orders.pull_invalid", order_ref=order_ref, error=str(exc)[:500])
            raise ExchangeUnavailable(
                f"the exchange sent facts for order {order_ref} that do not validate"
            ) from exc

    async def close(self) -> None:
        await self._client.aclose()
