"""Console sign-in: a pasted API token or a one-time link becomes a server-side session.

The cookie carries 256 random bits; the database keeps their sha256, the agent, the
session's CSRF token and its expiry. Expiry, sign-out and a deactivated agent all end a
session on the server, whatever the browser still holds. Functions flush only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.agents.context import AgentContext
from gateway.agents.models import Agent
from gateway.agents.service import agent_by_token, hash_token
from gateway.console.models import ConsoleLink, ConsoleSession
from gateway.errors import NotFound, Unauthorized
from gateway.queues.models import QueueMembership
from gateway.settings import ConsoleSettings

COOKIE = "parley_console"
LINK_PREFIX = "prl_link_"


@dataclass(frozen=True)
class SignedIn:
    """A live console session: who it is and the token its forms must carry."""

    ctx: AgentContext
    csrf_token: str
    expires_at: datetime


async def start_session(
    session: AsyncSession, agent: Agent, settings: ConsoleSettings, now: datetime
) -> str:
    """A new session for the agent; returns the cookie value (stored nowhere else)."""
    cookie = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=hash_token(cookie),
            agent_id=agent.id,  # type: ignore[arg-type]
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.session_seconds),
        )
    )
    # Expired sessions of this agent are dead weight; drop them while we are here.
    await session.execute(
        sa.delete(ConsoleSession).where(
            col(ConsoleSession.agent_id) == agent.id, col(ConsoleSession.expires_at) <= now
        )
    )
    await session.flush()
    return cookie


async def sign_in_with_token(
    session: AsyncSession, token: str, settings: ConsoleSettings, now: datetime
) -> str:
    """Exchange an agent's API token for a session cookie (Unauthorized if it is not one)."""
    agent = await agent_by_token(session, token.strip()) if token.strip() else None
    if agent is None:
        raise Unauthorized("that is not a valid API token")
    return await start_session(session, agent, settings, now)


async def issue_link(
    session: AsyncSession,
    admin: AgentContext,
    agent_name: str,
    settings: ConsoleSettings,
    now: datetime,
) -> tuple[str, datetime]:
    """A one-time sign-in token for an agent and its expiry (`link_seconds`). Flushes."""
    agent = (
        await session.execute(sa.select(Agent).where(col(Agent.name) == agent_name))
    ).scalar_one_or_none()
    if agent is None or not agent.active:
        raise NotFound(f"no active agent named {agent_name!r}")
    token = LINK_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ConsoleLink(
            token_hash=hash_token(token),
            agent_id=agent.id,  # type: ignore[arg-type]
            created_by_id=admin.id,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.link_seconds),
        )
    )
    await session.flush()
    return token, now + timedelta(seconds=settings.link_seconds)


async def redeem_link(
    session: AsyncSession, token: str, settings: ConsoleSettings, now: datetime
) -> str:
    """Use a one-time link: exactly once (the row is marked in the same statement that
    checks it), never after expiry, never for a deactivated agent."""
    result = await session.execute(
        sa.update(ConsoleLink)
        .where(
            col(ConsoleLink.token_hash) == hash_token(token),
            col(ConsoleLink.used_at).is_(None),
            col(ConsoleLink.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(ConsoleLink.agent_id))
    )
    agent_id = result.scalar_one_or_none()
    agent = await session.get(Agent, agent_id) if agent_id is not None else None
    if agent is None or not agent.active:
        raise Unauthorized("this sign-in link is used, expired or unknown; ask for a new one")
    return await start_session(session, agent, settings, now)


async def load(session: AsyncSession, cookie: str | None, now: datetime) -> SignedIn | None:
    """The live session behind a cookie, or None (unknown, expired, agent deactivated)."""
    if not cookie:
        return None
    row = (
        await session.execute(
            sa.select(ConsoleSession, Agent)
            .join(Agent, col(Agent.id) == col(ConsoleSession.agent_id))
            .where(col(ConsoleSession.token_hash) == hash_token(cookie))
        )
    ).one_or_none()
    if row is None:
        return None
    console_session, agent = row
    if console_session.expires_at <= now or not agent.active:
        return None
    queue_ids = await session.execute(
        sa.select(col(QueueMembership.queue_id)).where(col(QueueMembership.agent_id) == agent.id)
    )
    return SignedIn(
        AgentContext(agent, frozenset(queue_ids.scalars())),
        console_session.csrf_token,
        console_session.expires_at,
    )


async def end(session: AsyncSession, cookie: str | None) -> None:
    """Sign out: the session row goes, so the cookie is worthless even if kept."""
    if cookie:
        await session.execute(
            sa.delete(ConsoleSession).where(col(ConsoleSession.token_hash) == hash_token(cookie))
        )
