"""car-sharing fee lines: one line of each kind per booking

A booking's fee lines go on an invoice named by the trip and the kind (`trip-fee:{trip}:{kind}`),
so the database holds that there is one of each.

Revision ID: 0025
Revises: 0027
Create Date: 2026-12-02 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_car_booking_fees_booking_kind", "car_booking_fees", ["booking_id", "kind"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_car_booking_fees_booking_kind", table_name="car_booking_fees")
