"""The monthly invoice run: in the first days of a month, the month before is invoiced.

`run_month` issues only what is missing (drivers without that month's invoice who have lines
not yet billed), so running it on every wake-up of those days is harmless, and a node that
was down on the 1st catches up on the 2nd. Two nodes running it at once cannot double an
invoice (unique per company, driver and month; the loser's transaction fails and retries).
"""

from __future__ import annotations

import logging

from evhub.billing.invoices import Issuer, Month, run_month
from evhub.billing.lines import LineSource
from evhub.clock import Clock
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.billing")


class MonthlyInvoiceRun:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        issuer: Issuer,
        sources: list[LineSource],
        days: int = 3,
        period_s: float = 3600.0,
    ) -> None:
        self.uow, self.clock, self.issuer, self.sources = uow, clock, issuer, sources
        self.days, self.period_s = days, period_s

    def due(self) -> Month | None:
        """The month to invoice now, if today is one of the first `days` of the next."""
        local = self.clock.now().astimezone(self.issuer.tz)
        if local.day > self.days:
            return None
        if local.month == 1:
            return Month(local.year - 1, 12)
        return Month(local.year, local.month - 1)

    async def run(self) -> None:
        while True:
            await self.run_once()
            await self.clock.sleep(self.period_s)

    async def run_once(self) -> list[str]:
        """The numbers issued by this wake-up (none outside the first days)."""
        month = self.due()
        if month is None:
            return []
        numbers = await run_month(self.uow, self.clock.now(), self.issuer, month, self.sources)
        if numbers:
            log.info("event=invoices_issued month=%s count=%d", month, len(numbers))
        return numbers
