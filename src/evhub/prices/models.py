"""Day-ahead energy prices per site or bidding zone, and each site's grid fee and demand charge."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class DayAheadPrice(Base):
    """The price of one market time unit (an hour or a quarter) from `starts_at` (UTC).

    A price belongs to exactly one site or one bidding zone (an ENTSO-E EIC code, e.g.
    `10YFR-RTE------C`); a site without prices of its own uses its zone's. One price per start.
    """

    __tablename__ = "day_ahead_prices"
    __table_args__ = (
        CheckConstraint("(site_id IS NULL) != (bidding_zone IS NULL)", name="site_or_zone"),
        CheckConstraint("resolution_minutes IN (15, 30, 60)", name="resolution"),
        UniqueConstraint("site_id", "starts_at"),
        UniqueConstraint("bidding_zone", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
    )
    bidding_zone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=60)
    price_eur_per_mwh: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    source: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SiteEnergyCost(Base):
    """What a site pays on top of energy: a grid fee per kWh and a demand charge per kW of the
    month's peak, and the bidding zone whose prices it uses when it has none of its own."""

    __tablename__ = "site_energy_costs"
    __table_args__ = (
        CheckConstraint("grid_fee_per_kwh >= 0", name="grid_fee"),
        CheckConstraint("demand_charge_per_kw_month >= 0", name="demand_charge"),
    )

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    grid_fee_per_kwh: Mapped[Decimal] = mapped_column(Numeric(10, 5), default=Decimal(0))
    demand_charge_per_kw_month: Mapped[Decimal] = mapped_column(Numeric(10, 4), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    bidding_zone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
