"""What other domains ask of car-sharing: the charging needs of shared cars plugged in at
their hub (the planner's `FleetDemand` port). The charges of trips go to invoices through
`evhub.carsharing.invoice_lines`.

A shared car is recognised by its charging token (`FleetVehicle.charging_token_uid`, the id
token its transactions carry). Its need is the energy for its next booking's distance, less
what it holds now, by the booking's start. A car that cannot get it in time at its EVSE's power
says so in the event log (`carsharing.charge_short`), from which maintenance opens a ticket.
Between bookings the car may also feed the grid, as its hub's operator chose (`v2x`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.carsharing import readiness, v2x
from evhub.carsharing.models import CarBooking, FleetVehicle
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import BookingKind, CarBookingState, Propulsion
from evhub.events import emit
from evhub.maintenance import service as maintenance
from evhub.maintenance.detectors import TicketKey
from evhub.maintenance.models import TicketCause
from evhub.planning.demand import FleetDeclaration, PluggedVehicle


class FleetCharging:
    """The planner's port to car-sharing (`evhub.planning.demand.FleetDemand`)."""

    def __init__(self, policy: CarsharingPolicy) -> None:
        self.policy = policy

    async def __call__(
        self, session: AsyncSession, plugged: Sequence[PluggedVehicle], now: datetime
    ) -> Mapping[int, FleetDeclaration]:
        tokens = {p.id_token for p in plugged if p.id_token}
        if not tokens:
            return {}
        query = select(FleetVehicle).where(
            FleetVehicle.charging_token_uid.in_(tokens),
            FleetVehicle.propulsion == Propulsion.ELECTRIC,
        )
        cars = {v.charging_token_uid: v for v in (await session.execute(query)).scalars()}
        hubs: dict[int, v2x.HubV2x] = {}
        needs = {}
        for p in plugged:
            vehicle = cars.get(p.id_token)
            if vehicle is None:
                continue
            booking = await next_trip_booking(session, vehicle.id, now)
            if booking is None:
                continue  # not wanted: the planner's usual sources apply
            site = vehicle.home_site_id
            if site not in hubs:
                hubs[site] = await v2x.hub_v2x(session, site, self.policy)
            needs[p.transaction_pk] = await self._need(
                session, p, vehicle, booking, now, hubs[site]
            )
        return needs

    async def _need(
        self,
        session: AsyncSession,
        plugged: PluggedVehicle,
        vehicle: FleetVehicle,
        booking: CarBooking,
        now: datetime,
        hub: v2x.HubV2x,
    ) -> FleetDeclaration:
        """The energy still to add for the booking, and the hub's V2X choice for the car with
        that booking's energy as its target; `charge_short` when it cannot be had."""
        want = readiness.energy_for_km(
            vehicle, readiness.booking_km(booking, self.policy), self.policy.energy_margin
        )
        if plugged.soc_pct is not None:  # the meter's reading is the freshest
            held = readiness.energy_now_kwh(vehicle, plugged.soc_pct)
        else:  # the unit's reading at the return, plus what this session put in since
            held = readiness.energy_now_kwh(vehicle) + plugged.delivered_kwh
        battery = vehicle.battery_kwh or 0.0
        remaining = max(0.0, min(want, battery) - min(held, battery))
        hours = max(0.0, (booking.starts_at - now).total_seconds() / 3600)
        reachable = plugged.power_kw * hours
        if remaining > reachable + 1e-6:
            await _charge_short(session, plugged, vehicle, booking, remaining, reachable, now)
        choice = v2x.choice_for(hub, vehicle, min(want, battery))
        return FleetDeclaration(round(remaining, 3), booking.starts_at, battery, choice)


async def next_trip_booking(
    session: AsyncSession, vehicle_id: int, after: datetime
) -> CarBooking | None:
    """The car's next driver booking not started yet (what it must be charged for)."""
    query = (
        select(CarBooking)
        .where(
            CarBooking.vehicle_id == vehicle_id,
            CarBooking.kind == BookingKind.TRIP,
            CarBooking.state == CarBookingState.BOOKED,
            CarBooking.starts_at > after,
        )
        .order_by(CarBooking.starts_at, CarBooking.id)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _charge_short(
    session: AsyncSession,
    plugged: PluggedVehicle,
    vehicle: FleetVehicle,
    booking: CarBooking,
    needed_kwh: float,
    reachable_kwh: float,
    now: datetime,
) -> None:
    """Say once, while no ticket is open for it, that the car will not be ready."""
    key = TicketKey(plugged.station_id, TicketCause.VEHICLE_NOT_READY, plugged.evse_id)
    if await maintenance.is_open(session, key):
        return
    emit(
        session, "carsharing.charge_short", now, station_id=plugged.station_id,
        evse_id=plugged.evse_id, transaction_id=plugged.transaction_pk, vehicle_id=vehicle.id,
        plate=vehicle.plate, booking_id=booking.id, starts_at=booking.starts_at.isoformat(),
        needed_kwh=round(needed_kwh, 3), reachable_kwh=round(reachable_kwh, 3),
    )  # fmt: skip
