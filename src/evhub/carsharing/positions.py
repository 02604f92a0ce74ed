"""Where each shared car is, for the fleet map: the position of its telematics unit's latest
reading, or its home hub while it has none, with what an operator looks at beside it (state,
level, range, next booking).

The unit's reading is kept on the vehicle (`fleet.record_reading`, at each trip's start and
end); a car never read since it joined the fleet stands where it was delivered, its hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Site
from evhub.carsharing import fleet
from evhub.carsharing.models import CarBooking, FleetVehicle
from evhub.carsharing.state import BookingKind, CarBookingState


@dataclass(frozen=True)
class CarPosition:
    """A car on the map. `source` says where the position comes from: `telematics` (its
    unit's reading at `reported_at`), `hub` (no reading yet), or `unknown` (neither the car
    nor its hub has coordinates: `lat` and `lon` are None)."""

    vehicle_id: int
    plate: str
    make: str
    model: str
    propulsion: str
    state: str
    site_id: int
    lat: float | None
    lon: float | None
    source: str
    reported_at: datetime | None
    soc: float | None
    fuel: float | None
    range_km: float
    next_booking_id: int | None
    next_booking_starts_at: datetime | None


def has_reading(vehicle: FleetVehicle) -> bool:
    """True once the car's unit has been read: a new car's record holds its hub's place,
    stamped with its creation time."""
    located = vehicle.latitude is not None and vehicle.longitude is not None
    return located and vehicle.reported_at > vehicle.created_at


def place(vehicle: FleetVehicle, hub: Site | None) -> tuple[float | None, float | None, str]:
    """(latitude, longitude, source) of the car: its latest reading, else its hub's place,
    else the place its record was given when it joined (its hub's, then)."""
    if has_reading(vehicle):
        return vehicle.latitude, vehicle.longitude, "telematics"
    if hub is not None and hub.latitude is not None and hub.longitude is not None:
        return hub.latitude, hub.longitude, "hub"
    if vehicle.latitude is not None and vehicle.longitude is not None:
        return vehicle.latitude, vehicle.longitude, "hub"
    return None, None, "unknown"


async def fleet_positions(
    session: AsyncSession, site_id: int | None, now: datetime
) -> list[CarPosition]:
    """Every car of the hub (or of all hubs), by id, at its last known position."""
    hubs = {s.id: s for s in await assets.list_sites(session)}
    vehicles = await fleet.list_vehicles(session, site_id)
    next_bookings = await _next_bookings(session, [v.id for v in vehicles], now)
    out = []
    for vehicle in vehicles:
        lat, lon, source = place(vehicle, hubs.get(vehicle.home_site_id))
        booking = next_bookings.get(vehicle.id)
        out.append(
            CarPosition(
                vehicle_id=vehicle.id,
                plate=vehicle.plate,
                make=vehicle.make,
                model=vehicle.model,
                propulsion=vehicle.propulsion,
                state=vehicle.state,
                site_id=vehicle.home_site_id,
                lat=lat,
                lon=lon,
                source=source,
                reported_at=vehicle.reported_at if source == "telematics" else None,
                soc=vehicle.soc_pct,
                fuel=vehicle.fuel_pct,
                range_km=round(fleet.current_range_km(vehicle), 1),
                next_booking_id=booking.id if booking is not None else None,
                next_booking_starts_at=booking.starts_at if booking is not None else None,
            )
        )
    return out


async def _next_bookings(
    session: AsyncSession, vehicle_ids: list[int], now: datetime
) -> dict[int, CarBooking]:
    """Each car's next driver booking not started yet (`service.next_trip_booking`), in one
    query for the fleet, as the map asks every half minute."""
    if not vehicle_ids:
        return {}
    query = (
        select(CarBooking)
        .where(
            CarBooking.vehicle_id.in_(vehicle_ids),
            CarBooking.kind == BookingKind.TRIP,
            CarBooking.state == CarBookingState.BOOKED,
            CarBooking.starts_at > now,
        )
        .order_by(CarBooking.vehicle_id, CarBooking.starts_at, CarBooking.id)
    )
    out: dict[int, CarBooking] = {}
    for booking in (await session.execute(query)).scalars():
        out.setdefault(booking.vehicle_id, booking)
    return out
