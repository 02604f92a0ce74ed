"""Whether a shared electric car can have the range for a booking by its start.

The energy a booking needs is its distance at the car's consumption, with a margin, never more
than the battery holds. What the car will have by then is what it has now, less what the
bookings before it will use, plus what the hub can put in while the car is free.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.carsharing.models import CarBooking, FleetVehicle
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import HOLDING, BookingKind, Propulsion


def consumption_kwh_per_km(vehicle: FleetVehicle) -> float:
    """The stored consumption, else what the full battery gives over the full range."""
    if vehicle.consumption_kwh_per_km is not None:
        return vehicle.consumption_kwh_per_km
    return (vehicle.battery_kwh or 0.0) / vehicle.range_km


def energy_for_km(vehicle: FleetVehicle, km: float, margin: float) -> float:
    """The energy to leave with for `km`, margin included, capped by the battery."""
    return min(vehicle.battery_kwh or 0.0, km * consumption_kwh_per_km(vehicle) * (1 + margin))


def energy_now_kwh(vehicle: FleetVehicle, soc_pct: float | None = None) -> float:
    """What the battery holds at `soc_pct`, else at the telematics unit's last reading
    (a car never read is taken as full, as it was delivered)."""
    level = soc_pct if soc_pct is not None else vehicle.soc_pct
    return (vehicle.battery_kwh or 0.0) * (100.0 if level is None else level) / 100.0


async def hub_power_kw(session: AsyncSession, site_id: int) -> float:
    """The most one car can draw at the hub: its strongest EVSE within the site's limit."""
    site = await assets.get_site(session, site_id)
    evses = [e for st in await assets.list_stations(session, site_id) for e in st.evses]
    return min(max((e.max_power_kw for e in evses), default=0.0), site.grid_limit_kw)


def booking_km(booking: CarBooking, policy: CarsharingPolicy) -> float:
    return booking.planned_km if booking.planned_km is not None else policy.default_trip_km


async def energy_by_kwh(
    session: AsyncSession,
    vehicle: FleetVehicle,
    starts_at: datetime,
    now: datetime,
    policy: CarsharingPolicy,
) -> float:
    """What the car can hold at `starts_at`, if it charges at the hub whenever it is free."""
    query = select(CarBooking).where(
        CarBooking.vehicle_id == vehicle.id,
        CarBooking.kind == BookingKind.TRIP,
        CarBooking.state.in_(HOLDING),
        CarBooking.starts_at < starts_at,
        CarBooking.ends_at > now,
    )
    before = list((await session.execute(query)).scalars())
    used = sum(energy_for_km(vehicle, booking_km(b, policy), 0.0) for b in before)
    away_s = sum(
        max(0.0, (min(b.ends_at, starts_at) - max(b.starts_at, now)).total_seconds())
        for b in before
    )
    free_h = max(0.0, (starts_at - now).total_seconds() - away_s) / 3600
    charged = await hub_power_kw(session, vehicle.home_site_id) * free_h
    battery = vehicle.battery_kwh or 0.0
    return min(battery, max(0.0, energy_now_kwh(vehicle) - used) + charged)


async def can_be_ready(
    session: AsyncSession,
    vehicle: FleetVehicle,
    starts_at: datetime,
    km: float,
    now: datetime,
    policy: CarsharingPolicy,
) -> bool:
    """True when the car can leave at `starts_at` with the energy for `km` (a combustion car
    is refuelled on the way, so always)."""
    if vehicle.propulsion != Propulsion.ELECTRIC:
        return True
    if km * consumption_kwh_per_km(vehicle) > (vehicle.battery_kwh or 0.0):
        return False  # beyond a full battery's range: no charging makes it
    need = energy_for_km(vehicle, km, policy.energy_margin)
    return await energy_by_kwh(session, vehicle, starts_at, now, policy) >= need
