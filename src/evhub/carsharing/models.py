"""Fleet vehicles, car-sharing members, car bookings (and maintenance blocks), fee lines,
trips, and condition reports with their photos.

No two car bookings holding the same vehicle (`state.HOLDING`) may overlap in time: on
PostgreSQL an exclusion constraint (btree_gist), on SQLite triggers that abort the write; both
are created by migration 0011, not declared here, as they are dialect-specific. Likewise no two
trip bookings of the same driver may overlap (one car per driver at a time, migration 0022).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class FleetVehicle(Base):
    __tablename__ = "fleet_vehicles"
    __table_args__ = (
        CheckConstraint("propulsion IN ('electric', 'combustion')", name="propulsion"),
        CheckConstraint(
            "(propulsion = 'electric' AND battery_kwh IS NOT NULL AND tank_l IS NULL) OR "
            "(propulsion = 'combustion' AND battery_kwh IS NULL)",
            name="energy_store",
        ),
        CheckConstraint("range_km > 0 AND seats > 0", name="positive"),
        Index("uq_fleet_vehicles_charging_token", "charging_token_uid", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), unique=True)
    make: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    propulsion: Mapped[str] = mapped_column(String(16))
    battery_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    tank_l: Mapped[float | None] = mapped_column(Float, nullable=True)
    range_km: Mapped[float] = mapped_column(Float)  # usable range when full
    # What the car uses, when known better than battery_kwh / range_km.
    consumption_kwh_per_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The token the car charges with at its hub (its own RFID card or Plug & Charge contract):
    # a transaction with this id token is this car charging.
    charging_token_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    seats: Mapped[int] = mapped_column(Integer)
    home_site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    # The GBFS vehicle_id, replaced by a random one after each trip (GBFS 3.0 privacy rule).
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    next_inspection_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The last reading of its telematics unit.
    odometer_km: Mapped[float] = mapped_column(Float, default=0.0)
    soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    fuel_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CarsharingMember(Base):
    """A driver's right to car-share: the driving licence, checked once before the first trip."""

    __tablename__ = "carsharing_members"

    driver_id: Mapped[int] = mapped_column(
        ForeignKey("drivers.id", ondelete="CASCADE"), primary_key=True
    )
    licence_number: Mapped[str] = mapped_column(String(32))
    licence_expires_on: Mapped[date] = mapped_column(Date)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CarBooking(Base):
    __tablename__ = "car_bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="interval_order"),
        CheckConstraint(
            "(kind = 'trip' AND driver_id IS NOT NULL) OR (kind = 'maintenance')", name="kind"
        ),
        Index("ix_car_bookings_vehicle_start", "vehicle_id", "starts_at"),
        Index("ix_car_bookings_state_start", "state", "starts_at"),
        Index("ix_car_bookings_driver_start", "driver_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("fleet_vehicles.id", ondelete="RESTRICT"))
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("drivers.id", ondelete="RESTRICT"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(255), default="")
    # The distance the driver means to drive: the car is charged for it before the start.
    planned_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CarBookingFee(Base):
    """A fee line of a booking (time, distance, late return, ...), for invoicing; one of each
    kind per booking."""

    __tablename__ = "car_booking_fees"
    __table_args__ = (Index("uq_car_booking_fees_booking_kind", "booking_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("car_bookings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)  # minutes late, for a late return
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Trip(Base):
    """A booking's use of the car, with the telematics readings at start and end."""

    __tablename__ = "car_trips"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("car_bookings.id", ondelete="RESTRICT"), unique=True
    )
    vehicle_id: Mapped[int] = mapped_column(
        ForeignKey("fleet_vehicles.id", ondelete="RESTRICT"), index=True
    )
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    start_odometer_km: Mapped[float] = mapped_column(Float)
    start_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    start_fuel_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    start_latitude: Mapped[float] = mapped_column(Float)
    start_longitude: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_odometer_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_fuel_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_longitude: Mapped[float | None] = mapped_column(Float, nullable=True)


class ConditionReport(Base):
    """What the driver saw of the car's damage and cleanliness, with photos."""

    __tablename__ = "car_condition_reports"
    __table_args__ = (
        CheckConstraint("cleanliness BETWEEN 1 AND 5", name="cleanliness"),
        CheckConstraint("damage IN ('none', 'minor', 'major')", name="damage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("car_bookings.id", ondelete="CASCADE"), index=True
    )
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("fleet_vehicles.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(8))  # before / after the trip
    damage: Mapped[str] = mapped_column(String(8))
    cleanliness: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportPhoto(Base):
    """A photo of a report, stored under var_dir by its SHA-256 (the same photo once)."""

    __tablename__ = "car_report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("car_condition_reports.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200), default="")
    stored_as: Mapped[str] = mapped_column(String(200))


class HubV2xSettings(Base):
    """The operator's vehicle-to-grid choice for the shared cars of a hub: whether they may
    feed the grid between bookings, and the floor their battery never goes below (None: the
    `carsharing_v2g_min_soc_pct` setting). A hub without a row keeps them charge-only."""

    __tablename__ = "carsharing_v2x_settings"
    __table_args__ = (
        CheckConstraint("min_soc_pct IS NULL OR min_soc_pct BETWEEN 0 AND 100", name="min_soc"),
    )

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    consent: Mapped[bool] = mapped_column(Boolean)
    min_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
