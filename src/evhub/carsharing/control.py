"""The port through which car-sharing acts on cars, whatever telematics unit is behind.

Trips unlock, lock and read cars through `VehicleControl`; a simulated unit implements it
today (`evhub.sim.telematics`), a car maker's API adapter later, so that no domain imports
either. Like the charger port, it is never called inside a database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from evhub.errors import DomainError


class TelematicsUnavailable(DomainError):
    """The car's unit did not answer, or refused the command."""

    status_code = 504


@dataclass(frozen=True)
class VehicleReading:
    at: datetime
    odometer_km: float
    soc_pct: float | None  # electric cars
    fuel_pct: float | None  # combustion cars
    latitude: float
    longitude: float
    doors_locked: bool
    plugged_in: bool

    @property
    def level_pct(self) -> float:
        """The battery's or the tank's level, whichever the car has."""
        return self.soc_pct if self.soc_pct is not None else (self.fuel_pct or 0.0)


class VehicleControl(Protocol):
    async def unlock(self, vehicle_id: int) -> None:
        """Open the car for its driver; TelematicsUnavailable when it cannot be done."""
        ...

    async def lock(self, vehicle_id: int) -> None:
        """Close the car; TelematicsUnavailable when it cannot be done."""
        ...

    async def read_state(self, vehicle_id: int) -> VehicleReading: ...
