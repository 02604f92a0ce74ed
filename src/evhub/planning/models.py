"""What the planner is told about a car's need, and by whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime


class ChargingNeed(Base):
    """The latest declared need of a running transaction; one row per transaction.

    `source` ranks who said it (driver > reservation > iso15118); the SoC- and history-based
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
