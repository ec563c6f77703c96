"""Signed one-click rating links: `/csat/{token}/{rating}?s=<hmac>`.

The token names the survey (random, 128 bits); the signature binds it to one rating, so
a link cannot be edited into another rating or another survey. Expiry and "works once"
live on the survey row: the link itself carries no state worth trusting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.settings import CsatSettings
from gateway.system import repository as system

SECRET_STATE_KEY = "csat.secret"
RATINGS = (1, 2, 3, 4, 5)


def new_token() -> str:
    return secrets.token_urlsafe(16)


def sign(key: bytes, token: str, rating: int) -> str:
    return hmac.new(key, f"csat\0{token}\0{rating}".encode(), hashlib.sha256).hexdigest()[:32]


def signature_ok(key: bytes, token: str, rating: int, signature: str) -> bool:
    return hmac.compare_digest(sign(key, token, rating), signature)


def link(base_url: str, key: bytes, token: str, rating: int) -> str:
    return f"{base_url}/csat/{token}/{rating}?s={sign(key, token, rating)}"


async def link_key(session: AsyncSession, settings: CsatSettings) -> bytes:
    """The signing key: the setting, else one generated once and shared by every process
    through the database (the first writer wins)."""
    if settings.secret is not None:
        return settings.secret.get_secret_value().encode()
    value = await system.put_if_absent(session, SECRET_STATE_KEY, secrets.token_urlsafe(48))
    return value.encode()
