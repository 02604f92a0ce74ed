"""roaming: each plan's price of a charge on a partner's network (markup and session fee)

Revision ID: 0027
Revises: 0018
Create Date: 2026-12-02 01:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0027"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roaming_plan_prices",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("markup_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("session_fee", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "markup_rate >= 0 AND markup_rate < 10",
            name=op.f("ck_roaming_plan_prices_markup_rate_range"),
        ),
        sa.CheckConstraint(
            "session_fee >= 0", name=op.f("ck_roaming_plan_prices_session_fee_not_negative")
        ),
        sa.CheckConstraint(
            "length(currency) = 3", name=op.f("ck_roaming_plan_prices_currency_iso4217")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_roaming_plan_prices_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_roaming_plan_prices")),
    )


def downgrade() -> None:
    op.drop_table("roaming_plan_prices")
