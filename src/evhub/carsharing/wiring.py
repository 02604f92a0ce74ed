"""Car-sharing's part of the composition root: its policy, its VehicleControl (the simulated
telematics unit, in-process, until a car maker's adapter exists), its timer and GBFS identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from evhub.carsharing import fleet
from evhub.carsharing.gbfs_api import feed_config
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.scheduler import CarsharingScheduler
from evhub.carsharing.state import Propulsion
from evhub.clock import Clock
from evhub.services import Services
from evhub.settings import Settings
from evhub.supervisor import LoopStarter
from evhub.uow import UnitOfWork

if TYPE_CHECKING:
    from evhub.sim.telematics import SimulatedTelematics


def simulated_telematics(uow: UnitOfWork, clock: Clock) -> SimulatedTelematics:
    """Simulated units fitted to cars as the fleet records them."""
    from evhub.sim.telematics import CarSpec, SimulatedTelematics  # the simulator, on demand

    async def spec_for(vehicle_id: int) -> CarSpec:
        async with uow() as session:
            car = await fleet.get_vehicle(session, vehicle_id)
            level = car.soc_pct if car.soc_pct is not None else car.fuel_pct
            return CarSpec(
                electric=car.propulsion == Propulsion.ELECTRIC,
                range_km=car.range_km,
                odometer_km=car.odometer_km,
                level_pct=100.0 if level is None else level,
                latitude=car.latitude or 0.0,
                longitude=car.longitude or 0.0,
            )

    return SimulatedTelematics(spec_for, clock)


def start_carsharing(
    app: FastAPI, supervisor: LoopStarter, settings: Settings, services: Services
) -> None:
    policy = CarsharingPolicy.from_settings(settings)
    app.state.carsharing_policy = policy
    app.state.vehicle_control = simulated_telematics(services.uow, services.clock)
    app.state.gbfs_config = feed_config(settings)
    scheduler = CarsharingScheduler(services.uow, services.clock, policy)
    app.state.carsharing = scheduler
    supervisor.start("carsharing.scheduler", scheduler.run)
