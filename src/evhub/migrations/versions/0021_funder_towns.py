"""funders: a funder's towns on console users and API keys, required for that role only

Revision ID: 0021
Revises: 0014
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNDER_HAS_TOWNS = "(role = 'funder') = (towns IS NOT NULL)"


def upgrade() -> None:
    for table in ("users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("towns", sa.JSON(), nullable=True))
            batch.create_check_constraint("funder_towns", FUNDER_HAS_TOWNS)


def downgrade() -> None:
    for table in ("users", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_funder_towns"), type_="check")
            batch.drop_column("towns")
