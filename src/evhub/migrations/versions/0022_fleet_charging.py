"""fleet charging: a shared car's charging token and consumption, a booking's planned distance,
the VAT rate of fee lines, and one car per driver at a time held by the database

A driver's trip bookings that hold a car may not overlap: an exclusion constraint on
PostgreSQL, triggers that abort the write on SQLite (as for a vehicle's bookings, 0011).

Revision ID: 0022
Revises: 0023
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "('booked', 'in_trip')"
# NEW.id is undefined before an insert, so only the update trigger leaves the row itself out.
DRIVER_OVERLAP = (
    "SELECT RAISE(ABORT, 'car booking overlaps another booking of the same driver') "
    "WHERE EXISTS (SELECT 1 FROM car_bookings b WHERE b.driver_id = NEW.driver_id {other}"
    f"AND b.kind = 'trip' AND b.state IN {HOLDING} "
    "AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at)"
)


def upgrade() -> None:
    with op.batch_alter_table("fleet_vehicles") as batch:
        batch.add_column(sa.Column("charging_token_uid", sa.String(36), nullable=True))
        batch.add_column(sa.Column("consumption_kwh_per_km", sa.Float(), nullable=True))
    op.create_index(
        "uq_fleet_vehicles_charging_token", "fleet_vehicles", ["charging_token_uid"], unique=True
    )
    with op.batch_alter_table("car_bookings") as batch:
        batch.add_column(sa.Column("planned_km", sa.Float(), nullable=True))
    with op.batch_alter_table("car_booking_fees") as batch:
        batch.add_column(sa.Column("vat_rate", sa.Numeric(5, 4), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "ALTER TABLE car_bookings ADD CONSTRAINT ex_car_bookings_driver_interval "
            "EXCLUDE USING gist (driver_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            f"WHERE (kind = 'trip' AND state IN {HOLDING})"
        )
    elif dialect == "sqlite":
        when = f"WHEN NEW.kind = 'trip' AND NEW.state IN {HOLDING}"
        op.execute(
            "CREATE TRIGGER tr_car_bookings_driver_insert BEFORE INSERT ON car_bookings "
            f"{when} BEGIN {DRIVER_OVERLAP.format(other='')}; END"
        )
        op.execute(
            "CREATE TRIGGER tr_car_bookings_driver_update BEFORE UPDATE OF driver_id, "
            f"starts_at, ends_at, state ON car_bookings {when} "
            f"BEGIN {DRIVER_OVERLAP.format(other='AND b.id != NEW.id ')}; END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE car_bookings DROP CONSTRAINT ex_car_bookings_driver_interval")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS tr_car_bookings_driver_insert")
        op.execute("DROP TRIGGER IF EXISTS tr_car_bookings_driver_update")
    with op.batch_alter_table("car_booking_fees") as batch:
        batch.drop_column("vat_rate")
    with op.batch_alter_table("car_bookings") as batch:
        batch.drop_column("planned_km")
    op.drop_index("uq_fleet_vehicles_charging_token", table_name="fleet_vehicles")
    with op.batch_alter_table("fleet_vehicles") as batch:
        batch.drop_column("consumption_kwh_per_km")
        batch.drop_column("charging_token_uid")
