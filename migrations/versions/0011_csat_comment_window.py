"""CSAT: the comment asked for in a message of its own (Telegram) and its window.

Revision ID: 0011_csat_comment
Revises: 0010_outbox_progress
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "0011_csat_comment"
down_revision: str | None = "0010_outbox_progress"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("csat_survey") as batch:
        batch.add_column(sa.Column("comment_message_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("comment_until", gateway.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("comment_external_id", sa.Text(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_csat_survey_comment_message_id_message"),
            "message",
            ["comment_message_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("csat_survey") as batch:
        batch.drop_constraint(op.f("fk_csat_survey_comment_message_id_message"), type_="foreignkey")
        batch.drop_column("comment_external_id")
        batch.drop_column("comment_until")
        batch.drop_column("comment_message_id")
