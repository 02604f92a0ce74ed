"""Which nodes are alive (a lease each renews) and which node holds which station's socket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class ClusterNode(Base):
    """A running node; its stations count as present while `lease_expires_at` is ahead."""

    __tablename__ = "cluster_nodes"

    node_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class StationPresence(Base):
    """The node a station's WebSocket is attached to: one row per station (the latest wins)."""

    __tablename__ = "station_presence"

    station_id: Mapped[str] = mapped_column(
        String(48), ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[str] = mapped_column(
        String(48), ForeignKey("cluster_nodes.node_id", ondelete="CASCADE"), index=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime())
