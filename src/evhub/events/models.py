"""The durable event log: the outbox table and each consumer's checkpoint in it.

A row's place in the log is its position `(txid, id)`, not its id alone: on PostgreSQL ids
come from a sequence in the order rows were inserted, not the order their transactions
committed, so `txid` (the writing transaction's id) orders them first (see `log.py`). SQLite
has one writer at a time, so its rows commit in id order and keep `txid = 0`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, FetchedValue, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

# SQLite needs INTEGER PRIMARY KEY (with AUTOINCREMENT, so that an id is never reused after
# pruning has emptied the table); PostgreSQL a 64-bit identity.
LogId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_position", "txid", "id"),
        Index("ix_outbox_recorded_at", "recorded_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    # PostgreSQL: pg_current_xact_id() of the writing transaction; SQLite: 0. Set by the
    # database (server default), never by the application.
    txid: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # JSON text, encoded once by `emit` (which so refuses what JSON cannot carry).
    payload: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class ConsumerCheckpoint(Base):
    """How far a named consumer has processed the log (the position of its last event)."""

    __tablename__ = "consumer_checkpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
