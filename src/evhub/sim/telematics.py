"""A simulated telematics unit: cars that lock, unlock, report their state, and drive N km
consuming energy or fuel at their rate (full level over full range).

Reached in-process through the `VehicleControl` port. A car is fitted with its unit on first
contact, from the fleet record that `spec_for` reads (the composition root provides it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from evhub.carsharing.control import TelematicsUnavailable, VehicleReading
from evhub.clock import Clock


@dataclass(frozen=True)
class CarSpec:
    electric: bool
    range_km: float
    odometer_km: float
    level_pct: float
    latitude: float
    longitude: float


@dataclass
class SimulatedCar:
    electric: bool
    range_km: float
    odometer_km: float
    level_pct: float
    latitude: float
    longitude: float
    doors_locked: bool = True
    plugged_in: bool = False

    def drive(self, km: float, to: tuple[float, float] | None = None) -> None:
        """Drive `km` (ending at `to`, or where it started: a round trip). The car must be
        open; it stops when the battery or the tank is empty."""
        if self.doors_locked:
            raise RuntimeError("a locked car cannot be driven")
        if km < 0:
            raise ValueError("km must not be negative")
        reach = self.level_pct / 100.0 * self.range_km
        driven = min(km, reach)
        self.odometer_km += driven
        self.level_pct = max(0.0, self.level_pct - driven / self.range_km * 100.0)
        if to is not None:
            self.latitude, self.longitude = to


SpecSource = Callable[[int], Awaitable[CarSpec]]


class SimulatedTelematics:
    def __init__(self, spec_for: SpecSource, clock: Clock) -> None:
        self._spec_for = spec_for
        self._clock = clock
        self._cars: dict[int, SimulatedCar] = {}
        self.unreachable: set[int] = set()  # cars whose unit does not answer (tests)

    async def car(self, vehicle_id: int) -> SimulatedCar:
        """The simulated car, fitted with its unit on first use."""
        if vehicle_id not in self._cars:
            spec = await self._spec_for(vehicle_id)
            self._cars[vehicle_id] = SimulatedCar(
                spec.electric,
                spec.range_km,
                spec.odometer_km,
                spec.level_pct,
                spec.latitude,
                spec.longitude,
            )
        return self._cars[vehicle_id]

    async def unlock(self, vehicle_id: int) -> None:
        (await self._reach(vehicle_id)).doors_locked = False

    async def lock(self, vehicle_id: int) -> None:
        (await self._reach(vehicle_id)).doors_locked = True

    async def read_state(self, vehicle_id: int) -> VehicleReading:
        car = await self._reach(vehicle_id)
        level = round(car.level_pct, 2)
        return VehicleReading(
            at=self._clock.now(),
            odometer_km=round(car.odometer_km, 3),
            soc_pct=level if car.electric else None,
            fuel_pct=None if car.electric else level,
            latitude=car.latitude,
            longitude=car.longitude,
            doors_locked=car.doors_locked,
            plugged_in=car.plugged_in,
        )

    async def _reach(self, vehicle_id: int) -> SimulatedCar:
        if vehicle_id in self.unreachable:
            raise TelematicsUnavailable(f"the telematics unit of vehicle {vehicle_id} is offline")
        return await self.car(vehicle_id)
