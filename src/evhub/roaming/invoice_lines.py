"""evhub as eMSP: the CDRs partner CPOs sent for evhub's drivers, as invoice lines.

A received CDR (OCPI 2.2.1 §10.2.2.2, stored as posted) whose token is one of evhub's own is
billed to the token's driver at the plan's roaming price (`plan_prices`), once: its line is
named by the CDR's own key, `cdr:{country_code}/{party_id}/{id}`, unique among invoice lines.
A credit CDR (`credit: true`, §10.3.1) is a negative line: the negation of the line that
billed the CDR it credits (`credit_reference_id`) when that one is invoiced already, so a
driver gets back exactly what was charged; else priced the same way, negated.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.billing import lines as billing_lines
from evhub.billing.billed import billed_lines
from evhub.billing.models import InvoiceLineRecord
from evhub.roaming import plan_prices
from evhub.roaming.models import RemoteObject
from evhub.roaming.wire import parse_timestamp
from evhub.settings import Settings

log = logging.getLogger("evhub.roaming")
SOURCE = "roaming"


def line_ref(country_code: str, party_id: str, cdr_id: str) -> str:
    return f"cdr:{country_code}/{party_id}/{cdr_id}"


def _number(value: Any) -> Decimal:
    return Decimal(str(value))  # JSON numbers arrive as floats: their shortest text is exact


class RoamingCdrs:
    """Invoice line source of the roaming CDRs received for evhub's drivers."""

    name = SOURCE

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[billing_lines.LineDraft]:
        invoiced = select(InvoiceLineRecord.source_ref).where(InvoiceLineRecord.source == SOURCE)
        ref = (
            literal("cdr:").concat(RemoteObject.country_code).concat("/")
            .concat(RemoteObject.party_id).concat("/").concat(RemoteObject.object_id)
        )  # fmt: skip
        rows = await session.scalars(
            select(RemoteObject)
            .where(RemoteObject.module == "cdrs", ref.not_in(invoiced))
            .order_by(RemoteObject.id)
        )
        out = []
        for row in rows:
            draft = await self._line(session, row, until, driver_id)
            if draft is not None:
                out.append(draft)
        return sorted(out, key=lambda d: d.at)

    async def lines_ended(
        self, session: AsyncSession, start: datetime, until: datetime
    ) -> list[billing_lines.LineDraft]:
        """The lines of the CDRs ended in [start, until), invoiced or not: an invoiced one at
        the amount its invoice billed, the others as the next invoice will price them (what
        reports count; each CDR once)."""
        billed = await billed_lines(session, SOURCE)
        rows = await session.scalars(
            select(RemoteObject).where(RemoteObject.module == "cdrs").order_by(RemoteObject.id)
        )
        out = []
        for row in rows:
            draft = await self._line(session, row, until, None)
            if draft is None or draft.at < start:
                continue
            line = billed.get(draft.source_ref)
            if line is not None:
                draft = replace(draft, amount_excl_vat=line.amount_excl_vat)
            out.append(draft)
        return sorted(out, key=lambda d: d.at)

    async def _line(
        self, session: AsyncSession, row: RemoteObject, until: datetime, driver_id: int | None
    ) -> billing_lines.LineDraft | None:
        cdr = row.data
        try:
            end = parse_timestamp(str(cdr["end_date_time"]))
            start = parse_timestamp(str(cdr["start_date_time"]))
            cost = _number(cdr["total_cost"]["excl_vat"])
            energy = _number(cdr["total_energy"])
            currency = str(cdr["currency"])
            if not (cost.is_finite() and energy.is_finite()):
                raise ValueError("a CDR's cost and energy are numbers")
            if end >= until:
                return None
            owner = await self._driver(session, cdr["cdr_token"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # InvalidOperation
            log.warning("event=roaming_cdr_unbillable cdr=%s error=%r", row.object_id, exc)
            return None
        if owner is None or (driver_id is not None and owner != driver_id):
            return None
        credit = cdr.get("credit") is True
        price = await plan_prices.price_for(
            session, owner, self.settings.invoice_vat_rate, self.settings.invoice_currency
        )
        amount, vat_rate = price.amount_excl_vat(abs(cost), currency), price.vat_rate
        if credit:
            amount = -amount
            original = await self._billed(session, row, cdr.get("credit_reference_id"))
            if original is not None:
                amount, vat_rate = -original.amount_excl_vat, original.vat_rate
        return billing_lines.LineDraft(
            source=SOURCE, source_ref=line_ref(row.country_code, row.party_id, row.object_id),
            driver_id=owner, at=end, description=_description(cdr, start, energy, credit),
            quantity=-abs(energy) if credit else energy, unit="kWh", amount_excl_vat=amount,
            vat_rate=vat_rate, currency=currency,
        )  # fmt: skip

    async def _driver(self, session: AsyncSession, cdr_token: dict[str, Any]) -> int | None:
        """The driver of the CDR's token when evhub issued it (§10.4.3: CdrToken)."""
        ours = (self.settings.ocpi_country_code, self.settings.ocpi_party_id)
        if (cdr_token.get("country_code"), cdr_token.get("party_id")) != ours:
            return None
        token = await accounts.find_token(session, str(cdr_token["uid"]))
        return token.driver_id if token is not None else None

    async def _billed(
        self, session: AsyncSession, row: RemoteObject, original_id: Any
    ) -> InvoiceLineRecord | None:
        if original_id is None:
            return None
        ref = line_ref(row.country_code, row.party_id, str(original_id))
        return await session.scalar(
            select(InvoiceLineRecord).where(
                InvoiceLineRecord.source == SOURCE, InvoiceLineRecord.source_ref == ref
            )
        )


def _description(cdr: dict[str, Any], start: datetime, energy: Decimal, credit: bool) -> str:
    where = cdr.get("cdr_location") or {}
    place = ", ".join(str(where[k]) for k in ("address", "city") if where.get(k))
    what = "Credit of roaming charge" if credit else "Roaming charge"
    text = (
        f"{what} {cdr.get('country_code')}*{cdr.get('party_id')} {place} "
        f"{start:%Y-%m-%d %H:%M} UTC, {abs(energy).normalize():f} kWh"
    )
    return text[:255]
