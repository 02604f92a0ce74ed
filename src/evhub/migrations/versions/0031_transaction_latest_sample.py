"""transactions keep their newest sample's time and energy register reading, for the watchdog

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REGISTER = "m.measurand = 'Energy.Active.Import.Register' AND m.phase = ''"


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch copy of `transactions` on SQLite would have
    # to drop a table that others reference.
    for name in ("sample_last_at", "register_last_at"):
        op.add_column(
            "transactions", sa.Column(name, evhub.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.add_column("transactions", sa.Column("register_last_wh", sa.BigInteger(), nullable=True))
    # From the samples stored so far (two statements: SET sees the row as it was).
    op.execute(
        "UPDATE transactions SET "
        "sample_last_at = (SELECT max(m.timestamp) FROM meter_values m "
        "WHERE m.transaction_pk = transactions.id), "
        "register_last_at = (SELECT max(m.timestamp) FROM meter_values m "
        f"WHERE m.transaction_pk = transactions.id AND {_REGISTER})"
    )
    op.execute(
        "UPDATE transactions SET register_last_wh = "
        "(SELECT CAST(round(max(m.value)) AS BIGINT) FROM meter_values m "
        "WHERE m.transaction_pk = transactions.id "
        f"AND m.timestamp = transactions.register_last_at AND {_REGISTER}) "
        "WHERE register_last_at IS NOT NULL"
    )


def downgrade() -> None:
    for name in ("register_last_wh", "register_last_at", "sample_last_at"):
        op.drop_column("transactions", name)  # SQLite 3.35 and later drop a column in place
