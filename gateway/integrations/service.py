"""Service tokens for machine callers (role `integration`)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.service import hash_token
from gateway.errors import Conflict
from gateway.integrations.models import IntegrationRole, ServiceToken

# A different prefix from agents' `prl_`, so a leaked token says what it is.
TOKEN_PREFIX = "prs_"


async def create_service_token(session: AsyncSession, *, name: str) -> tuple[ServiceToken, str]:
    """A new integration caller and its token (shown once; only the hash is kept)."""
    name = name.strip()
    if not name:
        raise Conflict("service token name must not be empty")
    existing = await session.execute(
        sa.select(col(ServiceToken.id)).where(col(ServiceToken.name) == name)
    )
    if existing.first() is not None:
        raise Conflict(f"a service token named {name!r} exists already")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ServiceToken(name=name, role=IntegrationRole.integration, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    return row, token


async def by_token(session: AsyncSession, token: str) -> ServiceToken | None:
    result = await session.execute(
        sa.select(ServiceToken).where(
            col(ServiceToken.token_hash) == hash_token(token), col(ServiceToken.active).is_(True)
        )
    )
    return result.scalar_one_or_none()
