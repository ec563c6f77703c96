"""Errors that carry their HTTP meaning; one handler in app.py renders them."""

from __future__ import annotations


class GatewayError(Exception):
    status_code = 400

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class InvalidInbound(GatewayError):
    """An inbound message that cannot be stored as it is (no sender, too large, ...)."""

    status_code = 422


class NotFound(GatewayError):
    status_code = 404


class Forbidden(GatewayError):
    status_code = 403


class Conflict(GatewayError):
    status_code = 409


class Unauthorized(GatewayError):
    status_code = 401
