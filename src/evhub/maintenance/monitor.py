"""The event side of fault detection: reacts to what the domains publish on the bus.

Status changes, boots, reconnections, security notifications and transaction ends are turned
into verdicts by the pure detectors; the verdicts of one event are applied in one unit of work.
Boot times are kept in memory: after a restart the detector starts afresh, which at worst
delays the detection of a boot loop by one window.
"""

from __future__ import annotations

import logging
from datetime import datetime

from evhub.clock import Clock
from evhub.events import Event, EventBus
from evhub.maintenance import service
from evhub.maintenance.detectors import (
    BootLoopDetector,
    Clearance,
    TicketKey,
    Verdict,
    security_verdict,
    status_verdicts,
)
from evhub.maintenance.models import TicketCause
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.maintenance")


class FaultMonitor:
    def __init__(
        self, bus: EventBus, uow: UnitOfWork, clock: Clock, boot_loops: BootLoopDetector
    ) -> None:
        self.bus = bus
        self.uow = uow
        self.clock = clock
        self.boot_loops = boot_loops

    async def run(self) -> None:
        async with self.bus.subscribe() as queue:
            while True:
                await self._handle(await queue.get())

    async def _handle(self, event: Event) -> None:
        """Act on one event; a failure is logged and spares the events after it."""
        try:
            verdicts = self.verdicts(event)
            if not verdicts:
                return
            async with self.uow() as session:
                for verdict in verdicts:
                    await service.apply(session, verdict, self.clock.now())
        except Exception:
            log.exception("event=monitor_failed kind=%s data=%s", event.kind, event.data)

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
                loop = self.boot_loops.observe(station_id, event.at)
                return [loop] if loop else []
            case "station.connected":
                key = TicketKey(station_id, TicketCause.OFFLINE)
                return [Clearance(key, event.at, "station reconnected")]
            case "transaction.ended":
                evse = int(data["evse_id"])
                return [
                    Clearance(TicketKey(station_id, cause, evse), event.at, "transaction ended")
                    for cause in (TicketCause.STUCK_TRANSACTION, TicketCause.METER_REGRESSION)
                ]
        return []


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return None
