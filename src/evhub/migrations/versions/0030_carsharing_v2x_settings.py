"""car-sharing hubs' vehicle-to-grid settings: the operator's consent and floor for the shared
cars of each hub

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carsharing_v2x_settings",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("min_soc_pct", sa.Float(), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "min_soc_pct IS NULL OR min_soc_pct BETWEEN 0 AND 100",
            name=op.f("ck_carsharing_v2x_settings_min_soc"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_carsharing_v2x_settings_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_carsharing_v2x_settings")),
    )


def downgrade() -> None:
    op.drop_table("carsharing_v2x_settings")
