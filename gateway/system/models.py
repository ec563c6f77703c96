"""Small durable state that is not a ticket: checkpoints, generated secrets."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.db import UTCDateTime, utcnow


class SystemState(SQLModel, table=True):
    """One key, one value: IMAP UIDVALIDITY/UID, the Telegram polling offset, the
    webchat signing key generated on first start."""

    __tablename__ = "system_state"

    key: str = Field(sa_type=sa.String(200), primary_key=True)
    value: str = Field(sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
