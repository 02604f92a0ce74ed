"""A driver's own need on their running charge: energy wanted and departure, from the phone.

The same rule as an operator's declaration (`demand.declare` with source "driver", the
highest rank) and the same `need.declared` event that makes the planner re-plan the site.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import Transaction
from evhub.errors import InvalidInput
from evhub.events import emit
from evhub.planning import demand
from evhub.planning.models import ChargingNeed

MAX_NEED_KWH = 200.0


async def declared_need(session: AsyncSession, transaction_pk: int) -> ChargingNeed | None:
    return await session.get(ChargingNeed, transaction_pk)


async def declare_by_driver(
    session: AsyncSession,
    tx: Transaction,
    now: datetime,
    energy_kwh: float | None,
    departure_at: datetime | None,
) -> ChargingNeed:
    """Record what the driver said; a departure must be in the future, a need positive."""
    if departure_at is not None and departure_at.tzinfo is None:
        raise InvalidInput("departure needs a time zone")
    if energy_kwh is not None and not 0 < energy_kwh <= MAX_NEED_KWH:
        raise InvalidInput(f"the energy wanted is between 0 and {MAX_NEED_KWH:g} kWh")
    if energy_kwh is None and departure_at is None:
        raise InvalidInput("say the energy wanted, the departure, or both")
    need = await demand.declare(session, tx.id, now, "driver", energy_kwh, departure_at)
    emit(session, "need.declared", now, station_id=tx.station_id, transaction_id=tx.id)
    return need
