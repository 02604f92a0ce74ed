"""cluster presence: the nodes' leases and the node holding each station's socket

Revision ID: 0019
Revises: 0022
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0019"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("node_id", sa.String(length=48), nullable=False),
        sa.Column("started_at", evhub.db.UTCDateTime(), nullable=False),
        sa.Column("lease_expires_at", evhub.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("node_id"),
    )
    op.create_index("ix_cluster_nodes_lease_expires_at", "cluster_nodes", ["lease_expires_at"])
    op.create_table(
        "station_presence",
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("node_id", sa.String(length=48), nullable=False),
        sa.Column("since", evhub.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["node_id"], ["cluster_nodes.node_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("station_id"),
    )
    op.create_index("ix_station_presence_node_id", "station_presence", ["node_id"])


def downgrade() -> None:
    op.drop_index("ix_station_presence_node_id", table_name="station_presence")
    op.drop_table("station_presence")
    op.drop_index("ix_cluster_nodes_lease_expires_at", table_name="cluster_nodes")
    op.drop_table("cluster_nodes")
