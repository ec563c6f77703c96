"""Errors that carry their HTTP meaning; one handler in app.py renders them."""

from __future__ import annotations


class GatewayError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(GatewayError):
    """Input that cannot be accepted as it is; the detail says what to change."""

    status_code = 422


class InvalidInbound(InvalidRequest):
    """An inbound message that cannot be stored as it is (no sender, too large, ...)."""


class BadRequest(GatewayError):
    """A body that is not what the route reads at all (not JSON, not an Update)."""

    status_code = 400


class PayloadTooLarge(GatewayError):
    status_code = 413


class UnsupportedMediaType(GatewayError):
    status_code = 415


class TooManyRequests(GatewayError):
    status_code = 429


class Unavailable(GatewayError):
    """A part the request needs is switched off or down; the caller should retry."""

    status_code = 503


class NotFound(GatewayError):
    status_code = 404


class Forbidden(GatewayError):
    status_code = 403


class Conflict(GatewayError):
    status_code = 409


class Unauthorized(GatewayError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class AtCapacity(Conflict):
    """The agent already holds as many tickets as their capacity allows."""


class TicketClosed(Conflict):
    pass
