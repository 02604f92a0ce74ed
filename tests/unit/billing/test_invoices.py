"""Invoices: numbered without gaps per company and year under concurrent issuers, lines
billed once (credits as negative lines), Factur-X for fleet customers, immutable; on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import facturx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from evhub.billing import cdrs, invoices
from evhub.billing.identity import check_vat
from evhub.billing.invoice_run import MonthlyInvoiceRun
from evhub.billing.lines import LineDraft, _cdr_line, sources
from evhub.billing.models import CdrRecord, InvoiceCounter, InvoiceRecord
from evhub.clock import FrozenClock
from evhub.db import create_engine, session_factory
from evhub.errors import InvalidInput
from evhub.settings import Settings
from evhub.uow import UnitOfWork
from tests.unit.billing.test_cdrs import PARTY, charge

SETTINGS = Settings(
    invoice_company_name="Hubs de Lyon SAS",
    invoice_company_siren="732 829 320",
    invoice_company_vat_number="FR44732829320",
    invoice_company_address="9 quai Rambaud",
    invoice_company_postcode="69002",
    invoice_company_city="Lyon",
)
ISSUER = invoices.issuer_of(SETTINGS)
NOVEMBER, DECEMBER = invoices.Month(2026, 11), invoices.Month(2026, 12)
ISSUED = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def lines_of(cdr: CdrRecord) -> LineDraft:
    return _cdr_line("session", cdr)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(
        database_url,
    )
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def charged_drivers(uow: UnitOfWork, n: int) -> list[int]:
    for i in range(n):
        tx_id = await charge(uow, station=f"CP-{i}")
        async with uow() as s:
            await cdrs.issue_for_transaction(s, ISSUED, PARTY, tx_id)
    async with uow() as s:
        return sorted({d for d in await s.scalars(select(CdrRecord.driver_id)) if d is not None})


def test_the_legal_identity_is_checked() -> None:
    assert ISSUER.identity.siren == "732829320"
    with pytest.raises(InvalidInput, match="SIREN"):
        invoices.issuer_of(SETTINGS.model_copy(update={"invoice_company_siren": "732829321"}))
    with pytest.raises(InvalidInput, match="not that of SIREN"):
        check_vat("FR44732829320", "552100554")
    with pytest.raises(InvalidInput, match="legal identity"):
        invoices.issuer_of(Settings())


async def test_concurrent_issuers_number_invoices_without_gaps(uow: UnitOfWork) -> None:
    drivers = await charged_drivers(uow, 4)

    async def issue(driver_id: int) -> None:
        async with uow() as s:
            await invoices.issue_invoice(s, ISSUED, ISSUER, driver_id, NOVEMBER, sources(SETTINGS))

    async def take_and_fail() -> None:
        with pytest.raises(RuntimeError):
            async with uow() as s:
                await invoices.next_number(s, ISSUER.identity.siren, 2026)
                raise RuntimeError("the invoice failed after taking its number")

    await asyncio.gather(*(issue(d) for d in drivers), *(take_and_fail() for _ in range(4)))
    async with uow() as s:
        rows = (await s.scalars(select(InvoiceRecord).order_by(InvoiceRecord.sequence))).all()
        counter = await s.get(InvoiceCounter, (ISSUER.identity.siren, 2026))
    assert [r.sequence for r in rows] == [1, 2, 3, 4]
    assert [r.number for r in rows] == [f"EVH-2026-{n:06d}" for n in range(1, 5)]
    assert counter is not None and counter.last_number == 4
    assert sorted(r.driver_id for r in rows) == drivers


async def test_a_month_is_invoiced_once_and_a_credit_goes_on_the_next(uow: UnitOfWork) -> None:
    (driver,) = await charged_drivers(uow, 1)
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == [
        "EVH-2026-000001"
    ]
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []
    async with uow() as s:
        first = (await s.scalars(select(InvoiceRecord))).one()
        (line,) = await invoices.lines_of(s, first.id)
        original = (await s.scalars(select(CdrRecord))).one()
        await cdrs.correct(s, ISSUED, PARTY, original.id, cdrs.Correction("wrong", energy_wh=8000))
    assert (first.total_excl_vat, first.total_vat, first.total_incl_vat) == (
        Decimal("3.50"), Decimal("0.70"), Decimal("4.20"),
    )  # fmt: skip
    assert (line.source, line.source_ref, line.vat_rate) == ("session", f"cdr:{original.id}", 20)
    assert await invoices.run_month(uow, ISSUED, ISSUER, DECEMBER, sources(SETTINGS)) == [
        "EVH-2026-000002"
    ]
    async with uow() as s:
        second = (await s.scalars(select(InvoiceRecord).where(InvoiceRecord.sequence == 2))).one()
        amounts = [x.amount_excl_vat for x in await invoices.lines_of(s, second.id)]
    assert sorted(amounts) == [Decimal("-3.50"), Decimal("3.00")]
    assert second.total_incl_vat == Decimal("-0.60") and second.driver_id == driver


async def test_a_fleet_invoice_is_factur_x_and_cannot_change(uow: UnitOfWork) -> None:
    await charged_drivers(uow, 1)
    await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    async with uow() as s:
        invoice = (await s.scalars(select(InvoiceRecord))).one()
    assert invoice.business and invoice.pdf.startswith(b"%PDF")
    _, xml = facturx.get_facturx_xml_from_pdf(invoice.pdf, check_xsd=True)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="basic")
    assert b"EVH-2026-000001" in xml and b"<ram:GrandTotalAmount>4.20<" in xml
    with pytest.raises(DBAPIError, match="immutable"):
        async with uow() as s:
            await s.execute(update(InvoiceRecord).values(total_incl_vat=0))


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2026, 12, 1, 6, 0, tzinfo=UTC), NOVEMBER),
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), NOVEMBER),  # Dec 1st, 00:30 in Paris
        (datetime(2027, 1, 3, 12, 0, tzinfo=UTC), DECEMBER),
        (datetime(2026, 12, 4, 12, 0, tzinfo=UTC), None),
    ],
)
def test_the_monthly_run_invoices_the_month_before_in_its_first_days(
    now: datetime, month: invoices.Month | None
) -> None:
    run = MonthlyInvoiceRun(UnitOfWork(None), FrozenClock(now), ISSUER, [])  # type: ignore[arg-type]
    assert run.due() == month


async def test_the_monthly_run_issues_the_missing_invoices(uow: UnitOfWork) -> None:
    await charged_drivers(uow, 2)
    clock = FrozenClock(datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    run = MonthlyInvoiceRun(uow, clock, ISSUER, sources(SETTINGS))
    assert await run.run_once() == ["EVH-2026-000001", "EVH-2026-000002"]
    assert await run.run_once() == []


def test_a_small_charge_keeps_its_tariffs_vat_rate_and_its_own_vat() -> None:
    """0.37 excl. VAT at 20 % is 0.44 incl.: the line says 20 % and 0.07, as the CDR does."""
    tariff = {"elements": [{"price_components": [{"type": "ENERGY", "price": 0.37, "vat": 20.0,
                                                   "step_size": 1}]}]}  # fmt: skip
    cdr = CdrRecord(
        id=7, origin="session", driver_id=3, station_id="CP-1", evse_id=1, currency="EUR",
        start_date_time=ISSUED, end_date_time=ISSUED, total_excl_vat=Decimal("0.37"),
        total_incl_vat=Decimal("0.44"), total_energy_kwh=Decimal("1"), body={"tariffs": [tariff]},
    )  # fmt: skip
    line = lines_of(cdr)
    assert (line.vat_rate, line.vat_amount) == (Decimal("20.00"), Decimal("0.07"))
    mixed = {"elements": [{"price_components": [{"type": "FLAT", "price": 1, "vat": 5.5}]}]}
    cdr.body = {"tariffs": [tariff, mixed]}
    assert lines_of(cdr).vat_rate == Decimal("18.92")  # a blend, worked back from the totals
    assert lines_of(cdr).vat_amount == Decimal("0.07")
