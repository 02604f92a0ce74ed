"""Invoices: one per driver and month, numbered without gaps, never edited once issued.

The number comes from a counter row per issuing company and year, moved by an upsert in the
transaction that writes the invoice: concurrent issuers queue on that row (PostgreSQL locks it
until commit; SQLite has one writer), and a transaction that fails takes its number back with
it, so the numbers in the table run 1, 2, 3... with no gap (French invoicing rule: a unique,
continuous sequence, CGI annexe II art. 242 nonies A). The PDF is made in that transaction
too and stored with the invoice: what was issued is what is shown again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.billing.identity import LegalIdentity
from evhub.billing.invoice_pdf import InvoiceDocument, render_invoice
from evhub.billing.lines import CENTS, LineDraft, LineSource
from evhub.billing.models import InvoiceCounter, InvoiceLineRecord, InvoiceRecord
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.events import emit
from evhub.settings import Settings
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.billing")
_COUNTERS = cast(Table, InvoiceCounter.__table__)
BUSINESS_GROUP = "fleet"  # drivers of fleet customers get Factur-X invoices


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            day = date.fromisoformat(f"{text}-01")
        except ValueError as exc:
            raise InvalidInput(f"month {text!r} is not YYYY-MM") from exc
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def end(self, tz: ZoneInfo) -> datetime:
        """The first instant after the month, local midnight of the next month's first day."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime.combine(date(year, month, 1), time(0), tz)


@dataclass(frozen=True)
class Issuer:
    identity: LegalIdentity
    prefix: str
    currency: str
    tz: ZoneInfo


def issuer_of(settings: Settings) -> Issuer:
    """The issuer configured in settings; raises when its legal identity is incomplete."""
    return Issuer(
        LegalIdentity.from_settings(settings),
        settings.invoice_number_prefix,
        settings.invoice_currency,
        ZoneInfo(settings.invoice_timezone),
    )


async def next_number(session: AsyncSession, company_id: str, year: int) -> int:
    """The next number of the company's year, taken in the caller's transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_COUNTERS).values(company_id=company_id, year=year, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=["company_id", "year"],
        set_={"last_number": _COUNTERS.c.last_number + 1},
    ).returning(_COUNTERS.c.last_number)
    return int((await session.execute(statement)).scalar_one())


async def issue_invoice(
    session: AsyncSession,
    now: datetime,
    issuer: Issuer,
    driver_id: int,
    month: Month,
    sources: Sequence[LineSource],
) -> InvoiceRecord | None:
    """The driver's invoice of `month` with every line not yet invoiced up to its end; None
    when there is nothing to bill. Issued once: a second call finds it and raises."""
    existing = await session.scalar(
        select(InvoiceRecord.id).where(
            InvoiceRecord.company_id == issuer.identity.siren,
            InvoiceRecord.driver_id == driver_id,
            InvoiceRecord.month == str(month),
        )
    )
    if existing is not None:
        raise Conflict(f"driver {driver_id} has invoice {existing} for {month}")
    until = month.end(issuer.tz)
    drafts = [d for source in sources for d in await source.lines(session, until, driver_id)]
    if not drafts:
        return None
    foreign = {d.currency for d in drafts} - {issuer.currency}
    if foreign:
        raise Conflict(f"lines in {sorted(foreign)} cannot go on an invoice in {issuer.currency}")
    driver = await accounts.get_driver(session, driver_id)
    year = now.astimezone(issuer.tz).year
    sequence = await next_number(session, issuer.identity.siren, year)
    excl = sum((d.amount_excl_vat for d in drafts), Decimal(0))
    vat = sum((d.vat_amount for d in drafts), Decimal(0))
    invoice = InvoiceRecord(
        number=f"{issuer.prefix}-{year}-{sequence:06d}", company_id=issuer.identity.siren,
        year=year, sequence=sequence, month=str(month), driver_id=driver_id,
        customer_name=driver.name, business=driver.user_group == BUSINESS_GROUP,
        currency=issuer.currency, total_excl_vat=excl, total_vat=vat,
        total_incl_vat=excl + vat, issued_at=now,
    )  # fmt: skip
    lines = [_line(n, d) for n, d in enumerate(drafts, start=1)]
    invoice.pdf = render_invoice(InvoiceDocument(issuer.identity, invoice, lines, driver.email))
    session.add(invoice)
    await session.flush()
    for line in lines:
        line.invoice_id = invoice.id
    session.add_all(lines)
    await session.flush()
    emit(
        session, "invoice.issued", now,
        invoice_id=invoice.id, number=invoice.number, driver_id=driver_id, month=str(month),
        total_incl_vat=str(invoice.total_incl_vat), currency=invoice.currency,
    )  # fmt: skip
    return invoice


def _line(position: int, draft: LineDraft) -> InvoiceLineRecord:
    excl = draft.amount_excl_vat.quantize(CENTS, ROUND_HALF_UP)
    vat = draft.vat_amount
    return InvoiceLineRecord(
        position=position, source=draft.source, source_ref=draft.source_ref,
        description=draft.description, quantity=draft.quantity, unit=draft.unit,
        amount_excl_vat=excl, vat_rate=draft.vat_rate, vat_amount=vat,
        amount_incl_vat=excl + vat,
    )  # fmt: skip


async def drivers_to_invoice(
    session: AsyncSession, month: Month, tz: ZoneInfo, sources: Sequence[LineSource]
) -> list[int]:
    until = month.end(tz)
    found = {d.driver_id for source in sources for d in await source.lines(session, until, None)}
    return sorted(found)


async def run_month(
    uow: UnitOfWork, now: datetime, issuer: Issuer, month: Month, sources: Sequence[LineSource]
) -> list[str]:
    """Invoice every driver with lines up to the month's end, one transaction per invoice (a
    crash keeps the invoices done; a rerun does the rest). The numbers issued."""
    async with uow() as session:
        drivers = await drivers_to_invoice(session, month, issuer.tz, sources)
        done = set(
            await session.scalars(
                select(InvoiceRecord.driver_id).where(
                    InvoiceRecord.company_id == issuer.identity.siren,
                    InvoiceRecord.month == str(month),
                )
            )
        )
    numbers = []
    for driver_id in drivers:
        if driver_id in done:
            continue
        async with uow() as session:
            invoice = await issue_invoice(session, now, issuer, driver_id, month, sources)
            if invoice is not None:
                numbers.append(invoice.number)
                log.info("event=invoice_issued number=%s driver=%s", invoice.number, driver_id)
    return numbers


def invoices_query(driver_id: int | None = None, month: str | None = None) -> Select[Any]:
    query = select(InvoiceRecord).order_by(InvoiceRecord.id.desc())
    if driver_id is not None:
        query = query.where(InvoiceRecord.driver_id == driver_id)
    if month is not None:
        query = query.where(InvoiceRecord.month == month)
    return query


async def get_invoice(session: AsyncSession, invoice_id: int) -> InvoiceRecord:
    record = await session.get(InvoiceRecord, invoice_id)
    if record is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return record


async def lines_of(session: AsyncSession, invoice_id: int) -> list[InvoiceLineRecord]:
    rows = await session.scalars(
        select(InvoiceLineRecord)
        .where(InvoiceLineRecord.invoice_id == invoice_id)
        .order_by(InvoiceLineRecord.position)
    )
    return list(rows)
