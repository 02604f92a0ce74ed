"""A vehicle's own need, as its ISO 15118 session reports it (OCPP 2.0.1 NotifyEVChargingNeeds,
K15; in 2.1 with the V2X bounds of a bidirectional session, §Q), recorded for the transaction
running on the EVSE with its event."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.events import emit
from evhub.planning import demand, v2x_needs, v2x_settings
from evhub.planning.v2x_needs import CarV2x


@dataclass(frozen=True)
class VehicleNeed:
    energy_kwh: float | None
    departure_at: datetime | None
    battery_kwh: float | None


async def declare_vehicle_need(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    need: VehicleNeed,
    now: datetime,
    car: CarV2x | None = None,
) -> bool:
    """Record the need of the vehicle charging on the EVSE; False when nothing runs there."""
    tx_pk = await charging.active_transaction_pk(session, station_id, evse_id)
    if tx_pk is None:
        return False
    await demand.declare(
        session, tx_pk, now, "iso15118", need.energy_kwh, need.departure_at, need.battery_kwh
    )
    if car is not None:
        tx = await session.get(Transaction, tx_pk)
        assert tx is not None
        soc = tx.soc_last_pct
        if car.soc_pct is None and soc is None:  # the car's own report places its bounds
            report = await demand.report_of(session, tx, now)
            if report is not None:
                soc = await demand.reported_soc(session, tx, report)
                car = replace(car, battery_kwh=car.battery_kwh or report.battery_kwh)
        await v2x_settings.seed(session, tx_pk, now)  # the driver's standing choice first
        await v2x_needs.declare_car(session, tx_pk, car, soc, now)
    emit(session, "need.declared", now, station_id=station_id, transaction_id=tx_pk)
    return True
