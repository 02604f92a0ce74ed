"""charging integrity: one active transaction per EVSE, 1.6 start keys, one booking per driver

- `uq_transactions_active_evse`: at most one active transaction per (station, EVSE) (OCPP 2.0.1
  Part 2 §E: at most one transaction is active on an EVSE; in 1.6 the EVSE number is the
  connector id). EVSE 0 is "not known yet" (a 2.0.1 event whose start was lost) and not covered.
  Older active duplicates are ended first, as superseded by the newer one.
- `uq_transactions_start_key`: a start that carries no id of the station's (1.6
  StartTransaction), which the CSMS numbers with its row id, is recognised on retry by its
  connector, timestamp, meter start and idTag.
- No two bookings of one driver holding points may overlap: an exclusion constraint on
  PostgreSQL, triggers on SQLite, like the per-EVSE rule of 0004.

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "('booked', 'reserved', 'in_use')"
DRIVER_OVERLAP = (
    "SELECT RAISE(ABORT, 'booking overlaps another booking of the same driver') "
    "WHERE EXISTS (SELECT 1 FROM bookings b WHERE b.driver_id = NEW.driver_id {other}"
    f"AND b.state IN {HOLDING} "
    "AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at)"
)

# The newer active transactions on the same EVSE, of an active transaction `t`.
_NEWER = (
    "FROM transactions n WHERE n.station_id = transactions.station_id "
    "AND n.evse_id = transactions.evse_id AND n.state = 'active' AND n.id > transactions.id"
)


def upgrade() -> None:
    op.execute(
        "UPDATE transactions SET state = 'ended', stop_reason = 'Superseded', "
        f"stopped_at = (SELECT MIN(n.started_at) {_NEWER}), "
        "meter_stop_wh = COALESCE(meter_last_wh, meter_start_wh) "
        f"WHERE state = 'active' AND evse_id > 0 AND EXISTS (SELECT 1 {_NEWER})"
    )
    op.create_index(
        "uq_transactions_active_evse",
        "transactions",
        ["station_id", "evse_id"],
        unique=True,
        sqlite_where=sa.text("state = 'active' AND evse_id > 0"),
        postgresql_where=sa.text("state = 'active' AND evse_id > 0"),
    )
    op.create_index(
        "uq_transactions_start_key",
        "transactions",
        ["station_id", "evse_id", "started_at", "meter_start_wh", "id_token"],
        unique=True,
        sqlite_where=sa.text("ocpp_transaction_id = CAST(id AS TEXT)"),
        postgresql_where=sa.text("ocpp_transaction_id = CAST(id AS TEXT)"),
    )
    _driver_no_overlap(op.get_bind().dialect.name)


def _driver_no_overlap(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_driver_slot EXCLUDE USING gist "
            "(driver_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            f"WHERE (state IN {HOLDING})"
        )
    elif dialect == "sqlite":
        when = f"WHEN NEW.state IN {HOLDING}"
        op.execute(
            f"CREATE TRIGGER tr_bookings_driver_no_overlap_insert BEFORE INSERT ON bookings {when} "
            f"BEGIN {DRIVER_OVERLAP.format(other='')}; END"
        )
        op.execute(
            "CREATE TRIGGER tr_bookings_driver_no_overlap_update "
            f"BEFORE UPDATE OF driver_id, starts_at, ends_at, state ON bookings {when} "
            f"BEGIN {DRIVER_OVERLAP.format(other='AND b.id != NEW.id ')}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookings DROP CONSTRAINT ex_bookings_driver_slot")
    else:
        op.execute("DROP TRIGGER IF EXISTS tr_bookings_driver_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS tr_bookings_driver_no_overlap_update")
    op.drop_index("uq_transactions_start_key", table_name="transactions")
    op.drop_index("uq_transactions_active_evse", table_name="transactions")
