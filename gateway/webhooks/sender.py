"""One HTTP POST of a signed webhook body, classified for the retry policy."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime

import httpx

from gateway.webhooks.ssrf import Resolver, UnsafeTarget, check_url, system_resolver

USER_AGENT = "Parley-Webhooks/1"


@dataclass(frozen=True, slots=True)
class SendResult:
    """`outcome`: sent (2xx), retry (timeout, connection error, 5xx, 408, 429) or
    failed (any other answer, or a target the SSRF guard refuses)."""

    outcome: str
    status_code: int | None = None
    retry_after: float | None = None
    error: str | None = None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


class WebhookSender:
    """Posts bodies with httpx; the transport is injected (tests, proxies), redirects
    are not followed (a 3xx could point the desk's request anywhere)."""

    def __init__(
        self,
        *,
        timeout_seconds: float,
        allow_private: bool,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self._timeout = timeout_seconds
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, in the loop that sends: a worker that never sends a webhook
        # holds no connection pool.
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, now: datetime
    ) -> SendResult:
        try:
            await check_url(url, allow_private=self.allow_private, resolver=self.resolver)
        except UnsafeTarget as exc:
            return SendResult("failed", error=f"refused: {exc}")
        try:
            response = await self._http().post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return SendResult("retry", error="timed out")
        except httpx.HTTPError as exc:
            return SendResult("retry", error=f"{type(exc).__name__}: {exc}"[:500])
        code = response.status_code
        if 200 <= code < 300:
            return SendResult("sent", status_code=code)
        error = f"HTTP {code}: {response.text[:200]}"
        if code in (408, 429) or code >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now)
            return SendResult("retry", status_code=code, retry_after=retry_after, error=error)
        return SendResult("failed", status_code=code, error=error)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
