"""Webchat sessions: the signing key, issuing a visitor's token, and reading it back.

A visitor is who holds a session token: `visitor_id` is their channel address and their
one conversation's thread key, so a visitor only ever reaches their own messages.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from email_validator import EmailNotValidError, validate_email

from channels.webchat import tokens
from channels.webchat.schemas import SessionCreate, SessionPublic
from gateway.channel_ports import ChannelPorts
from gateway.errors import InvalidInbound, Unauthorized
from gateway.text import display_name

log = structlog.get_logger()

SECRET_STATE_KEY = "webchat.secret"
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class Visitor:
    """What a valid session token says about its holder."""

    visitor_id: str
    user_id: str | None = None
    email: str | None = None
    # The exchange vouched for the address (email_hash): only then is it the customer's
    # contact address, mailed reply copies. An unvouched one could be anyone's.
    email_vouched: bool = False
    language: str | None = None
    name: str | None = None


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Whether a page at `origin` may talk to this gateway.

    No Origin header means a non-browser client (which could claim any origin anyway):
    the token is what authenticates. `"*"` in `allowed` admits every origin; an empty
    list admits only the gateway's own origin (same host and port).
    """
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in {a.strip().rstrip("/").lower() for a in allowed}:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:  # "http://[" and the like: not an origin any page can have
        return False
    return bool(host) and netloc == (host or "").lower()


class Sessions:
    """Signs and checks visitors' session tokens (and, with the same key, upload ids)."""

    def __init__(self, ports: ChannelPorts) -> None:
        self.ports = ports
        self.settings = ports.settings.webchat
        self._key: bytes | None = None
        self._key_lock = asyncio.Lock()

    async def key(self) -> bytes:
        """The token signing key: the setting, else one generated once and shared by
        every process through the database (the first writer wins)."""
        if self._key is not None:
            return self._key
        async with self._key_lock:
            if self._key is None:
                if self.settings.secret is not None:
                    self._key = self.settings.secret.get_secret_value().encode()
                else:
                    self._key = (await self._stored_secret()).encode()
        return self._key

    async def _stored_secret(self) -> str:
        async with self.ports.sessionmaker.begin() as session:
            return await self.ports.state.put_if_absent(
                session, SECRET_STATE_KEY, secrets.token_urlsafe(48)
            )

    async def create_session(self, body: SessionCreate) -> SessionPublic:
        """Issue a token for a new visitor; a user id counts only when its hash checks."""
        user_id = (body.user_id or "").strip() or None
        identity_secret = self.settings.identity_secret
        verified: str | None = None
        if identity_secret is not None and user_id is not None:
            if not body.user_hash or not tokens.user_hash_valid(
                identity_secret.get_secret_value().encode(), user_id, body.user_hash
            ):
                log.warning("webchat.identity_rejected", user_id=user_id[:64])
                raise Unauthorized("user_hash is not the HMAC-SHA256 of user_id")
            verified = user_id
        if self.settings.require_identity and verified is None:
            raise Unauthorized("this desk requires a verified user_id with its user_hash")
        email = (body.email or "").strip() or None
        if email is not None:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise InvalidInbound(f"email is not an address: {exc}") from None
        vouched = False
        if email is not None and body.email_hash:
            if identity_secret is None or not tokens.email_hash_valid(
                identity_secret.get_secret_value().encode(), email, body.email_hash
            ):
                raise Unauthorized("email_hash is not the HMAC-SHA256 of the email")
            vouched = True
        language = (body.language or "").strip() or None
        if language is not None and not LANGUAGE.match(language):
            raise InvalidInbound("language is not a language tag like 'en' or 'pt-BR'")
        name = display_name(body.name, max_chars=200)
        visitor_id = uuid.uuid4().hex
        payload = {
            "v": visitor_id,
            "u": verified,
            "e": email,
            "ev": vouched or None,
            "l": language,
            "n": name,
        }
        ttl = self.settings.session_ttl_seconds
        token = tokens.sign(
            await self.key(),
            tokens.SESSION,
            {k: v for k, v in payload.items() if v is not None},
            ttl_seconds=ttl,
        )
        log.info("webchat.session_created", visitor_id=visitor_id, verified=bool(verified))
        return SessionPublic(
            token=token,
            visitor_id=visitor_id,
            expires_at=int(time.time()) + ttl,
            verified=verified is not None,
        )

    async def authenticate(self, token: str | None) -> Visitor:
        """The visitor a session token names; Unauthorized for anything else."""
        try:
            payload = tokens.verify(await self.key(), tokens.SESSION, token or "")
        except tokens.InvalidToken as exc:
            raise Unauthorized(f"session token rejected: {exc}") from exc
        visitor_id = payload.get("v")
        if not isinstance(visitor_id, str) or not visitor_id:
            raise Unauthorized("session token rejected: no visitor")
        return Visitor(
            visitor_id=visitor_id,
            user_id=payload.get("u"),
            email=payload.get("e"),
            email_vouched=payload.get("ev") is True,
            language=payload.get("l"),
            name=payload.get("n"),
        )
