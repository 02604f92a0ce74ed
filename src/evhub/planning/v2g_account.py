"""What a driver's vehicle-to-grid page and phone app both show: the standing choice (consent,
floor, target), the charges running now and whether each may feed the grid, and what V2G
earned this month so far (the credit lines the month's invoice will carry, excl. VAT, in the
invoice's currency and month). One reading for both, so that they never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.billing.v2g_credit import credit_of, fed_back
from evhub.planning import v2x_settings
from evhub.planning.v2x_settings import RunningCharge
from evhub.settings import Settings


@dataclass(frozen=True)
class V2gAccount:
    consent: bool
    min_soc_pct: float | None
    target_soc_pct: float | None
    earned: Decimal
    currency: str
    charges: list[RunningCharge]


async def account_of(
    session: AsyncSession, settings: Settings, driver_id: int, now: datetime
) -> V2gAccount:
    standing = await v2x_settings.settings_of(session, driver_id)
    local = now.astimezone(ZoneInfo(settings.invoice_timezone))
    month_start = datetime.combine(date(local.year, local.month, 1), time(0), local.tzinfo)
    rate = settings.v2g_credit_per_kwh
    fed = await fed_back(session, now, since=month_start, driver_id=driver_id)
    return V2gAccount(
        consent=bool(standing and standing.consent),
        min_soc_pct=standing.min_soc_pct if standing else None,
        target_soc_pct=standing.target_soc_pct if standing else None,
        earned=sum((credit_of(f, rate) for f in fed), Decimal("0.00")),
        currency=settings.invoice_currency,
        charges=await v2x_settings.running_charges(session, driver_id),
    )
