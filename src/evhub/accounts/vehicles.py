"""The vehicle catalogue and drivers' cars; a car's battery is what smart charging knows of
it when the car itself says nothing (no ISO 15118 need)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Token, Vehicle, VehicleModel
from evhub.errors import Conflict, NotFound


async def catalogue(session: AsyncSession) -> list[VehicleModel]:
    query = select(VehicleModel).order_by(VehicleModel.make, VehicleModel.model)
    return list((await session.execute(query)).scalars())


async def get_model(session: AsyncSession, model_id: int) -> VehicleModel:
    model = await session.get(VehicleModel, model_id)
    if model is None:
        raise NotFound(f"vehicle model {model_id} is not in the catalogue")
    return model


async def add_vehicle(
    session: AsyncSession,
    driver_id: int,
    model_id: int,
    now: datetime,
    plate: str | None = None,
    vin: str | None = None,
) -> Vehicle:
    await get_model(session, model_id)
    if vin is not None:
        owner = await session.scalar(select(Vehicle.driver_id).where(Vehicle.vin == vin))
        if owner is not None:
            raise Conflict(f"a vehicle with VIN {vin} is registered already")
    vehicle = Vehicle(driver_id=driver_id, model_id=model_id, plate=plate, vin=vin, created_at=now)
    session.add(vehicle)
    await session.flush()
    return vehicle


async def vehicle_by_vin(session: AsyncSession, vin: str) -> Vehicle | None:
    return await session.scalar(select(Vehicle).where(Vehicle.vin == vin))


async def vehicles_of(session: AsyncSession, driver_id: int) -> list[tuple[Vehicle, VehicleModel]]:
    query = (
        select(Vehicle, VehicleModel)
        .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
        .where(Vehicle.driver_id == driver_id)
        .order_by(Vehicle.id)
    )
    return [(v, m) for v, m in (await session.execute(query)).all()]


async def remove_vehicle(session: AsyncSession, driver_id: int, vehicle_id: int) -> None:
    vehicle = await session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.driver_id != driver_id:
        raise NotFound(f"vehicle {vehicle_id} not found")
    await session.delete(vehicle)


async def batteries_by_token(session: AsyncSession, token_ids: Sequence[int]) -> dict[int, float]:
    """The usable battery of the car behind each token, where it is known: the token's driver
    has exactly one car (with several, which one is plugged in is not known)."""
    if not token_ids:
        return {}
    cars = (
        select(
            Vehicle.driver_id,
            func.count().label("cars"),
            func.max(VehicleModel.battery_kwh).label("battery"),
        )
        .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
        .group_by(Vehicle.driver_id)
        .subquery()
    )
    query = (
        select(Token.id, cars.c.battery)
        .join(cars, cars.c.driver_id == Token.driver_id)
        .where(Token.id.in_(token_ids), cars.c.cars == 1)
    )
    return {token_id: float(battery) for token_id, battery in await session.execute(query)}
