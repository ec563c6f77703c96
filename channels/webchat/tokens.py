"""Signed, expiring tokens for widget sessions and uploaded attachments (pure, no I/O).

A token is `base64url(json payload) "." base64url(HMAC-SHA256(key, kind "." payload))`.
The `kind` is part of the signed text, so a session token can never pass as an
attachment id or the other way round. Tokens are stateless: any gateway process that
shares the key verifies them without the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

SESSION = "session"
ATTACHMENT = "attachment"


class InvalidToken(Exception):
    """A token that is malformed, forged, of the wrong kind or expired."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("token is not base64url") from exc


def _mac(key: bytes, kind: str, body: str) -> bytes:
    return hmac.new(key, f"{kind}.{body}".encode("ascii"), hashlib.sha256).digest()


def sign(key: bytes, kind: str, payload: dict[str, Any], *, ttl_seconds: int) -> str:
    """A token for `payload` that expires `ttl_seconds` from now."""
    data = payload | {"exp": int(time.time()) + ttl_seconds}
    body = _b64encode(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64encode(_mac(key, kind, body))}"


def verify(key: bytes, kind: str, token: str, *, now: float | None = None) -> dict[str, Any]:
    """The payload of a valid, unexpired token of `kind`; InvalidToken otherwise."""
    if not token or len(token) > 8192 or token.count(".") != 1:
        raise InvalidToken("malformed token")
    body, mac = token.split(".")
    try:
        body.encode("ascii")
    except UnicodeEncodeError as exc:
        raise InvalidToken("malformed token") from exc
    if not hmac.compare_digest(_b64decode(mac), _mac(key, kind, body)):
        raise InvalidToken("bad token signature")
    try:
        payload = json.loads(_b64decode(body))
    except ValueError as exc:
        raise InvalidToken("malformed token payload") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise InvalidToken("malformed token payload")
    if payload["exp"] < (time.time() if now is None else now):
        raise InvalidToken("token expired")
    return payload


def user_hash(identity_secret: bytes, user_id: str) -> str:
    """What the exchange backend computes to vouch for a user id: hex HMAC-SHA256."""
    return hmac.new(identity_secret, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def email_hash(identity_secret: bytes, email: str) -> str:
    """What the exchange backend computes to vouch for a visitor's email address: hex
    HMAC-SHA256 of `email\0` + the address lowercased (never equal to any user_hash)."""
    message = b"email\0" + email.strip().lower().encode("utf-8")
    return hmac.new(identity_secret, message, hashlib.sha256).hexdigest()


def email_hash_valid(identity_secret: bytes, email: str, given: str) -> bool:
    """Constant-time check of an `email_hash` (hex, either case)."""
    expected = email_hash(identity_secret, email).encode("ascii")
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8"))


def user_hash_valid(identity_secret: bytes, user_id: str, given: str) -> bool:
    """Constant-time check of a `user_hash` (hex, either case)."""
    expected = user_hash(identity_secret, user_id).encode("ascii")
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8"))
