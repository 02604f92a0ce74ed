"""roaming: authorisations, sessions, deliveries and commands of OCPI 2.2.1

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 23:02:45.250972
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roaming_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("incoming", sa.Boolean(), nullable=False),
        sa.Column("command", sa.String(length=24), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("reservation_id", sa.String(length=36), nullable=True),
        sa.Column("response", sa.String(length=16), nullable=True),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("started_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_commands_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_commands")),
    )
    with op.batch_alter_table("roaming_commands", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roaming_commands_reservation", ["partner_id", "reservation_id"], unique=False
        )

    op.create_table(
        "roaming_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=96), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_deliveries_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_deliveries")),
    )
    with op.batch_alter_table("roaming_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roaming_deliveries_pending", ["delivered_at", "object_key"], unique=False
        )

    op.create_table(
        "roaming_authorizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("realtime", sa.String(length=16), nullable=False),
        sa.Column("authorization_reference", sa.String(length=36), nullable=True),
        sa.Column("cdr_token", sa.JSON(), nullable=False),
        sa.Column("decided_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_authorizations_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_roaming_authorizations_transaction_id_transactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_authorizations")),
        sa.UniqueConstraint(
            "transaction_id", name=op.f("uq_roaming_authorizations_transaction_id")
        ),
    )
    with op.batch_alter_table("roaming_authorizations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roaming_authorizations_uid_station", ["uid", "station_id"], unique=False
        )

    op.create_table(
        "roaming_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pushed_wh", sa.Integer(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["roaming_authorizations.id"],
            name=op.f("fk_roaming_sessions_authorization_id_roaming_authorizations"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_sessions_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_roaming_sessions_transaction_id_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_sessions")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_roaming_sessions_transaction_id")),
    )


def downgrade() -> None:
    op.drop_table("roaming_sessions")
    with op.batch_alter_table("roaming_authorizations", schema=None) as batch_op:
        batch_op.drop_index("ix_roaming_authorizations_uid_station")

    op.drop_table("roaming_authorizations")
    with op.batch_alter_table("roaming_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_roaming_deliveries_pending")

    op.drop_table("roaming_deliveries")
    with op.batch_alter_table("roaming_commands", schema=None) as batch_op:
        batch_op.drop_index("ix_roaming_commands_reservation")

    op.drop_table("roaming_commands")
