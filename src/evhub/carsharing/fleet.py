"""The fleet: vehicles, their documents and inspection dates, and guarded state changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.carsharing.control import VehicleReading
from evhub.carsharing.models import FleetVehicle
from evhub.carsharing.state import Propulsion, VehicleState, check_vehicle_move
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.events import emit

# States an operator may set by hand; booked and in_trip follow bookings and trips.
MANUAL_STATES = (
    VehicleState.AVAILABLE,
    VehicleState.CHARGING,
    VehicleState.MAINTENANCE,
    VehicleState.DAMAGED,
)
EDITABLE = frozenset(
    {
        "plate", "make", "model", "battery_kwh", "tank_l", "range_km", "seats", "home_site_id",
        "next_inspection_on", "documents", "consumption_kwh_per_km", "charging_token_uid",
    }
)  # fmt: skip


@dataclass(frozen=True)
class VehicleSpec:
    plate: str
    make: str
    model: str
    propulsion: Propulsion
    range_km: float
    seats: int
    home_site_id: int
    battery_kwh: float | None = None
    tank_l: float | None = None
    next_inspection_on: date | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)


def check_energy_store(propulsion: str, battery_kwh: float | None, tank_l: float | None) -> None:
    """An electric car has a battery and no tank; a combustion car has no battery."""
    if propulsion == Propulsion.ELECTRIC:
        if battery_kwh is None or battery_kwh <= 0:
            raise InvalidInput("an electric vehicle needs battery_kwh > 0")
        if tank_l is not None:
            raise InvalidInput("an electric vehicle has no tank_l")
    elif battery_kwh is not None:
        raise InvalidInput("a combustion vehicle has no battery_kwh")
    elif tank_l is not None and tank_l <= 0:
        raise InvalidInput("tank_l must be positive")


async def create_vehicle(session: AsyncSession, spec: VehicleSpec, now: datetime) -> FleetVehicle:
    check_energy_store(spec.propulsion, spec.battery_kwh, spec.tank_l)
    site = await assets.get_site(session, spec.home_site_id)
    electric = spec.propulsion == Propulsion.ELECTRIC
    vehicle = FleetVehicle(
        plate=spec.plate.strip().upper(),
        make=spec.make,
        model=spec.model,
        propulsion=str(spec.propulsion),
        battery_kwh=spec.battery_kwh,
        tank_l=spec.tank_l,
        range_km=spec.range_km,
        seats=spec.seats,
        home_site_id=site.id,
        state=VehicleState.AVAILABLE,
        public_id=str(uuid.uuid4()),
        next_inspection_on=spec.next_inspection_on,
        documents=spec.documents,
        odometer_km=0.0,
        soc_pct=100.0 if electric else None,
        fuel_pct=None if electric else 100.0,
        latitude=site.latitude,
        longitude=site.longitude,
        reported_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(vehicle)
    await _flush_unique(session, vehicle.plate)
    emit(session, "carsharing.vehicle_added", now, **summary(vehicle))
    return vehicle


async def get_vehicle(session: AsyncSession, vehicle_id: int, lock: bool = False) -> FleetVehicle:
    query = select(FleetVehicle).where(FleetVehicle.id == vehicle_id)
    if lock:
        query = query.with_for_update()
    vehicle = (await session.execute(query)).scalar_one_or_none()
    if vehicle is None:
        raise NotFound(f"vehicle {vehicle_id} not found")
    return vehicle


async def list_vehicles(
    session: AsyncSession, site_id: int | None = None, state: str | None = None
) -> list[FleetVehicle]:
    query = select(FleetVehicle).order_by(FleetVehicle.id)
    if site_id is not None:
        query = query.where(FleetVehicle.home_site_id == site_id)
    if state is not None:
        query = query.where(FleetVehicle.state == state)
    return list((await session.execute(query)).scalars())


async def update_vehicle(
    session: AsyncSession, vehicle_id: int, changes: dict[str, Any], now: datetime
) -> FleetVehicle:
    """Change a vehicle's record; a `state` in the changes goes through the guarded moves."""
    vehicle = await get_vehicle(session, vehicle_id, lock=True)
    state = changes.pop("state", None)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}")
    if "home_site_id" in changes:
        await assets.get_site(session, changes["home_site_id"])
    if "plate" in changes:
        changes["plate"] = str(changes["plate"]).strip().upper()
    battery = changes.get("battery_kwh", vehicle.battery_kwh)
    check_energy_store(vehicle.propulsion, battery, changes.get("tank_l", vehicle.tank_l))
    for name, value in changes.items():
        setattr(vehicle, name, value)
    vehicle.updated_at = now
    await _flush_unique(session, vehicle.plate)
    if changes:
        emit(session, "carsharing.vehicle_changed", now, fields=sorted(changes), **summary(vehicle))
    if state is not None and state != vehicle.state:
        if state not in MANUAL_STATES:
            raise InvalidInput(f"a vehicle is set {state} by its bookings and trips only")
        set_state(session, vehicle, VehicleState(state), now, "operator")
    return vehicle


def set_state(
    session: AsyncSession, vehicle: FleetVehicle, target: VehicleState, now: datetime, why: str
) -> None:
    """Move the vehicle to `target` (IllegalVehicleTransition otherwise), with its event."""
    if vehicle.state == target:
        return
    check_vehicle_move(vehicle.state, target)
    previous, vehicle.state, vehicle.updated_at = vehicle.state, str(target), now
    emit(
        session,
        "carsharing.vehicle_state_changed",
        now,
        vehicle_id=vehicle.id,
        previous=previous,
        state=str(target),
        reason=why,
    )


def record_reading(vehicle: FleetVehicle, reading: VehicleReading) -> None:
    """Keep the unit's last reading on the vehicle (the GBFS feed shows it)."""
    vehicle.odometer_km = reading.odometer_km
    vehicle.soc_pct, vehicle.fuel_pct = reading.soc_pct, reading.fuel_pct
    vehicle.latitude, vehicle.longitude = reading.latitude, reading.longitude
    vehicle.reported_at = reading.at


def rotate_public_id(vehicle: FleetVehicle) -> None:
    """A new random GBFS vehicle_id, so that trips cannot be traced (GBFS 3.0 vehicle_status:
    vehicle_id MUST be rotated to a random string after each trip)."""
    vehicle.public_id = str(uuid.uuid4())


def inspection_due(vehicle: FleetVehicle, on: date) -> bool:
    """Past its next inspection date, a car may not be booked nor driven."""
    return vehicle.next_inspection_on is not None and vehicle.next_inspection_on < on


def current_range_km(vehicle: FleetVehicle) -> float:
    level = vehicle.soc_pct if vehicle.soc_pct is not None else vehicle.fuel_pct
    return vehicle.range_km * (level if level is not None else 100.0) / 100.0


def summary(vehicle: FleetVehicle) -> dict[str, object]:
    return {
        "vehicle_id": vehicle.id,
        "plate": vehicle.plate,
        "site_id": vehicle.home_site_id,
        "propulsion": vehicle.propulsion,
        "state": vehicle.state,
    }


async def _flush_unique(session: AsyncSession, plate: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if "plate" in str(exc.orig):
            raise Conflict(f"a vehicle with plate {plate!r} exists already") from exc
        if "charging_token" in str(exc.orig):
            raise Conflict("another vehicle charges with this token") from exc
        raise
