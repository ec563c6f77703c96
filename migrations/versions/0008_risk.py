"""Risk: each exchange account's signals and score, reports of suspicious accounts,
channel addresses seen proving two exchange ids.

Revision ID: 0008_risk
Revises: 0007_sla
Create Date: 2026-12-01 11:54:45.748947
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.db

revision: str = "0008_risk"
down_revision: str | None = "0007_sla"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_account",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "signals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("watchlisted", sa.Boolean(), nullable=False),
        sa.Column("watchlisted_at", gateway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "dismissals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_risk_account")),
    )
    with op.batch_alter_table("risk_account", schema=None) as batch_op:
        batch_op.create_index("ix_risk_account_score", ["score", "user_id"], unique=False)

    op.create_table(
        "risk_identity_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("linked_user_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_identity_link")),
        sa.UniqueConstraint("channel", "address", "user_id", "linked_user_id", name="uq_risk_link"),
    )
    with op.batch_alter_table("risk_identity_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_identity_link_linked_user_id"), ["linked_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_risk_identity_link_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "risk_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "case_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "signals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sent_via", sa.String(length=8), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", gateway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("created_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["agent.id"], name=op.f("fk_risk_report_reported_by_agent")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["agent.id"], name=op.f("fk_risk_report_reviewed_by_agent")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_risk_report_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_report")),
    )
    with op.batch_alter_table("risk_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_report_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_report_user_id"))

    op.drop_table("risk_report")
    with op.batch_alter_table("risk_identity_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_identity_link_user_id"))
        batch_op.drop_index(batch_op.f("ix_risk_identity_link_linked_user_id"))

    op.drop_table("risk_identity_link")
    with op.batch_alter_table("risk_account", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_account_score")

    op.drop_table("risk_account")
