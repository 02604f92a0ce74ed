"""The vehicle-to-grid side of a need: who may discharge a car, how far and how fast.

A transaction may feed the grid only when all of these hold: it runs on an OCPP 2.1 station
(1.6 and 2.0.1 have no discharge in their charging profiles), its car asked for a bidirectional
transfer (ISO 15118-20 BPT, which the EVSE offers only when it can discharge, OCPP 2.1 §Q), the
car's owner consented (the driver, off by default; for a shared car, the operator's fleet
setting), and the battery's size, its state of charge now and a floor are known, so that the
floor can be kept. The car's bounds come from 2.1 NotifyEVChargingNeeds as energies relative
to the moment it spoke; they are stored as states of charge, placed at the SoC known then.
The floor is the higher of the car's and the owner's minimum; the target is the owner's, else
the car's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import Transaction
from evhub.errors import Conflict
from evhub.planning.models import V2xNeed

V2X_PROTOCOLS = frozenset({"2.1"})
EFFICIENCY = 0.95
"""Share of the energy drawn that reaches the battery, and of the battery's that reaches the grid
(one way, DC bidirectional charger and battery): a round trip keeps about 90 %."""
WEAR_PER_KWH = 0.03
"""Battery wear per kWh taken out for the grid (EUR/kWh), in the prices' unit."""


@dataclass(frozen=True)
class CarV2x:
    """The car's V2X parameters (OCPP 2.1 V2XChargingParametersType), energies in kWh from now:
    `min_v2x_kwh` to its V2X minimum (negative: that much may be discharged), `max_v2x_kwh` to
    its V2X maximum, `target_kwh` to its target at departure."""

    max_discharge_kw: float
    min_v2x_kwh: float | None
    max_v2x_kwh: float | None
    target_kwh: float | None
    soc_pct: float | None
    battery_kwh: float | None
    departure_at: datetime | None = None


@dataclass(frozen=True)
class DriverV2x:
    consent: bool | None = None
    min_soc_pct: float | None = None
    target_soc_pct: float | None = None


@dataclass(frozen=True)
class V2xBounds:
    """What the planner may do with one battery now: energies in the battery, kWh."""

    max_discharge_kw: float
    energy_kwh: float  # still wanted by departure
    battery_room_kwh: float  # up to full (the car's V2X maximum)
    discharge_room_kwh: float  # down to the floor
    surplus_kwh: float  # already stored above the target
    efficiency: float = EFFICIENCY


async def _upsert(session: AsyncSession, transaction_pk: int, values: dict[str, Any]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(V2xNeed).values(transaction_pk=transaction_pk, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["transaction_pk"], set_=values)
    )


def _soc_of(now_pct: float, kwh: float | None, battery_kwh: float) -> float | None:
    return None if kwh is None else min(100.0, max(0.0, now_pct + 100.0 * kwh / battery_kwh))


async def declare_car(
    session: AsyncSession, transaction_pk: int, car: CarV2x, soc_pct: float | None, now: datetime
) -> None:
    """Record the car's V2X bounds; `soc_pct` is the SoC known otherwise (the station's meter,
    else the car's own report), used when the notice itself carries none. The bounds are placed
    only with a battery size and a SoC; unplaced, the car's own floor is unknown (`bounds`)."""
    soc = car.soc_pct if car.soc_pct is not None else soc_pct
    battery = car.battery_kwh
    known = soc is not None and battery is not None and battery > 0
    values: dict[str, Any] = {
        "bidirectional": True,
        "car_max_discharge_kw": max(0.0, car.max_discharge_kw),
        "updated_at": now,
    }
    if battery is not None and battery > 0:
        values["battery_kwh"] = battery
    if known:
        values["car_soc_pct"] = soc
        assert soc is not None and battery is not None
        values["car_min_soc_pct"] = _soc_of(soc, car.min_v2x_kwh, battery)
        values["car_max_soc_pct"] = _soc_of(soc, car.max_v2x_kwh, battery)
        values["car_target_soc_pct"] = _soc_of(soc, car.target_kwh, battery)
    await _upsert(session, transaction_pk, values)


async def declare_driver(
    session: AsyncSession, transaction_pk: int, driver: DriverV2x, now: datetime
) -> V2xNeed:
    """Record what the driver said (a field left None keeps what was said before)."""
    tx = await session.get(Transaction, transaction_pk)
    if tx is None or tx.state != "active":
        raise Conflict(f"transaction {transaction_pk} is not running")
    values: dict[str, Any] = {"updated_at": now}
    for name in ("consent", "min_soc_pct", "target_soc_pct"):
        if getattr(driver, name) is not None:
            values[name] = getattr(driver, name)
    await _upsert(session, transaction_pk, values)
    row = await session.get(V2xNeed, transaction_pk, populate_existing=True)
    assert row is not None
    return row


async def rows_of(session: AsyncSession, transaction_pks: Sequence[int]) -> dict[int, V2xNeed]:
    rows = await session.scalars(select(V2xNeed).where(V2xNeed.transaction_pk.in_(transaction_pks)))
    return {row.transaction_pk: row for row in rows}


def bounds(
    tx: Transaction,
    row: V2xNeed | None,
    reported_soc_pct: float | None = None,
    battery_kwh: float | None = None,
    owner: DriverV2x | None = None,
) -> V2xBounds | None:
    """The battery bounds of a transaction that may discharge now, else None (charge only).

    The SoC now, best first, in the demand model's order: the car's own report through its
    maker's cloud (`reported_soc_pct`, brought to now by `v2x_soc`), the station's latest metered
    SoC, the SoC the car gave in its NotifyEVChargingNeeds; with none, no discharge (the
    floor cannot be kept). `battery_kwh` serves when the car gave no capacity. `owner` is a
    choice made for the car in place of its row's driver choice (the operator's, for a
    shared car). A car whose own V2X minimum could not be placed (no SoC when it spoke) is
    discharged only down to the owner's floor, and not at all without one."""
    if row is None:
        return None
    choice = owner or DriverV2x(row.consent, row.min_soc_pct, row.target_soc_pct)
    if not (choice.consent and row.bidirectional):
        return None
    battery = row.battery_kwh or battery_kwh
    if tx.ocpp_version not in V2X_PROTOCOLS or not battery or row.car_max_discharge_kw <= 0:
        return None
    soc = next(
        (s for s in (reported_soc_pct, tx.soc_last_pct, row.car_soc_pct) if s is not None), None
    )
    if soc is None or not math.isfinite(soc):
        return None
    placed = row.car_soc_pct is not None
    if not placed and choice.min_soc_pct is None:
        return None
    floor = max(row.car_min_soc_pct or 0.0, choice.min_soc_pct or 0.0)
    full = row.car_max_soc_pct if row.car_max_soc_pct is not None else 100.0
    target = choice.target_soc_pct if choice.target_soc_pct is not None else row.car_target_soc_pct
    target = min(full, max(floor, target if target is not None else full))
    kwh = battery / 100.0
    return V2xBounds(
        max_discharge_kw=row.car_max_discharge_kw,
        energy_kwh=max(0.0, (target - soc) * kwh),
        battery_room_kwh=max(0.0, (full - soc) * kwh),
        discharge_room_kwh=max(0.0, (soc - floor) * kwh),
        surplus_kwh=max(0.0, (soc - target) * kwh),
    )
