"""irve open data: the operator's identity, and per site and point what the IRVE files need

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-01 20:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "irve_operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("afirev_operator_id", sa.String(length=3), nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=False),
        sa.Column("operator_email", sa.String(length=254), nullable=False),
        sa.Column("operator_phone", sa.String(length=32), nullable=True),
        sa.Column("installer_name", sa.String(length=200), nullable=False),
        sa.Column("installer_siren", sa.String(length=9), nullable=False),
        sa.Column("installer_email", sa.String(length=254), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_irve_operator")),
    )
    op.create_table(
        "irve_site_details",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=30), nullable=True),
        sa.Column("insee_code", sa.String(length=5), nullable=False),
        sa.Column("implantation", sa.String(length=64), nullable=False),
        sa.Column("opening_hours", sa.String(length=300), nullable=False),
        sa.Column("accessibility_pmr", sa.String(length=64), nullable=False),
        sa.Column("access_condition", sa.String(length=32), nullable=False),
        sa.Column("gauge_restriction", sa.String(length=200), nullable=False),
        sa.Column("two_wheelers", sa.Boolean(), nullable=False),
        sa.Column("grid_connection", sa.String(length=16), nullable=False),
        sa.Column("delivery_point", sa.String(length=32), nullable=True),
        sa.Column("commissioned_on", sa.Date(), nullable=False),
        sa.Column("observations", sa.Text(), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_irve_site_details_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_irve_site_details")),
    )
    op.create_table(
        "irve_point_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("afirev_id", sa.String(length=40), nullable=True),
        sa.Column("free_of_charge", sa.Boolean(), nullable=False),
        sa.Column("pay_per_use", sa.Boolean(), nullable=False),
        sa.Column("pay_by_card", sa.Boolean(), nullable=False),
        sa.Column("pay_other", sa.Boolean(), nullable=False),
        sa.Column("tariff", sa.String(length=500), nullable=True),
        sa.Column("bookable", sa.Boolean(), nullable=False),
        sa.Column("t2_cable_attached", sa.Boolean(), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_irve_point_details_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_irve_point_details")),
        sa.UniqueConstraint("afirev_id", name=op.f("uq_irve_point_details_afirev_id")),
        sa.UniqueConstraint(
            "station_id", "evse_id", name=op.f("uq_irve_point_details_station_id_evse_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("irve_point_details")
    op.drop_table("irve_site_details")
    op.drop_table("irve_operator")
