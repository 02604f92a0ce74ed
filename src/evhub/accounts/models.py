"""Drivers, their plans, vehicles and tokens (RFID cards, app tokens, roaming contract ids),
their sign-in sessions, and the orders that opened accounts for them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Numeric,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class Plan(Base):
    """What a driver pays: a monthly fee (with its currency and VAT rate) and the tariff that
    prices the driver's charges (none: the site's public tariff); and whether its drivers may
    book shared cars."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="currency_iso4217"),
        CheckConstraint("monthly_fee >= 0", name="fee_not_negative"),
        CheckConstraint("vat_rate >= 0 AND vat_rate < 1", name="vat_rate_fraction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    user_group: Mapped[str] = mapped_column(String(32))
    monthly_fee: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    tariff_id: Mapped[str | None] = mapped_column(
        ForeignKey("tariffs.id", ondelete="SET NULL"), nullable=True
    )
    carsharing: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )


class Driver(Base):
    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, unique=True)
    user_group: Mapped[str] = mapped_column(String(32), default="visitor")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Self-service: a scrypt hash (None until the driver sets a password), when the e-mail
    # address was proven, the plan, and the eMI3 contract id of the driver's contract.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    email_verified_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, default=None
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="SET NULL"), nullable=True, default=None
    )
    contract_id: Mapped[str | None] = mapped_column(
        String(20), nullable=True, unique=True, default=None
    )


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(20), default="ISO14443")
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("drivers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="Accepted")
    group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The contract the token belongs to (eMI3 form), and who blocked it: a driver may lift
    # only a block of their own.
    contract_id: Mapped[str | None] = mapped_column(String(20), nullable=True, default=None)
    blocked_by: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)


class DriverSession(Base):
    """A driver signed in (app or pages): the bearer token or the cookie names it; signing out
    revokes it, apart from the operators' console sessions."""

    __tablename__ = "driver_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class VehicleModel(Base):
    """A car model of the catalogue, with what smart charging needs to know of it."""

    __tablename__ = "vehicle_models"
    __table_args__ = (
        UniqueConstraint("make", "model"),
        CheckConstraint("battery_kwh > 0", name="battery_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    make: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(100))
    battery_kwh: Mapped[float] = mapped_column(Float)  # usable capacity
    ac_max_kw: Mapped[float] = mapped_column(Float)
    dc_max_kw: Mapped[float | None] = mapped_column(Float, nullable=True)


class Vehicle(Base):
    """A driver's car, of a catalogue model."""

    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("vehicle_models.id", ondelete="RESTRICT"))
    plate: Mapped[str | None] = mapped_column(String(16), nullable=True)
    vin: Mapped[str | None] = mapped_column(String(17), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CardShipment(Base):
    """An RFID card promised to a driver: `to_post` until an operator encodes and posts it,
    which creates its token (the chip's UID is known only then)."""

    __tablename__ = "card_shipments"
    __table_args__ = (CheckConstraint("state IN ('to_post', 'posted')", name="state_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="to_post")
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("tokens.id", ondelete="SET NULL"), nullable=True
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Order(Base):
    """A car sold with a plan, handed over by a dealer or shop. The reference is unique: a
    replay finds this row and answers what it answered (`result`); `body_digest` tells a replay
    from a different order under the same reference."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
