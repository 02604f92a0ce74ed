"""v2x needs: a transaction's driver consent and state-of-charge bounds, and its car's V2X bounds

Revision ID: 0023
Revises: 0016
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0023"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "v2x_needs",
        sa.Column("transaction_pk", sa.Integer(), nullable=False),
        sa.Column("consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("min_soc_pct", sa.Float(), nullable=True),
        sa.Column("target_soc_pct", sa.Float(), nullable=True),
        sa.Column("bidirectional", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("car_max_discharge_kw", sa.Float(), server_default="0", nullable=False),
        sa.Column("car_min_soc_pct", sa.Float(), nullable=True),
        sa.Column("car_max_soc_pct", sa.Float(), nullable=True),
        sa.Column("car_target_soc_pct", sa.Float(), nullable=True),
        sa.Column("car_soc_pct", sa.Float(), nullable=True),
        sa.Column("battery_kwh", sa.Float(), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_soc_pct IS NULL OR min_soc_pct BETWEEN 0 AND 100",
            name=op.f("ck_v2x_needs_min_soc"),
        ),
        sa.CheckConstraint(
            "target_soc_pct IS NULL OR target_soc_pct BETWEEN 0 AND 100",
            name=op.f("ck_v2x_needs_target_soc"),
        ),
        sa.CheckConstraint(
            "car_max_discharge_kw >= 0", name=op.f("ck_v2x_needs_car_max_discharge")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_v2x_needs_transaction_pk_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transaction_pk", name=op.f("pk_v2x_needs")),
    )


def downgrade() -> None:
    op.drop_table("v2x_needs")
