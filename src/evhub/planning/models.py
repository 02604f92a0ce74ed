"""What the planner is told (a car's need, an operator's cap) and what it told the stations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class ChargingNeed(Base):
    """The latest declared need of a running transaction; one row per transaction.

    `source` ranks who said it (driver > reservation > iso15118); a connected car's report
    (`telemetry`, between the booking and ISO 15118) and the SoC- and history-based
    estimates are computed at planning time and never stored here.
    """

    __tablename__ = "charging_needs"

    transaction_pk: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    energy_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    departure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    battery_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class V2xNeed(Base):
    """A running transaction's vehicle-to-grid side: the driver's consent and state-of-charge
    bounds, and the car's own V2X bounds (OCPP 2.1 NotifyEVChargingNeeds), one row each.

    The two halves are written independently (the driver's by the API, the car's by the
    gateway) and neither overwrites the other. The car's bounds are stored as states of charge
    (percent), so that they stay true as the battery moves; without consent, the car's
    bidirectional mode or a known battery, the transaction only charges.
    """

    __tablename__ = "v2x_needs"
    __table_args__ = (
        CheckConstraint("min_soc_pct IS NULL OR min_soc_pct BETWEEN 0 AND 100", name="min_soc"),
        CheckConstraint(
            "target_soc_pct IS NULL OR target_soc_pct BETWEEN 0 AND 100", name="target_soc"
        ),
        CheckConstraint("car_max_discharge_kw >= 0", name="car_max_discharge"),
    )

    transaction_pk: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True
    )
    consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    min_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    bidirectional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    car_max_discharge_kw: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    car_min_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    car_max_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    car_target_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    car_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DriverV2xSettings(Base):
    """A driver's standing vehicle-to-grid choice (consent, floor and target state of charge),
    from their pages: copied into the `v2x_needs` row of each of their charges when its car
    first tells its V2X bounds, and into those already running when the driver changes it."""

    __tablename__ = "driver_v2x_settings"
    __table_args__ = (
        CheckConstraint("min_soc_pct IS NULL OR min_soc_pct BETWEEN 0 AND 100", name="min_soc"),
        CheckConstraint(
            "target_soc_pct IS NULL OR target_soc_pct BETWEEN 0 AND 100", name="target_soc"
        ),
        CheckConstraint(
            "min_soc_pct IS NULL OR target_soc_pct IS NULL OR min_soc_pct <= target_soc_pct",
            name="floor_below_target",
        ),
    )

    driver_id: Mapped[int] = mapped_column(
        ForeignKey("drivers.id", ondelete="CASCADE"), primary_key=True
    )
    consent: Mapped[bool] = mapped_column(Boolean)
    min_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvseLimit(Base):
    """What an EVSE was last told, per profile purpose, and whether the station said yes.

    Written before the station is called (`status` "unknown") and again with its answer, so
    that after a crash the planner still knows what every station may be applying: an EVSE
    out of reach counts at what it acknowledged, and at the higher of the old and new limits
    while an increase is unanswered. `previous_kw` is that older limit (None: not known).
    """

    __tablename__ = "evse_limits"
    __table_args__ = (
        CheckConstraint("status IN ('accepted', 'refused', 'unknown')", name="status"),
        CheckConstraint("unit IN ('W', 'A')", name="unit"),
        CheckConstraint("purpose IN ('TxProfile', 'TxDefaultProfile')", name="purpose"),
    )

    station_id: Mapped[str] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(24), primary_key=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    limit_value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(1))
    limit_kw: Mapped[float] = mapped_column(Float)
    previous_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8))  # accepted / refused / unknown
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EvseCap(Base):
    """An operator's cap on one EVSE: every limit sent to it stays at or below `limit_kw`."""

    __tablename__ = "evse_caps"
    __table_args__ = (CheckConstraint("limit_kw >= 0", name="limit_kw"),)

    station_id: Mapped[str] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    limit_kw: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StationRateUnits(Base):
    """The schedule units a station accepts (1.6 ChargingScheduleAllowedChargingRateUnit,
    e.g. "Current,Power"), read once per connection."""

    __tablename__ = "station_rate_units"

    station_id: Mapped[str] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    units: Mapped[str] = mapped_column(String(32))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VehicleTelemetryKey(Base):
    """The token a car maker's cloud sends with a connected car's telemetry: one per car,
    stored as its SHA-256 digest (it is random and long, so a digest is enough); issuing a
    new one rotates it."""

    __tablename__ = "vehicle_telemetry_keys"

    vehicle_id: Mapped[int] = mapped_column(
        ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[str] = mapped_column(String(16))  # operator / driver
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VehicleTelemetry(Base):
    """A connected car's latest report (a report measured before the stored one is ignored).

    `transaction_pk` and `session_wh` tie the report to the charge running for the car's driver
    when it arrived, and what that charge had delivered then: the SoC is true at that point, so
    what the station delivers after it counts towards the car's target."""

    __tablename__ = "vehicle_telemetry"
    __table_args__ = (
        CheckConstraint("soc_pct BETWEEN 0 AND 100", name="soc"),
        CheckConstraint(
            "target_soc_pct IS NULL OR target_soc_pct BETWEEN 0 AND 100", name="target_soc"
        ),
        CheckConstraint("session_wh IS NULL OR session_wh >= 0", name="session_wh"),
    )

    vehicle_id: Mapped[int] = mapped_column(
        ForeignKey("vehicles.id", ondelete="CASCADE"), primary_key=True
    )
    soc_pct: Mapped[float] = mapped_column(Float)
    plugged_in: Mapped[bool] = mapped_column(Boolean)
    target_soc_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    departure_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    transaction_pk: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), nullable=True
    )
    session_wh: Mapped[int | None] = mapped_column(Integer, nullable=True)
