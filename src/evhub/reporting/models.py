"""What the IRVE open data needs that the asset tables do not hold: per site and per point.

An IRVE "station" is a site (one place, one address); an IRVE "point de recharge" is an EVSE.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class IrveSiteDetails(Base):
    __tablename__ = "irve_site_details"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    station_code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    insee_code: Mapped[str] = mapped_column(String(5))
    implantation: Mapped[str] = mapped_column(String(64))
    opening_hours: Mapped[str] = mapped_column(String(300))
    accessibility_pmr: Mapped[str] = mapped_column(String(64))
    access_condition: Mapped[str] = mapped_column(String(32))
    gauge_restriction: Mapped[str] = mapped_column(String(200))
    two_wheelers: Mapped[bool] = mapped_column(Boolean)
    grid_connection: Mapped[str] = mapped_column(String(16))
    delivery_point: Mapped[str | None] = mapped_column(String(32), nullable=True)
    commissioned_on: Mapped[date] = mapped_column(Date)
    observations: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IrvePointDetails(Base):
    __tablename__ = "irve_point_details"
    __table_args__ = (
        UniqueConstraint("station_id", "evse_id"),
        UniqueConstraint("afirev_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    afirev_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    free_of_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    pay_per_use: Mapped[bool] = mapped_column(Boolean)
    pay_by_card: Mapped[bool] = mapped_column(Boolean)
    pay_other: Mapped[bool] = mapped_column(Boolean)
    tariff: Mapped[str | None] = mapped_column(String(500), nullable=True)
    bookable: Mapped[bool] = mapped_column(Boolean)
    t2_cable_attached: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IrveOperator(Base):
    """The network's identity in the IRVE files: one row (id 1).

    The operator ("opérateur") runs the points; the installer ("aménageur") built and owns them
    (for a public network, often the agglomeration itself); the brand ("enseigne") is the name
    drivers see.
    """

    __tablename__ = "irve_operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    afirev_operator_id: Mapped[str] = mapped_column(String(3))
    operator_name: Mapped[str] = mapped_column(String(200))
    operator_email: Mapped[str] = mapped_column(String(254))
    operator_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    installer_name: Mapped[str] = mapped_column(String(200))
    installer_siren: Mapped[str] = mapped_column(String(9))
    installer_email: Mapped[str] = mapped_column(String(254))
    brand: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
