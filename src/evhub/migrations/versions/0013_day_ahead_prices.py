"""prices: day-ahead prices per site or bidding zone; grid fee and demand charge per site

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-01 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0013"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "day_ahead_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("bidding_zone", sa.String(length=32), nullable=True),
        sa.Column("starts_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("price_eur_per_mwh", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("imported_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(site_id IS NULL) != (bidding_zone IS NULL)",
            name=op.f("ck_day_ahead_prices_site_or_zone"),
        ),
        sa.CheckConstraint(
            "resolution_minutes IN (15, 30, 60)", name=op.f("ck_day_ahead_prices_resolution")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_day_ahead_prices_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_day_ahead_prices")),
        sa.UniqueConstraint(
            "bidding_zone", "starts_at", name=op.f("uq_day_ahead_prices_bidding_zone_starts_at")
        ),
        sa.UniqueConstraint(
            "site_id", "starts_at", name=op.f("uq_day_ahead_prices_site_id_starts_at")
        ),
    )
    op.create_table(
        "site_energy_costs",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("grid_fee_per_kwh", sa.Numeric(precision=10, scale=5), nullable=False),
        sa.Column("demand_charge_per_kw_month", sa.Numeric(precision=10, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bidding_zone", sa.String(length=32), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "demand_charge_per_kw_month >= 0", name=op.f("ck_site_energy_costs_demand_charge")
        ),
        sa.CheckConstraint("grid_fee_per_kwh >= 0", name=op.f("ck_site_energy_costs_grid_fee")),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_site_energy_costs_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_energy_costs")),
    )


def downgrade() -> None:
    op.drop_table("site_energy_costs")
    op.drop_table("day_ahead_prices")
