"""Plan fees on invoices: a plan's monthly fee billed once per driver and month, in full, with
its VAT, next to the driver's charges; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.billing import cdrs, invoices
from evhub.billing.lines import CENTS, sources
from evhub.billing.models import CdrRecord, InvoiceLineRecord, InvoiceRecord
from evhub.billing.plan_fees import PlanFees
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork
from tests.unit.billing.test_cdrs import PARTY, charge
from tests.unit.billing.test_invoices import ISSUED, ISSUER, NOVEMBER, SETTINGS

DECEMBER = invoices.Month(2026, 12)
JOINED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def subscriber(uow: UnitOfWork, email: str, plan: str, joined: datetime = JOINED) -> int:
    async with uow() as s:
        driver = await accounts.create_driver(s, "Noor", email, "visitor", joined)
        await plans.assign_plan(s, driver, plan)
        return driver.id


async def plan_of(uow: UnitOfWork, code: str) -> tuple[Decimal, Decimal]:
    async with uow() as s:
        plan = await plans.plan_by_code(s, code)
        return plan.monthly_fee, plan.vat_rate


async def invoice_lines(uow: UnitOfWork, driver_id: int, month: invoices.Month) -> list[object]:
    async with uow() as s:
        invoice = (
            await s.scalars(
                select(InvoiceRecord).where(
                    InvoiceRecord.driver_id == driver_id, InvoiceRecord.month == str(month)
                )
            )
        ).one()
        return [invoice, *await invoices.lines_of(s, invoice.id)]


async def test_a_night_pass_is_billed_in_full_for_the_month_it_was_taken(uow: UnitOfWork) -> None:
    driver = await subscriber(uow, "noor@example.org", "resident-night")
    fee, vat_fraction = await plan_of(uow, "resident-night")
    assert fee > 0

    assert len(await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))) == 1
    invoice, line = await invoice_lines(uow, driver, NOVEMBER)
    assert isinstance(invoice, InvoiceRecord) and isinstance(line, InvoiceLineRecord)
    vat = (fee * vat_fraction).quantize(CENTS)
    assert (line.source, line.source_ref) == ("plan_fee", f"plan:{driver}:2026-11")
    assert (line.quantity, line.unit, line.amount_excl_vat) == (1, "month", fee)
    assert (line.vat_rate, line.vat_amount, line.amount_incl_vat) == (
        vat_fraction * 100, vat, fee + vat,
    )  # fmt: skip
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        fee, vat, fee + vat,
    )  # fmt: skip
    assert "November 2026" in line.description


async def test_a_month_s_fee_is_offered_once_and_the_next_month_has_its_own(
    uow: UnitOfWork,
) -> None:
    driver = await subscriber(uow, "noor@example.org", "resident-night")
    source = PlanFees(SETTINGS)
    until = NOVEMBER.end(ISSUER.tz)
    async with uow() as s:
        offered = await source.lines(s, until, driver)
        assert [d.source_ref for d in offered] == [f"plan:{driver}:2026-11"]
    await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    async with uow() as s:
        assert await source.lines(s, until, driver) == []
        assert await source.lines(s, until, None) == []
        (december,) = await source.lines(s, DECEMBER.end(ISSUER.tz), None)
    assert december.source_ref == f"plan:{driver}:2026-12"
    assert december.at == datetime(2026, 12, 1, tzinfo=ISSUER.tz)
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []


async def test_free_plans_and_later_sign_ups_owe_no_fee(uow: UnitOfWork) -> None:
    await subscriber(uow, "visitor@example.org", "payg")
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # December 1st, 00:30 in Paris
    newcomer = await subscriber(uow, "late@example.org", "resident-night", late)
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []
    async with uow() as s:
        (line,) = await PlanFees(SETTINGS).lines(s, DECEMBER.end(ISSUER.tz), None)
    assert line.driver_id == newcomer


async def test_the_fee_and_the_charges_share_the_invoice_each_with_its_vat(
    uow: UnitOfWork,
) -> None:
    tx_id = await charge(uow)
    async with uow() as s:
        await cdrs.issue_for_transaction(s, ISSUED, PARTY, tx_id)
        cdr = (await s.scalars(select(CdrRecord))).one()
        assert cdr.driver_id is not None
        driver = await accounts.get_driver(s, cdr.driver_id)
        await plans.assign_plan(s, driver, "fleet")
    fee, vat_fraction = await plan_of(uow, "fleet")
    await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    invoice, plan_line, session_line = await invoice_lines(uow, driver.id, NOVEMBER)
    assert isinstance(invoice, InvoiceRecord)
    assert isinstance(plan_line, InvoiceLineRecord) and isinstance(session_line, InvoiceLineRecord)
    assert [plan_line.source, session_line.source] == ["plan_fee", "session"]
    assert plan_line.vat_amount == (fee * vat_fraction).quantize(CENTS)
    assert session_line.amount_incl_vat == cdr.total_incl_vat
    assert invoice.total_incl_vat == fee + plan_line.vat_amount + cdr.total_incl_vat
    assert invoice.total_vat == plan_line.vat_amount + session_line.vat_amount
