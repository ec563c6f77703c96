"""routing confidence on tickets and agents' triage corrections

Revision ID: 0004
Revises: 0003_cases
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "0004"
down_revision: str | None = "0003_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("routing_confidence", sa.Float(), nullable=True))
    op.create_table(
        "routing_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("old_category", sa.String(length=40), nullable=False),
        sa.Column("new_category", sa.String(length=40), nullable=False),
        sa.Column("old_severity", sa.String(length=10), nullable=False),
        sa.Column("new_severity", sa.String(length=10), nullable=False),
        sa.Column("created_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_routing_correction_ticket_id"), "routing_correction", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_routing_correction_ticket_id"), table_name="routing_correction")
    op.drop_table("routing_correction")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("routing_confidence")
