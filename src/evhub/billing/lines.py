"""Invoice line sources: each kind of billable thing offers its lines not yet invoiced.

A source names its lines by a reference unique within it (`cdr:12`, `booking:7`); an invoice
line is unique by (source, reference) in the database, so nothing is billed twice however
runs overlap or retry, and whatever is not billed by one month's run is offered again to the
next (a CDR issued after its month was invoiced goes on the following invoice). Plan fees
(`plan_fees`) and car-sharing trips (`evhub.carsharing.invoice_lines`) are sources too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from sqlalchemy import String, cast, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.billing import plan_fees, v2g_credit
from evhub.billing.models import CdrRecord, InvoiceLineRecord
from evhub.carsharing.invoice_lines import TripLines
from evhub.reservations.fees import recorded_fees
from evhub.reservations.state import FeeRule
from evhub.roaming import invoice_lines as roaming_lines
from evhub.settings import Settings

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class LineDraft:
    """A line to invoice, amounts excl. VAT; `vat_rate` a percentage."""

    source: str
    source_ref: str
    driver_id: int
    at: datetime
    description: str
    quantity: Decimal
    unit: str
    amount_excl_vat: Decimal
    vat_rate: Decimal
    currency: str
    vat: Decimal | None = None  # the VAT already stated by the source (a CDR's own), if any

    @property
    def vat_amount(self) -> Decimal:
        if self.vat is not None:
            return self.vat
        return (self.amount_excl_vat * self.vat_rate / 100).quantize(CENTS, ROUND_HALF_UP)


class LineSource(Protocol):
    name: str

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[LineDraft]:
        """The lines dated before `until` (of `driver_id`, or of every driver) not invoiced."""
        ...


class ChargingSessions:
    """CDRs, credits as negative lines; a CDR with no driver (a roaming token) is not ours to
    invoice (the eMSP is billed through roaming)."""

    name = "session"

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[LineDraft]:
        invoiced = select(InvoiceLineRecord.source_ref).where(InvoiceLineRecord.source == self.name)
        query = select(CdrRecord).where(
            CdrRecord.driver_id.is_not(None),
            CdrRecord.end_date_time < until,
            literal("cdr:").concat(cast(CdrRecord.id, String)).not_in(invoiced),
        )
        if driver_id is not None:
            query = query.where(CdrRecord.driver_id == driver_id)
        rows = await session.scalars(query.order_by(CdrRecord.end_date_time, CdrRecord.id))
        return [_cdr_line(self.name, cdr) for cdr in rows]


def _cdr_line(source: str, cdr: CdrRecord) -> LineDraft:
    assert cdr.driver_id is not None
    excl = cdr.total_excl_vat.quantize(CENTS, ROUND_HALF_UP)
    vat = (cdr.total_incl_vat - cdr.total_excl_vat).quantize(CENTS, ROUND_HALF_UP)
    what = {"session": "Charging", "credit": "Credit of charging", "correction": "Charging"}
    description = (
        f"{what[cdr.origin]} {cdr.station_id}/{cdr.evse_id} "
        f"{cdr.start_date_time:%Y-%m-%d %H:%M} UTC, {cdr.total_energy_kwh.normalize():f} kWh"
    )
    sign = Decimal(-1) if cdr.origin == "credit" else Decimal(1)
    return LineDraft(
        source=source, source_ref=f"cdr:{cdr.id}", driver_id=cdr.driver_id,
        at=cdr.end_date_time, description=description[:255],
        quantity=sign * cdr.total_energy_kwh, unit="kWh", amount_excl_vat=excl,
        vat_rate=_vat_rate(cdr, vat), currency=cdr.currency, vat=vat,
    )  # fmt: skip


def _vat_rate(cdr: CdrRecord, vat: Decimal) -> Decimal:
    """The rate its tariff states, when one rate covers all its parts: worked back from the
    rounded totals instead, a small charge's rate would read 18.92 % for 20 %. A CDR whose
    tariff mixes rates shows their blend, worked back."""
    rates = {
        Decimal(str(component["vat"]))
        for tariff in cdr.body.get("tariffs") or []
        for element in tariff.get("elements") or []
        for component in element.get("price_components") or []
        if component.get("vat") is not None
    }
    if len(rates) == 1:
        return rates.pop().quantize(CENTS)
    return (vat / cdr.total_excl_vat * 100).quantize(CENTS) if cdr.total_excl_vat else Decimal(0)


class ReservationFees:
    """The fee rules reservations record, at the amounts set here (excl. VAT)."""

    name = "reservation_fee"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[LineDraft]:
        invoiced = set(
            await session.scalars(
                select(InvoiceLineRecord.source_ref).where(InvoiceLineRecord.source == self.name)
            )
        )
        out = []
        for fee in await recorded_fees(session, until, driver_id):
            ref = f"booking:{fee.booking_id}"
            if ref in invoiced:
                continue
            quantity, unit, amount = self.price(fee.rule, fee.idle_minutes)
            out.append(
                LineDraft(
                    source=self.name, source_ref=ref, driver_id=fee.driver_id, at=fee.at,
                    description=f"Booking #{fee.booking_id}: {fee.rule.replace('_', ' ')} fee",
                    quantity=quantity, unit=unit, amount_excl_vat=amount,
                    vat_rate=self.settings.invoice_vat_rate,
                    currency=self.settings.invoice_currency,
                )
            )  # fmt: skip
        return out

    @property
    def currency(self) -> str:
        return self.settings.invoice_currency

    def price(self, rule: FeeRule, idle_minutes: int) -> tuple[Decimal, str, Decimal]:
        """Quantity, unit and amount excl. VAT of one fee: what invoices bill, reports sum."""
        s = self.settings
        if rule is FeeRule.OVERSTAY:
            minutes = Decimal(idle_minutes)
            return minutes, "min", (minutes * s.fee_overstay_per_min).quantize(CENTS)
        amount = s.fee_no_show if rule is FeeRule.NO_SHOW else s.fee_late_cancellation
        return Decimal(1), "unit", amount.quantize(CENTS)


async def invoiced_refs(session: AsyncSession, source: str) -> set[str]:
    """The references of `source` already on an invoice."""
    query = select(InvoiceLineRecord.source_ref).where(InvoiceLineRecord.source == source)
    return set(await session.scalars(query))


def sources(settings: Settings) -> list[LineSource]:
    """Every source of invoice lines, in the order their lines are printed."""
    return [
        plan_fees.PlanFees(settings), ChargingSessions(), ReservationFees(settings),
        roaming_lines.RoamingCdrs(settings), TripLines(LineDraft, invoiced_refs),
        v2g_credit.V2gCredits(settings),
    ]  # fmt: skip
