"""Loss figures per case (order and reporting currency, chargeback reason code, the
report's dimensions) and the operator-loaded exchange-rate table.

Revision ID: 0009_losses
Revises: 0008_risk
Create Date: 2026-12-01 11:52:15.460247
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db

revision: str = "0009_losses"
down_revision: str | None = "0008_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("loaded_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rate")),
        sa.UniqueConstraint(
            "currency", "quote", "effective_from", name="uq_exchange_rate_pair_date"
        ),
    )
    op.create_table(
        "case_loss",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("in_dispute", sa.Numeric(precision=38, scale=8), nullable=False),
        sa.Column("lost_buyer", sa.Numeric(precision=38, scale=8), nullable=False),
        sa.Column("lost_seller", sa.Numeric(precision=38, scale=8), nullable=False),
        sa.Column("lost_exchange", sa.Numeric(precision=38, scale=8), nullable=False),
        sa.Column("recovered", sa.Numeric(precision=38, scale=8), nullable=False),
        sa.Column("reporting_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=38, scale=12), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=True),
        sa.Column("in_dispute_minor", sa.BigInteger(), nullable=False),
        sa.Column("lost_buyer_minor", sa.BigInteger(), nullable=False),
        sa.Column("lost_seller_minor", sa.BigInteger(), nullable=False),
        sa.Column("lost_exchange_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovered_minor", sa.BigInteger(), nullable=False),
        sa.Column("chargeback_network", sa.String(length=10), nullable=True),
        sa.Column("reason_code", sa.String(length=16), nullable=True),
        sa.Column("chargeback_due_by", sa.Date(), nullable=True),
        sa.Column("decided_at", gateway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("payment_method", sa.String(length=64), nullable=True),
        sa.Column("asset", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("queue", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["dispute_case.id"], name=op.f("fk_case_loss_case_id_dispute_case")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["case_decision.id"],
            name=op.f("fk_case_loss_decision_id_case_decision"),
        ),
        sa.ForeignKeyConstraint(["set_by"], ["agent.id"], name=op.f("fk_case_loss_set_by_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_loss")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_loss_case_id")),
    )
    with op.batch_alter_table("case_loss", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_loss_decided_at", ["reporting_currency", "decided_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_loss", schema=None) as batch_op:
        batch_op.drop_index("ix_case_loss_decided_at")

    op.drop_table("case_loss")
    op.drop_table("exchange_rate")
