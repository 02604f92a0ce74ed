"""Plan fees as invoice lines: each driver's monthly fee, once per driver and month.

The month billed is the one that ends at the run's `until` (read in the invoicing time zone):
its fee is offered once, under `plan:{driver}:{YYYY-MM}`, which the unique (source,
source_ref) of invoice lines keeps from being billed twice.

A month begun is due in full, not prorated. The accounts domain keeps the plan a driver holds,
not since when (a plan change leaves no dated record), so a prorated fee would have to guess
the day the plan was taken; a full month is what the plans' terms say (a monthly pass,
each calendar month begun), it is exact, and it is the same for every holder. A driver who
signs up after the month's end owes nothing for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.subscriptions import monthly_fees
from evhub.billing import lines as invoice_lines  # a module: `lines.sources` names this one
from evhub.billing.models import InvoiceLineRecord
from evhub.settings import Settings

CENTS = Decimal("0.01")


class PlanFees:
    name = "plan_fee"

    def __init__(self, settings: Settings) -> None:
        self.tz = ZoneInfo(settings.invoice_timezone)

    def month_start(self, until: datetime) -> datetime:
        """The local midnight that starts the month ending at `until`."""
        last = (until - timedelta(microseconds=1)).astimezone(self.tz)
        return last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[invoice_lines.LineDraft]:
        start = self.month_start(until)
        month = f"{start:%Y-%m}"
        invoiced = set(
            await session.scalars(
                select(InvoiceLineRecord.source_ref).where(InvoiceLineRecord.source == self.name)
            )
        )
        out = []
        for fee in await monthly_fees(session, until, driver_id):
            ref = f"plan:{fee.driver_id}:{month}"
            if ref in invoiced:
                continue
            out.append(
                invoice_lines.LineDraft(
                    source=self.name, source_ref=ref, driver_id=fee.driver_id, at=start,
                    description=f"{fee.plan_name}, monthly fee {start:%B %Y}",
                    quantity=Decimal(1), unit="month",
                    amount_excl_vat=fee.monthly_fee.quantize(CENTS, ROUND_HALF_UP),
                    vat_rate=(fee.vat_rate * 100).quantize(CENTS), currency=fee.currency,
                )
            )  # fmt: skip
        return out
