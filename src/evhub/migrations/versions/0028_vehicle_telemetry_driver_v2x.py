"""vehicle telemetry and drivers' V2X settings: connected cars' tokens and latest reports, and
each driver's standing vehicle-to-grid consent, floor and target

Revision ID: 0028
Revises: 0025
Create Date: 2026-12-02 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0028"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vehicle_telemetry_keys",
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=16), nullable=False),
        sa.Column("issued_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
            name=op.f("fk_vehicle_telemetry_keys_vehicle_id_vehicles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vehicle_id", name=op.f("pk_vehicle_telemetry_keys")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_vehicle_telemetry_keys_token_hash")),
    )
    op.create_table(
        "vehicle_telemetry",
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("soc_pct", sa.Float(), nullable=False),
        sa.Column("plugged_in", sa.Boolean(), nullable=False),
        sa.Column("target_soc_pct", sa.Float(), nullable=True),
        sa.Column("departure_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("measured_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("transaction_pk", sa.Integer(), nullable=True),
        sa.Column("session_wh", sa.Integer(), nullable=True),
        sa.CheckConstraint("soc_pct BETWEEN 0 AND 100", name=op.f("ck_vehicle_telemetry_soc")),
        sa.CheckConstraint(
            "target_soc_pct IS NULL OR target_soc_pct BETWEEN 0 AND 100",
            name=op.f("ck_vehicle_telemetry_target_soc"),
        ),
        sa.CheckConstraint(
            "session_wh IS NULL OR session_wh >= 0", name=op.f("ck_vehicle_telemetry_session_wh")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
            name=op.f("fk_vehicle_telemetry_vehicle_id_vehicles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_vehicle_telemetry_transaction_pk_transactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("vehicle_id", name=op.f("pk_vehicle_telemetry")),
    )
    op.create_table(
        "driver_v2x_settings",
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("min_soc_pct", sa.Float(), nullable=True),
        sa.Column("target_soc_pct", sa.Float(), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_soc_pct IS NULL OR min_soc_pct BETWEEN 0 AND 100",
            name=op.f("ck_driver_v2x_settings_min_soc"),
        ),
        sa.CheckConstraint(
            "target_soc_pct IS NULL OR target_soc_pct BETWEEN 0 AND 100",
            name=op.f("ck_driver_v2x_settings_target_soc"),
        ),
        sa.CheckConstraint(
            "min_soc_pct IS NULL OR target_soc_pct IS NULL OR min_soc_pct <= target_soc_pct",
            name=op.f("ck_driver_v2x_settings_floor_below_target"),
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_driver_v2x_settings_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("driver_id", name=op.f("pk_driver_v2x_settings")),
    )


def downgrade() -> None:
    op.drop_table("driver_v2x_settings")
    op.drop_table("vehicle_telemetry")
    op.drop_table("vehicle_telemetry_keys")
