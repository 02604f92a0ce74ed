"""Prices a site pays: import day-ahead prices, set fees, and give the planner its price signal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.errors import InvalidInput
from evhub.events import emit
from evhub.prices.models import DayAheadPrice, SiteEnergyCost
from evhub.prices.points import PricePoint, check_unique

KWH_PER_MWH = Decimal(1000)
_LOOKBACK = timedelta(hours=24)
"""A price older than this before the window is not carried into it."""


async def import_prices(
    session: AsyncSession,
    now: datetime,
    points: Sequence[PricePoint],
    *,
    site_id: int | None = None,
    bidding_zone: str | None = None,
    source: str = "csv",
) -> int:
    """Store the prices of one site or one bidding zone; a start already stored is replaced.

    Returns how many prices were written. The whole import is one transaction with its event.
    """
    if (site_id is None) == (bidding_zone is None):
        raise InvalidInput("give a site or a bidding zone, not both")
    if site_id is not None:
        await assets.get_site(session, site_id)
    check_unique(points)
    if not points:
        return 0
    owner = (
        DayAheadPrice.site_id == site_id
        if site_id is not None
        else DayAheadPrice.bidding_zone == bidding_zone
    )
    starts = [p.starts_at for p in points]
    for lo in range(0, len(starts), 500):
        chunk = starts[lo : lo + 500]
        await session.execute(
            delete(DayAheadPrice).where(owner, DayAheadPrice.starts_at.in_(chunk))
        )
    session.add_all(
        DayAheadPrice(
            site_id=site_id,
            bidding_zone=bidding_zone,
            starts_at=p.starts_at,
            resolution_minutes=p.resolution_minutes,
            price_eur_per_mwh=p.price_eur_per_mwh,
            currency="EUR",
            source=source,
            imported_at=now,
        )
        for p in points
    )
    await session.flush()
    emit(
        session,
        "prices.imported",
        now,
        site_id=site_id,
        bidding_zone=bidding_zone,
        source=source,
        count=len(points),
        first=min(starts).isoformat(),
        last=max(starts).isoformat(),
    )
    return len(points)


async def set_energy_costs(
    session: AsyncSession,
    now: datetime,
    site_id: int,
    *,
    grid_fee_per_kwh: Decimal,
    demand_charge_per_kw_month: Decimal,
    bidding_zone: str | None = None,
) -> SiteEnergyCost:
    """Set a site's grid fee (EUR/kWh), demand charge (EUR/kW of monthly peak) and zone."""
    site = await assets.get_site(session, site_id)
    if grid_fee_per_kwh < 0 or demand_charge_per_kw_month < 0:
        raise InvalidInput("grid fee and demand charge must be >= 0")
    costs = await session.get(SiteEnergyCost, site_id)
    if costs is None:
        costs = SiteEnergyCost(site_id=site_id)
        session.add(costs)
    costs.grid_fee_per_kwh = grid_fee_per_kwh
    costs.demand_charge_per_kw_month = demand_charge_per_kw_month
    costs.currency = site.currency
    costs.bidding_zone = bidding_zone
    costs.updated_at = now
    await session.flush()
    emit(
        session,
        "site.energy_costs_set",
        now,
        site_id=site_id,
        grid_fee_per_kwh=str(grid_fee_per_kwh),
        demand_charge_per_kw_month=str(demand_charge_per_kw_month),
        currency=site.currency,
        bidding_zone=bidding_zone,
    )
    return costs


async def get_energy_costs(session: AsyncSession, site_id: int) -> SiteEnergyCost | None:
    return await session.get(SiteEnergyCost, site_id)


async def _prices_between(
    session: AsyncSession, site_id: int, zone: str | None, start: datetime, end: datetime
) -> list[DayAheadPrice]:
    """The site's own prices in [start - lookback, end), else its zone's."""
    window = (DayAheadPrice.starts_at >= start - _LOOKBACK, DayAheadPrice.starts_at < end)
    own = await session.scalars(
        select(DayAheadPrice)
        .where(DayAheadPrice.site_id == site_id, *window)
        .order_by(DayAheadPrice.starts_at)
    )
    rows = list(own)
    if rows or zone is None:
        return rows
    zoned = await session.scalars(
        select(DayAheadPrice)
        .where(DayAheadPrice.bidding_zone == zone, *window)
        .order_by(DayAheadPrice.starts_at)
    )
    return list(zoned)


async def price_signal(
    session: AsyncSession, site_id: int, start: datetime, slots: int, slot_minutes: float
) -> list[Decimal | float]:
    """The price of each planning slot from `start`, EUR/kWh: energy plus the grid fee.

    A slot takes the price of the market time unit it starts in; a slot after the last price known
    keeps the last one (at most `_LOOKBACK` old), a slot before the first takes the first. With no
    price at all near the window, the list is empty: the planner then plans without prices.
    """
    if slots < 1 or slot_minutes <= 0 or not math.isfinite(slot_minutes):
        raise InvalidInput("slots and slot_minutes must be > 0")
    costs = await get_energy_costs(session, site_id)
    fee = costs.grid_fee_per_kwh if costs is not None else Decimal(0)
    zone = costs.bidding_zone if costs is not None else None
    step = timedelta(minutes=slot_minutes)
    rows = await _prices_between(session, site_id, zone, start, start + slots * step)
    if not rows:
        return []
    out: list[Decimal | float] = []
    k = 0
    for slot in range(slots):
        at = start + slot * step
        while k + 1 < len(rows) and rows[k + 1].starts_at <= at:
            k += 1
        out.append(Decimal(rows[k].price_eur_per_mwh) / KWH_PER_MWH + fee)
    return out
