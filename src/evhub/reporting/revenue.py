"""Revenue excluding VAT by plan, read from billing.

Billing (tariffs, CDRs, invoices) prices sessions; until its service exposes the month's
revenue, this says "not available" rather than a made-up zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Revenue:
    """Revenue excluding VAT of a scope, per plan, in one currency."""

    currency: str
    by_plan: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_plan.values(), Decimal(0))


async def revenue_excl_vat(
    session: AsyncSession, site_ids: list[int], start: datetime, end: datetime
) -> Revenue | None:
    """None while no billing service gives revenue; the report then says "not available"."""
    del session, site_ids, start, end
    return None
