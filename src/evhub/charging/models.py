"""Transactions, their ordered events, and sampled meter values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

ACTIVE_EVSE_INDEX = "uq_transactions_active_evse"
START_KEY_INDEX = "uq_transactions_start_key"
_ACTIVE = "state = 'active' AND evse_id > 0"
# The transactions the CSMS numbered itself (their id on the station is our row id): their
# station gave no id of its own, so their start is what tells a retry.
_NUMBERED_HERE = "ocpp_transaction_id = CAST(id AS TEXT)"


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        # A station's own transaction id (2.0.1) or our id as text (1.6) is unique per station.
        UniqueConstraint("station_id", "ocpp_transaction_id"),
        Index("ix_transactions_station_state", "station_id", "state"),
        # At most one active transaction per EVSE (OCPP 2.0.1 Part 2 §E; in 1.6 the EVSE
        # number is the connector id). EVSE 0 stands for "not known yet" (a lost start).
        Index(
            ACTIVE_EVSE_INDEX,
            "station_id",
            "evse_id",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
        # A start that carries no id of the station's is recognised on retry by these.
        Index(
            START_KEY_INDEX,
            "station_id",
            "evse_id",
            "started_at",
            "meter_start_wh",
            "id_token",
            unique=True,
            sqlite_where=text(_NUMBERED_HERE),
            postgresql_where=text(_NUMBERED_HERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    ocpp_transaction_id: Mapped[str] = mapped_column(String(36))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer, default=1)
    id_token: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("tokens.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16), default="active")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    meter_start_wh: Mapped[int] = mapped_column(BigInteger, default=0)
    meter_stop_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    meter_last_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    power_last_w: Mapped[float | None] = mapped_column(Float, nullable=True)
    soc_last_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The newest sample's time and the energy register at its newest time, kept with every
    # write of samples so that the watchdog reads them here rather than aggregating them all.
    sample_last_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    register_last_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    register_last_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    charging_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_seq_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_start_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ocpp_version: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def energy_wh(self) -> int:
        end = self.meter_stop_wh if self.meter_stop_wh is not None else self.meter_last_wh
        return max(0, (end if end is not None else self.meter_start_wh) - self.meter_start_wh)


class TransactionEvent(Base):
    """One OCPP 2.0.1 TransactionEvent (or 1.6 start/stop), unique by sequence number."""

    __tablename__ = "transaction_events"
    __table_args__ = (UniqueConstraint("transaction_pk", "seq_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_pk: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"))
    seq_no: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(16))
    trigger_reason: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeterValue(Base):
    """One sampled value. Retries of the same sample hit the unique key and are dropped."""

    __tablename__ = "meter_values"
    __table_args__ = (
        UniqueConstraint("station_id", "evse_id", "timestamp", "measurand", "phase", "context"),
        Index("ix_meter_values_tx_time", "transaction_pk", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    transaction_pk: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), nullable=True
    )
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    measurand: Mapped[str] = mapped_column(String(48))
    phase: Mapped[str] = mapped_column(String(8), default="")
    context: Mapped[str] = mapped_column(String(24), default="Sample.Periodic")
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16), default="")


class SignedMeterValue(Base):
    """A signed meter reading as the station sent it (OCMF in OCPP 2.0.1 `signedMeterValue`,
    OCPP 1.6 `SignedData` values): kept verbatim, for the CDR and its verification."""

    __tablename__ = "signed_meter_values"
    __table_args__ = (UniqueConstraint(
            "transaction_pk", "timestamp", "context", "data_hash",
            name="uq_signed_meter_values_transaction_pk",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_pk: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), index=True
    )
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    context: Mapped[str] = mapped_column(String(24))
    signing_method: Mapped[str] = mapped_column(String(50), default="")
    encoding_method: Mapped[str] = mapped_column(String(50), default="OCMF")
    data: Mapped[str] = mapped_column(Text)
    data_hash: Mapped[str] = mapped_column(String(64))  # sha256 of data: the key, data unbounded
    public_key: Mapped[str] = mapped_column(Text, default="")
