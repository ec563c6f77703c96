"""a multi-part delivery's progress on its outbox row (was a SystemState key per reply,
never deleted)

Revision ID: 0010_outbox_progress
Revises: 0009_losses
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_outbox_progress"
down_revision: str | None = "0009_losses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROGRESS_KEY = "telegram.progress:"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column(
                "progress",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    # Carry what was in flight over: the key is the reply's idempotency key, its
    # message's external id or "outbox-<id>".
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT key, value FROM system_state WHERE key LIKE :prefix"),
        {"prefix": PROGRESS_KEY + "%"},
    ).all()
    outbox = sa.table(
        "outbox", sa.column("id"), sa.column("message_id"), sa.column("progress", sa.JSON())
    )
    message = sa.table("message", sa.column("id"), sa.column("external_id"))
    for key, value in rows:
        idempotency_key = key[len(PROGRESS_KEY) :]
        if idempotency_key.startswith("outbox-") and idempotency_key[7:].isdigit():
            where = outbox.c.id == int(idempotency_key[7:])
        else:
            where = outbox.c.message_id.in_(
                sa.select(message.c.id).where(message.c.external_id == idempotency_key)
            )
        bind.execute(sa.update(outbox).where(where).values(progress=json.loads(value)))
    bind.execute(
        sa.text("DELETE FROM system_state WHERE key LIKE :prefix"), {"prefix": PROGRESS_KEY + "%"}
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("progress")
