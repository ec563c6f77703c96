"""queues that require the agent to read the ticket's language

Revision ID: 0006
Revises: i19_webhooks_csat
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "i19_webhooks_csat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue") as batch:
        batch.add_column(
            sa.Column(
                "requires_agent_language", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("queue") as batch:
        batch.drop_column("requires_agent_language")
