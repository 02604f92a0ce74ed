"""Access windows, site holidays and bookings.

No two bookings holding the same EVSE (`state.HOLDING`) may overlap in time. The database says
so itself: on PostgreSQL an exclusion constraint (btree_gist), on SQLite triggers that abort the
write; both are created by migration 0003, not declared here, as they are dialect-specific.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class AccessWindow(Base):
    """When drivers of a user group may charge at a site (local time), and how many at once."""

    __tablename__ = "access_windows"
    __table_args__ = (Index("ix_access_windows_site_group", "site_id", "user_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    user_group: Mapped[str] = mapped_column(String(32))
    days: Mapped[str] = mapped_column(String(7))  # weekday digits, 0 = Monday: "01234"
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SiteHoliday(Base):
    """A local date on which a site's windows follow another weekday's rule."""

    __tablename__ = "site_holidays"
    __table_args__ = (UniqueConstraint("site_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    treat_as: Mapped[int] = mapped_column(Integer, default=6)
    name: Mapped[str] = mapped_column(String(100), default="")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="slot_order"),
        Index("ix_bookings_state_start", "state", "starts_at"),
        Index("ix_bookings_evse_start", "evse_pk", "starts_at"),
        Index("ix_bookings_site_start", "site_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    evse_pk: Mapped[int | None] = mapped_column(
        ForeignKey("evses.id", ondelete="SET NULL"), nullable=True
    )
    driver_id: Mapped[int] = mapped_column(
        ForeignKey("drivers.id", ondelete="RESTRICT"), index=True
    )
    id_token: Mapped[str] = mapped_column(String(36))
    group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    user_group: Mapped[str] = mapped_column(String(32))
    # What the driver asked for, so that a re-assignment picks a suitable EVSE.
    current_type: Mapped[str | None] = mapped_column(String(2), nullable=True)
    min_power_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    energy_kwh: Mapped[float] = mapped_column(Float)
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reassignments: Mapped[int] = mapped_column(Integer, default=0)
    transaction_pk: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    fee_rule: Mapped[str | None] = mapped_column(String(24), nullable=True)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idle_minutes: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
