"""auth: console sessions stored on the server, so that sign-out revokes them; one log
upload per request

Revision ID: 0009
Revises: 0013
Create Date: 2026-12-01 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0009"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_console_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index(
        op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"], unique=False
    )
    op.create_index(
        "uq_station_events_one_upload",
        "station_events",
        ["station_id", "request_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'log_upload'"),
        postgresql_where=sa.text("kind = 'log_upload'"),
    )


def downgrade() -> None:
    op.drop_index("uq_station_events_one_upload", table_name="station_events")
    op.drop_index(op.f("ix_console_sessions_user_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
