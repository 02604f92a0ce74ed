"""What drivers owe each month for their plan: the fee of the plan each driver holds.

Billing reads this rather than the accounts tables, so that the plan's shape stays this
domain's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Driver, Plan


@dataclass(frozen=True)
class PlanFee:
    """A driver's monthly fee, excl. VAT; `vat_rate` a fraction (0.2 for 20 %)."""

    driver_id: int
    plan_code: str
    plan_name: str
    monthly_fee: Decimal
    currency: str
    vat_rate: Decimal


async def monthly_fees(
    session: AsyncSession, joined_before: datetime, driver_id: int | None = None
) -> list[PlanFee]:
    """The drivers holding a plan with a fee who joined before `joined_before`, by driver."""
    query = (
        select(Driver.id, Plan.code, Plan.name, Plan.monthly_fee, Plan.currency, Plan.vat_rate)
        .join(Plan, Driver.plan_id == Plan.id)
        .where(Plan.monthly_fee > 0, Driver.created_at < joined_before)
    )
    if driver_id is not None:
        query = query.where(Driver.id == driver_id)
    rows = await session.execute(query.order_by(Driver.id))
    return [PlanFee(*row) for row in rows]
