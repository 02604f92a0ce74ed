"""Maintenance tickets: one per open condition of a station, EVSE or connector.

A ticket is deduplicated by (station, evse, connector, cause) while it is open: `open_key`
spells that key out and is unique; closing the ticket clears it (NULLs never collide), so the
database itself keeps a second open ticket of the same key out, on every backend. A null EVSE
and connector mean the whole station.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime
from evhub.errors import Conflict


class TicketState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TicketCause(StrEnum):
    FAULTED = "faulted"
    UNAVAILABLE = "unavailable"
    OFFLINE = "offline"
    BOOT_LOOP = "boot_loop"
    STUCK_TRANSACTION = "stuck_transaction"
    METER_REGRESSION = "meter_regression"
    SECURITY_EVENT = "security_event"
    VEHICLE_NOT_READY = "vehicle_not_ready"  # a shared car cannot be charged for its booking


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IllegalTicketTransition(Conflict):
    """A ticket move its state does not allow (e.g. closing a closed ticket)."""


_ALLOWED = {(TicketState.OPEN, TicketState.OPEN), (TicketState.OPEN, TicketState.CLOSED)}


def check_transition(current: str, target: TicketState) -> None:
    if (TicketState(current), target) not in _ALLOWED:
        raise IllegalTicketTransition(f"ticket cannot go from {current} to {target}")


def open_key(station_id: str, evse_id: int | None, connector_id: int | None, cause: str) -> str:
    """The deduplication key of an open ticket, as stored in `Ticket.open_key`."""
    parts = (station_id, _part(evse_id), _part(connector_id), cause)
    return "|".join(parts)


def _part(value: int | None) -> str:
    return "*" if value is None else str(value)


class Ticket(Base):
    __tablename__ = "maintenance_tickets"
    __table_args__ = (Index("ix_maintenance_tickets_state_station", "state", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    connector_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), nullable=True
    )
    cause: Mapped[str] = mapped_column(String(32))
    open_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    severity: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default=TicketState.OPEN)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=1)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    downtime_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def record_occurrence(self, at: datetime, detail: str, severity: str, now: datetime) -> None:
        """The condition was seen again: count it, keep the latest detail and worst severity."""
        check_transition(self.state, TicketState.OPEN)
        self.count += 1
        self.last_seen = max(self.last_seen, at)
        self.detail = detail[:255] or self.detail
        if _RANK[Severity(severity)] > _RANK[Severity(self.severity)]:
            self.severity = severity
        self.updated_at = now

    def close(self, at: datetime, closed_by: str, now: datetime, note: str | None = None) -> None:
        """Close the ticket; the downtime is how long the condition lasted."""
        check_transition(self.state, TicketState.CLOSED)
        closed_at = max(at, self.first_seen)
        self.state = TicketState.CLOSED
        self.open_key = None
        self.closed_at = closed_at
        self.downtime_s = (closed_at - self.first_seen).total_seconds()
        self.closed_by = closed_by[:64]
        self.note = note[:2000] if note is not None else None
        self.updated_at = now


_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
