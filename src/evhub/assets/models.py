"""Sites, stations, EVSEs and connectors, and the history of connector states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evhub.billing.models import TariffRecord
from evhub.db import Base, UTCDateTime


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    town: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    grid_limit_kw: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The site's public tariff. Named by its column, not its name, so that the tariffs table is
    # known wherever sites are written; RESTRICT: a tariff a site uses cannot disappear.
    tariff_id: Mapped[str | None] = mapped_column(
        ForeignKey(TariffRecord.__table__.c.id, ondelete="RESTRICT"), nullable=True
    )

    stations: Mapped[list[Station]] = relationship(back_populates="site")


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    commissioned: Mapped[bool] = mapped_column(Boolean, default=True)
    registration_status: Mapped[str] = mapped_column(String(16), default="Unknown")
    vendor: Mapped[str | None] = mapped_column(String(50), nullable=True)
    model: Mapped[str | None] = mapped_column(String(50), nullable=True)
    serial_number: Mapped[str | None] = mapped_column(String(50), nullable=True)
    firmware_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    ocpp_version: Mapped[str | None] = mapped_column(String(8), nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_boot_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    boot_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    site: Mapped[Site] = relationship(back_populates="stations")
    evses: Mapped[list[Evse]] = relationship(
        back_populates="station", cascade="all, delete-orphan", order_by="Evse.evse_id"
    )


class Evse(Base):
    """One power outlet group (OCPP 2.0.1 EVSE; in 1.6 a connector is its own EVSE)."""

    __tablename__ = "evses"
    __table_args__ = (UniqueConstraint("station_id", "evse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    current_type: Mapped[str] = mapped_column(String(2), default="AC")
    phases: Mapped[int] = mapped_column(Integer, default=3)
    max_power_kw: Mapped[float] = mapped_column(Float, default=22.0)

    station: Mapped[Station] = relationship(back_populates="evses")
    connectors: Mapped[list[Connector]] = relationship(
        back_populates="evse", cascade="all, delete-orphan", order_by="Connector.connector_id"
    )


class Connector(Base):
    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("evse_pk", "connector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evse_pk: Mapped[int] = mapped_column(ForeignKey("evses.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer, default=1)
    standard: Mapped[str] = mapped_column(String(24), default="IEC62196Type2")
    status: Mapped[str] = mapped_column(String(24), default="Unknown")
    error_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    evse: Mapped[Evse] = relationship(back_populates="connectors")


class StatusRecord(Base):
    """Every status a station reported, kept for availability figures and audits."""

    __tablename__ = "status_history"
    __table_args__ = (Index("ix_status_history_station_time", "station_id", "timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    info: Mapped[str | None] = mapped_column(String(255), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StationEvent(Base):
    """Notifications that are facts about a station: firmware, logs, security, reports."""

    __tablename__ = "station_events"
    __table_args__ = (
        Index("ix_station_events_station_time", "station_id", "received_at"),
        # One log upload per request: an upload URL takes one file (a second PUT is a 409).
        Index(
            "uq_station_events_one_upload",
            "station_id",
            "request_id",
            unique=True,
            sqlite_where=text("kind = 'log_upload'"),
            postgresql_where=text("kind = 'log_upload'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(4000), default="")
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
