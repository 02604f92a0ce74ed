"""Plans: what a driver pays, and the tariff that prices the driver's charges.

A plan carries its user group (visitor, resident, fleet): taking a plan puts the driver in its
group, which access windows, quotas and the demand model read.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Driver, Plan
from evhub.errors import NotFound

DEFAULT_PLAN = "payg"


async def list_plans(session: AsyncSession) -> list[Plan]:
    return list((await session.execute(select(Plan).order_by(Plan.id))).scalars())


async def plan_by_code(session: AsyncSession, code: str) -> Plan:
    plan = (await session.execute(select(Plan).where(Plan.code == code))).scalar_one_or_none()
    if plan is None:
        known = [p.code for p in await list_plans(session)]
        raise NotFound(f"plan {code!r} not found", allowed=known)
    return plan


async def assign_plan(session: AsyncSession, driver: Driver, code: str) -> Plan:
    plan = await plan_by_code(session, code)
    driver.plan_id = plan.id
    driver.user_group = plan.user_group
    return plan


async def plan_of(session: AsyncSession, driver: Driver) -> Plan | None:
    return await session.get(Plan, driver.plan_id) if driver.plan_id is not None else None


async def plan_tariff_id(session: AsyncSession, driver_id: int | None) -> str | None:
    """The tariff of the driver's plan (None: no driver, no plan, or a plan without its own
    tariff, which the site's public tariff then prices)."""
    if driver_id is None:
        return None
    query = select(Plan.tariff_id).join(Driver, Driver.plan_id == Plan.id)
    return await session.scalar(query.where(Driver.id == driver_id))


async def plan_codes(session: AsyncSession, driver_ids: Collection[int]) -> dict[int, str]:
    """The code of each driver's plan, for the drivers that have one (reports group by it)."""
    if not driver_ids:
        return {}
    query = select(Driver.id, Plan.code).join(Plan, Plan.id == Driver.plan_id)
    rows = await session.execute(query.where(Driver.id.in_(list(driver_ids))))
    return {driver_id: code for driver_id, code in rows}


async def update_plan(session: AsyncSession, code: str, changes: dict[str, Any]) -> Plan:
    """Change a plan's name, fee, currency, VAT rate, tariff (None: the site's tariff) or
    whether it includes car-sharing."""
    plan = await plan_by_code(session, code)
    for field, value in changes.items():
        setattr(plan, field, value)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise NotFound(f"tariff {changes.get('tariff_id')!r} not found") from exc
    return plan
