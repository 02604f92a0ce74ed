"""plans say whether their drivers may book shared cars

A new plan includes no car-sharing unless it says so. The plans that exist already include it:
until now every plan's drivers with a licence on file could book, and bookings made under them
must keep being startable; an operator who sells a plan without shared cars turns it off
(PATCH /api/v1/accounts/plans/{code}).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("carsharing", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(sa.text("UPDATE plans SET carsharing = :yes").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("carsharing")
