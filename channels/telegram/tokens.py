"""Signed `/start` tokens: how the exchange proves which account a Telegram user owns.

The exchange links a logged-in user to `https://t.me/<bot>?start=<token>`. Telegram only
allows `[A-Za-z0-9_-]{1,64}` there, so the token is two unpadded base64url parts glued
together, the MAC being the last 20 characters:

    payload = expiry (4 bytes, big-endian unix seconds) || user_id (UTF-8, <= 29 bytes)
    token   = b64url(payload) || b64url(HMAC-SHA256(start_secret, DOMAIN || payload)[:15])

A token is valid until its expiry, so a leaked link stops working on its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import datetime

DOMAIN = b"parley-telegram-start\x00"
MAC_BYTES = 15
MAC_CHARS = 20  # base64 of 15 bytes, no padding
MAX_TOKEN_CHARS = 64
MAX_USER_ID_BYTES = 29
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, DOMAIN + payload, hashlib.sha256).digest()[:MAC_BYTES]


def sign_start_token(secret: bytes, user_id: str, expires_at: datetime) -> str:
    """The token the exchange puts in a t.me deep link for `user_id` (its side, in Python)."""
    raw_id = user_id.encode("utf-8")
    if not raw_id or len(raw_id) > MAX_USER_ID_BYTES:
        raise ValueError(f"user id must be 1..{MAX_USER_ID_BYTES} UTF-8 bytes")
    payload = int(expires_at.timestamp()).to_bytes(4, "big") + raw_id
    return _b64(payload) + _b64(_mac(secret, payload))


def verify_start_token(secret: bytes, token: str, now: datetime) -> str | None:
    """The exchange user id the token vouches for, or None if forged, malformed or expired."""
    if not _TOKEN_RE.match(token) or len(token) <= MAC_CHARS:
        return None
    try:
        payload = _unb64(token[:-MAC_CHARS])
        mac = _unb64(token[-MAC_CHARS:])
    except (binascii.Error, ValueError):
        return None
    if len(payload) < 5 or not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    if int.from_bytes(payload[:4], "big") < now.timestamp():
        return None
    try:
        return payload[4:].decode("utf-8")
    except UnicodeDecodeError:
        return None
