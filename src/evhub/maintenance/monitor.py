"""The event side of fault detection: a consumer of the event log.

Status changes, boots, reconnections, security notifications and transaction ends are turned
into verdicts by the pure detectors, and applied to the tickets in the transaction that moves
the monitor's checkpoint (a `TransactionalConsumer`): a redelivered event finds its checkpoint
already past it, so a ticket is opened, counted or closed exactly once per event. Boot times
are kept in memory: an event seen again in this process (a retried batch) is not counted
twice, and after a restart the log replays the boots since the checkpoint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import Clock
from evhub.events import START, Event
from evhub.events.relay import TransactionalConsumer
from evhub.maintenance import service
from evhub.maintenance.detectors import (
    BootLoopDetector,
    Clearance,
    TicketKey,
    Verdict,
    not_ready_verdict,
    security_verdict,
    status_verdicts,
)
from evhub.maintenance.models import TicketCause

KINDS = frozenset(
    {
        "status.changed", "station.event", "station.booted", "station.connected",
        "transaction.ended", "carsharing.charge_short",
    }
)  # fmt: skip


class FaultMonitor:
    def __init__(self, clock: Clock, boot_loops: BootLoopDetector) -> None:
        self.clock = clock
        self.boot_loops = boot_loops
        self._observed = START  # the last event whose boot was counted in memory

    def consumer(self) -> TransactionalConsumer:
        return TransactionalConsumer("maintenance.monitor", self.handle, KINDS)

    async def handle(self, session: AsyncSession, event: Event) -> None:
        """Apply what one event means to the tickets, in the consumer's transaction."""
        for verdict in self.verdicts(event):
            await service.apply(session, verdict, self.clock.now())

    def verdicts(self, event: Event) -> list[Verdict]:
        """What an event means for the tickets (updates the in-memory detectors)."""
        data = event.data
        station_id = str(data.get("station_id", ""))
        match event.kind:
            case "status.changed":
                return status_verdicts(
                    station_id,
                    int(data["evse_id"]),
                    int(data["connector_id"]),
                    str(data["status"]),
                    event.at,
                    data.get("error_code"),
                    data.get("info"),
                )
            case "station.event" if data.get("category") == "security":
                at = _time(data.get("timestamp")) or event.at
                finding = security_verdict(station_id, str(data["status"]), at)
                return [finding] if finding else []
            case "station.booted":
                if event.id and event.position <= self._observed:
                    return []  # counted already: its batch was retried
                self._observed = max(self._observed, event.position)
                loop = self.boot_loops.observe(station_id, event.at)
                return [loop] if loop else []
            case "station.connected":
                key = TicketKey(station_id, TicketCause.OFFLINE)
                return [Clearance(key, event.at, "station reconnected")]
            case "transaction.ended":
                evse = int(data["evse_id"])
                return [
                    Clearance(TicketKey(station_id, cause, evse), event.at, "transaction ended")
                    for cause in (
                        TicketCause.STUCK_TRANSACTION,
                        TicketCause.METER_REGRESSION,
                        TicketCause.VEHICLE_NOT_READY,
                    )
                ]
            case "carsharing.charge_short":
                return [not_ready_verdict(station_id, data, event.at)]
        return []


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return None
