"""Connected cars: the car maker's cloud reports a car's state of charge, whether it is plugged
in, and the target and departure its driver set in the car's app.

Each car has its own token (issued or rotated by an operator or by the car's driver, shown once,
stored as a digest). A report is kept when it was measured after the one stored (clouds retry
and reorder), tied to the charge running for the car's driver at that moment, and becomes a
need source of the demand model (`demand.from_telemetry`): below what the driver declared,
above the station's SoC and history, which is what an AC station that never reports a SoC
otherwise falls back to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Token, Vehicle, VehicleModel
from evhub.charging.models import Transaction
from evhub.errors import DomainError, InvalidInput, NotFound
from evhub.events import emit
from evhub.planning.models import VehicleTelemetry, VehicleTelemetryKey

TOKEN_PREFIX = "evt_"
# A car's clock and ours differ a little; a report from further in the future is refused.
CLOCK_SKEW = timedelta(minutes=5)


class TelemetryRefused(DomainError):
    """No token, a wrong one, or a car with no token: the same answer for all three."""

    status_code = 401


@dataclass(frozen=True)
class Reading:
    """One report as the car's cloud sent it."""

    measured_at: datetime
    soc_pct: float
    plugged_in: bool
    target_soc_pct: float | None = None
    departure_at: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    stored: bool  # False: a report measured before the one stored, ignored
    transaction_pk: int | None


@dataclass(frozen=True)
class CarReport:
    """A car's latest report as the demand model reads it, with the car's battery."""

    vehicle_id: int
    driver_id: int
    battery_kwh: float
    reading: Reading
    transaction_pk: int | None
    session_wh: int | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, vehicle_id: int, issued_by: str, now: datetime) -> str:
    """A new token for the car, replacing any earlier one (which stops working at once)."""
    if await session.get(Vehicle, vehicle_id) is None:
        raise NotFound(f"vehicle {vehicle_id} not found")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    values = {"token_hash": _digest(token), "issued_by": issued_by, "issued_at": now}
    await _upsert(session, VehicleTelemetryKey, vehicle_id, values)
    emit(session, "vehicle.telemetry_token_issued", now, vehicle_id=vehicle_id, by=issued_by)
    return token


async def check_token(session: AsyncSession, vehicle_id: int, token: str | None) -> None:
    """Raise unless `token` is the car's current one (compared in constant time)."""
    row = await session.get(VehicleTelemetryKey, vehicle_id)
    expected = row.token_hash if row is not None else _digest(secrets.token_hex(16))
    if not hmac.compare_digest(expected, _digest(token or "")) or row is None:
        raise TelemetryRefused("a valid telemetry token of this vehicle is required")


async def record(
    session: AsyncSession, vehicle_id: int, reading: Reading, now: datetime
) -> Recorded:
    """Keep the report unless a later-measured one is stored; tie it to the driver's charge."""
    if reading.measured_at > now + CLOCK_SKEW:
        raise InvalidInput("measured_at is in the future")
    if reading.departure_at is not None and reading.departure_at <= reading.measured_at:
        raise InvalidInput("departure_at must be after measured_at")
    vehicle = await session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise NotFound(f"vehicle {vehicle_id} not found")
    stored = await session.get(VehicleTelemetry, vehicle_id)
    if stored is not None and stored.measured_at >= reading.measured_at:
        return Recorded(False, stored.transaction_pk)
    tx = await _running_charge(session, vehicle.driver_id) if reading.plugged_in else None
    values: dict[str, Any] = {
        "soc_pct": reading.soc_pct, "plugged_in": reading.plugged_in,
        "target_soc_pct": reading.target_soc_pct, "departure_at": reading.departure_at,
        "measured_at": reading.measured_at, "received_at": now,
        "transaction_pk": tx.id if tx else None, "session_wh": tx.energy_wh if tx else None,
    }  # fmt: skip
    # Guarded in the statement too: of two reports racing, the later-measured one stays.
    await _upsert(session, VehicleTelemetry, vehicle_id, values, newer_only=True)
    where = {"station_id": tx.station_id, "transaction_id": tx.id} if tx else {}
    emit(session, "vehicle.telemetry", now, vehicle_id=vehicle_id, **where)
    return Recorded(True, tx.id if tx else None)


async def _running_charge(session: AsyncSession, driver_id: int) -> Transaction | None:
    """The driver's one running charge; None with none or several (which car is which is
    then not known)."""
    rows = list(
        await session.scalars(
            select(Transaction)
            .join(Token, Token.id == Transaction.token_id)
            .where(Token.driver_id == driver_id, Transaction.state == "active")
            .limit(2)
        )
    )
    return rows[0] if len(rows) == 1 else None


async def reports_of(session: AsyncSession, driver_ids: Sequence[int]) -> list[CarReport]:
    """The latest report of every car of these drivers, with its catalogue battery."""
    if not driver_ids:
        return []
    query = (
        select(VehicleTelemetry, Vehicle.driver_id, VehicleModel.battery_kwh)
        .join(Vehicle, Vehicle.id == VehicleTelemetry.vehicle_id)
        .join(VehicleModel, VehicleModel.id == Vehicle.model_id)
        .where(Vehicle.driver_id.in_(driver_ids))
        .order_by(VehicleTelemetry.vehicle_id)
    )
    return [
        CarReport(
            row.vehicle_id,
            driver_id,
            float(battery),
            Reading(
                row.measured_at, row.soc_pct, row.plugged_in, row.target_soc_pct, row.departure_at
            ),
            row.transaction_pk,
            row.session_wh,
        )  # fmt: skip
        for row, driver_id, battery in await session.execute(query)
    ]


async def _upsert(
    session: AsyncSession,
    table: type[VehicleTelemetryKey] | type[VehicleTelemetry],
    vehicle_id: int,
    values: dict[str, Any],
    newer_only: bool = False,
) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(vehicle_id=vehicle_id, **values)
    guard = VehicleTelemetry.measured_at < statement.excluded.measured_at if newer_only else None
    await session.execute(
        statement.on_conflict_do_update(index_elements=["vehicle_id"], set_=values, where=guard)
    )
