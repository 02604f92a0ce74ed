"""events: the outbox (the durable event log) and consumers' checkpoints

Revision ID: 0006
Revises: 0012
Create Date: 2026-12-01 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0006"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # PostgreSQL: the writing transaction's id orders the log (see evhub/events/log.py);
    # SQLite commits one writer at a time, in id order.
    txid_default = sa.text("(pg_current_xact_id()::text::bigint)" if postgres else "0")
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("txid", sa.BigInteger(), server_default=txid_default, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            evhub.db.UTCDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_position", "outbox", ["txid", "id"], unique=False)
    op.create_index("ix_outbox_recorded_at", "outbox", ["recorded_at"], unique=False)
    op.create_table(
        "consumer_checkpoints",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_txid", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_consumer_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("consumer_checkpoints")
    op.drop_index("ix_outbox_recorded_at", table_name="outbox")
    op.drop_index("ix_outbox_position", table_name="outbox")
    op.drop_table("outbox")
