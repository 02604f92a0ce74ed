"""Operators' caps on EVSEs, and the schedule units each station accepts.

A cap is a bound the planner works under, not a profile sent past it: the next plan shares
what the capped EVSE no longer takes, and the cap ends by itself at its expiry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.errors import InvalidInput, NotFound
from evhub.events import emit
from evhub.planning.models import EvseCap, StationRateUnits

EvseKey = tuple[str, int]


async def set_cap(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    limit_kw: float,
    expires_at: datetime | None,
    now: datetime,
) -> EvseCap:
    station = await assets.get_station(session, station_id)
    if all(e.evse_id != evse_id for e in station.evses):
        raise InvalidInput(f"station {station_id!r} has no EVSE {evse_id}")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future")
    cap = await session.get(EvseCap, (station_id, evse_id))
    if cap is None:
        cap = EvseCap(station_id=station_id, evse_id=evse_id, limit_kw=limit_kw, set_at=now)
        session.add(cap)
    cap.limit_kw, cap.expires_at, cap.set_at = limit_kw, expires_at, now
    emit(session, "evse.capped", now, station_id=station_id, evse_id=evse_id, limit_kw=limit_kw)
    return cap


async def clear_cap(session: AsyncSession, station_id: str, evse_id: int, now: datetime) -> None:
    removed = await session.execute(
        delete(EvseCap).where(EvseCap.station_id == station_id, EvseCap.evse_id == evse_id)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"no charging limit set on {station_id!r} EVSE {evse_id}")
    emit(session, "evse.capped", now, station_id=station_id, evse_id=evse_id, limit_kw=None)


async def caps_in_force(
    session: AsyncSession, station_ids: Iterable[str], now: datetime
) -> dict[EvseKey, float]:
    rows = await session.scalars(select(EvseCap).where(EvseCap.station_id.in_(list(station_ids))))
    return {
        (c.station_id, c.evse_id): c.limit_kw
        for c in rows
        if c.expires_at is None or c.expires_at > now
    }


async def rate_units(session: AsyncSession, station_ids: Iterable[str]) -> dict[str, str]:
    rows = await session.scalars(
        select(StationRateUnits).where(StationRateUnits.station_id.in_(list(station_ids)))
    )
    return {r.station_id: r.units for r in rows}


async def record_rate_units(
    session: AsyncSession, station_id: str, units: str, now: datetime
) -> None:
    row = await session.get(StationRateUnits, station_id)
    if row is None:
        session.add(StationRateUnits(station_id=station_id, units=units, read_at=now))
    else:
        row.units, row.read_at = units, now
