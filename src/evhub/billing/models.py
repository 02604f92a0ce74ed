"""Tariffs as stored: the OCPI 2.2.1 Tariff object as written, beside the fields read from it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

MONEY = Numeric(14, 4)  # OCPI numbers carry 4 decimals (OCPI 2.2.1 types §16.4)


class TariffRecord(Base):
    """One tariff of this operator. `body` is the whole OCPI object, the truth of its prices;
    the columns beside it are what queries filter and report on."""

    __tablename__ = "tariffs"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="currency_iso4217"),
        CheckConstraint(
            "min_price_excl_vat IS NULL OR max_price_excl_vat IS NULL "
            "OR min_price_excl_vat <= max_price_excl_vat",
            name="min_below_max",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    min_price_excl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    min_price_incl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    max_price_excl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    max_price_incl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    start_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
