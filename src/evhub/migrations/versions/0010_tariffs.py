"""billing: tariffs (OCPI 2.2.1 Tariff objects) and each site's public tariff

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SITES_FK = "fk_sites_tariff_id_tariffs"


def upgrade() -> None:
    money = sa.Numeric(precision=14, scale=4)
    op.create_table(
        "tariffs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=True),
        sa.Column("min_price_excl_vat", money, nullable=True),
        sa.Column("min_price_incl_vat", money, nullable=True),
        sa.Column("max_price_excl_vat", money, nullable=True),
        sa.Column("max_price_incl_vat", money, nullable=True),
        sa.Column("start_date_time", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_date_time", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_updated", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_tariffs_currency_iso4217")),
        sa.CheckConstraint(
            "min_price_excl_vat IS NULL OR max_price_excl_vat IS NULL "
            "OR min_price_excl_vat <= max_price_excl_vat",
            name=op.f("ck_tariffs_min_below_max"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its foreign key in place (NULL default); a batch copy of
        # `sites` would have to drop a table that stations reference.
        op.execute(
            "ALTER TABLE sites ADD COLUMN tariff_id VARCHAR(36) "
            f"CONSTRAINT {SITES_FK} REFERENCES tariffs (id) ON DELETE RESTRICT"
        )
    else:
        op.add_column("sites", sa.Column("tariff_id", sa.String(length=36), nullable=True))
        op.create_foreign_key(
            SITES_FK, "sites", "tariffs", ["tariff_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("sites", schema=None) as batch_op:
            batch_op.drop_column("tariff_id")
    else:
        op.drop_constraint(SITES_FK, "sites", type_="foreignkey")
        op.drop_column("sites", "tariff_id")
    op.drop_table("tariffs")
