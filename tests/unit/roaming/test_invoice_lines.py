"""Roaming CDRs received for evhub's drivers go on their invoices at the plan's roaming price:
billed once, credits negative, other parties' tokens not billed; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.billing.models import InvoiceLineRecord, InvoiceRecord
from evhub.cli import app
from evhub.db import create_engine, session_factory
from evhub.errors import InvalidInput
from evhub.roaming import partners, plan_prices
from evhub.roaming.models import RemoteObject
from evhub.roaming.wire import Role, format_timestamp
from evhub.uow import UnitOfWork
from tests.unit.billing.test_invoices import ISSUED, SETTINGS

ISSUER = invoices.issuer_of(SETTINGS)
NOVEMBER, DECEMBER = invoices.Month(2026, 11), invoices.Month(2026, 12)
CHARGED = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def _driver(uow: UnitOfWork, uid: str, plan: str | None) -> int:
    async with uow() as s:
        driver = await accounts.create_driver(s, f"Driver {uid}", None, "visitor", ISSUED)
        if plan is not None:
            await plans.assign_plan(s, driver, plan)
        await accounts.create_token(s, uid, "ISO14443", "Accepted", ISSUED, driver.id)
        return driver.id


def _cdr(
    cdr_id: str, uid: str, excl: float, at: datetime = CHARGED, **extra: Any
) -> dict[str, Any]:
    """A CDR as a partner CPO (DE*CPO) posts it for a token of evhub (FR*EVH)."""
    return {
        "country_code": "DE", "party_id": "CPO", "id": cdr_id,
        "start_date_time": format_timestamp(at - timedelta(hours=1)),
        "end_date_time": format_timestamp(at),
        "cdr_token": {"country_code": "FR", "party_id": "EVH", "uid": uid, "type": "RFID",
                      "contract_id": "FR-EVH-C1"},
        "cdr_location": {"address": "Hauptstrasse 1", "city": "Berlin"},
        "currency": "EUR", "total_cost": {"excl_vat": excl, "incl_vat": round(excl * 1.19, 2)},
        "total_energy": 12.5, "total_time": 1.0, "last_updated": format_timestamp(at),
    } | extra  # fmt: skip


async def _receive(uow: UnitOfWork, *cdrs: dict[str, Any]) -> None:
    """Store CDRs as the CDRs receiver does (OCPI 2.2.1 §10.2.2.2)."""
    async with uow() as s:
        existing = await partners.list_all(s)
        if not existing:
            await partners.invite(s, "Netz", "DE", "CPO", Role.CPO, ISSUED)
            existing = await partners.list_all(s)
        for cdr in cdrs:
            s.add(RemoteObject(partner_id=existing[0].id, module="cdrs", country_code="DE",
                               party_id="CPO", object_id=cdr["id"], data=cdr,
                               last_updated=CHARGED, pulled_at=ISSUED))  # fmt: skip


async def _lines(uow: UnitOfWork, driver_id: int) -> list[InvoiceLineRecord]:
    """The driver's invoiced roaming lines (plan fees beside them are not ours)."""
    async with uow() as s:
        invoice_ids = select(InvoiceRecord.id).where(InvoiceRecord.driver_id == driver_id)
        rows = await s.scalars(
            select(InvoiceLineRecord)
            .where(InvoiceLineRecord.invoice_id.in_(invoice_ids))
            .where(InvoiceLineRecord.source == "roaming")
            .order_by(InvoiceLineRecord.id)
        )
        return list(rows)


async def test_a_roaming_cdr_is_billed_once_at_the_plans_markup_and_fee(uow: UnitOfWork) -> None:
    driver = await _driver(uow, "04AA", "resident-night")
    async with uow() as s:
        await plan_prices.set_price(s, "resident-night", Decimal("0.15"), Decimal("0.5"), ISSUED)
    await _receive(uow, _cdr("CDR-1", "04AA", 1.05))
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == [
        "EVH-2026-000001"
    ]
    (line,) = await _lines(uow, driver)
    # 1.05 x 1.15 = 1.2075, to the cent 1.21, and the 0.50 fee; the plan's 20 % VAT.
    assert (line.source, line.source_ref) == ("roaming", "cdr:DE/CPO/CDR-1")
    assert (line.amount_excl_vat, line.vat_rate, line.vat_amount, line.amount_incl_vat) == (
        Decimal("1.71"), Decimal("20.00"), Decimal("0.34"), Decimal("2.05"),
    )  # fmt: skip
    assert line.quantity == Decimal("12.5") and line.unit == "kWh"
    assert "Roaming charge DE*CPO Hauptstrasse 1, Berlin 2026-11-20 17:00 UTC" in line.description
    # Billed once: neither a rerun of the month nor the next month bills it again.
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []
    await invoices.run_month(uow, ISSUED, ISSUER, DECEMBER, sources(SETTINGS))  # the plan's fee
    assert [x.id for x in await _lines(uow, driver)] == [line.id]


async def test_a_credit_cdr_gives_back_what_its_cdr_was_billed(uow: UnitOfWork) -> None:
    driver = await _driver(uow, "04AA", "resident-night")
    async with uow() as s:
        await plan_prices.set_price(s, "resident-night", Decimal("0.10"), Decimal("1"), ISSUED)
    await _receive(uow, _cdr("CDR-1", "04AA", 10.0))
    await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    # The plan's price changes, then the CPO credits the CDR in December (§10.3.1).
    async with uow() as s:
        await plan_prices.set_price(s, "resident-night", Decimal("0.50"), Decimal("0"), ISSUED)
    credit = _cdr("CDR-1-C", "04AA", -10.0, CHARGED + timedelta(days=15), credit=True,
                  credit_reference_id="CDR-1", total_energy=-12.5)  # fmt: skip
    await _receive(uow, credit)
    await invoices.run_month(uow, ISSUED, ISSUER, DECEMBER, sources(SETTINGS))
    billed, credited = await _lines(uow, driver)
    assert billed.amount_excl_vat == Decimal("12.00")  # 10 x 1.10 + 1 fee
    assert (credited.source_ref, credited.amount_excl_vat, credited.vat_amount) == (
        "cdr:DE/CPO/CDR-1-C", Decimal("-12.00"), Decimal("-2.40"),
    )  # fmt: skip
    assert credited.quantity == Decimal("-12.5")
    assert credited.description.startswith("Credit of roaming charge")


async def test_a_cdr_and_its_credit_in_one_month_cancel_out(uow: UnitOfWork) -> None:
    driver = await _driver(uow, "04AA", "resident-night")
    async with uow() as s:
        await plan_prices.set_price(s, "resident-night", Decimal("0.2"), Decimal("0.3"), ISSUED)
    credit = _cdr("CDR-1-C", "04AA", -4.33, CHARGED + timedelta(hours=2), credit=True,
                  credit_reference_id="CDR-1")  # fmt: skip
    await _receive(uow, _cdr("CDR-1", "04AA", 4.33), credit)
    await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    lines = await _lines(uow, driver)
    assert [x.amount_excl_vat for x in lines] == [
        Decimal("5.50"), Decimal("-5.50"),  # 4.33 x 1.2 = 5.196 -> 5.20, + 0.30
    ]  # fmt: skip
    assert sum(x.amount_incl_vat for x in lines) == Decimal(0)


async def test_only_evhubs_drivers_tokens_are_billed_in_their_month(uow: UnitOfWork) -> None:
    ours = await _driver(uow, "04AA", None)  # no plan: the cost passes through, default VAT
    async with uow() as s:
        await accounts.create_token(s, "04BB", "ISO14443", "Accepted", ISSUED)  # nobody's
    other_party = _cdr("CDR-2", "04AA", 3.0)
    other_party["cdr_token"] = other_party["cdr_token"] | {"party_id": "XYZ"}
    late = _cdr("CDR-4", "04AA", 2.0, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    broken = _cdr("CDR-5", "04AA", 1.0)
    del broken["total_cost"]  # cannot be priced: left aside, the invoice goes out without it
    not_a_number = _cdr("CDR-6", "04AA", 1.0, total_energy="lots")
    await _receive(uow, _cdr("CDR-1", "04AA", 1.99), other_party, _cdr("CDR-3", "04BB", 5.0),
                   late, broken, not_a_number)  # fmt: skip
    assert len(await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))) == 1
    (line,) = await _lines(uow, ours)
    assert (line.source_ref, line.amount_excl_vat, line.vat_rate) == (
        "cdr:DE/CPO/CDR-1", Decimal("1.99"), Decimal("20.00"),
    )  # fmt: skip
    await invoices.run_month(uow, ISSUED, ISSUER, DECEMBER, sources(SETTINGS))
    assert [x.source_ref for x in await _lines(uow, ours)] == [
        "cdr:DE/CPO/CDR-1", "cdr:DE/CPO/CDR-4",
    ]  # fmt: skip


async def test_a_roaming_price_is_a_fraction_and_a_fee_not_below_zero(uow: UnitOfWork) -> None:
    async with uow() as s:
        with pytest.raises(InvalidInput):
            await plan_prices.set_price(s, "payg", Decimal("-0.1"), Decimal(0), ISSUED)
        with pytest.raises(InvalidInput):
            await plan_prices.set_price(s, "payg", Decimal("0.1"), Decimal("-1"), ISSUED)
        row = await plan_prices.set_price(s, "payg", Decimal("0.1"), Decimal("0.255"), ISSUED)
    assert (row.session_fee, row.currency) == (Decimal("0.26"), "EUR")


async def test_an_operator_sets_a_plans_roaming_price_from_the_command_line(
    database_url: str, uow: UnitOfWork
) -> None:
    env = {"EVHUB_DATABASE_URL": database_url}
    args = ["roaming", "plan-price", "fleet", "--markup", "0.2", "--fee", "0.40"]
    done = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
    assert done.exit_code == 0, done.output
    assert "plan fleet: partner's cost + 20 %," in done.output and "0.40 EUR" in done.output
    refused = await asyncio.to_thread(CliRunner().invoke, app, [*args[:3], "--markup", "-1"],
                                      env=env)  # fmt: skip
    assert refused.exit_code == 2 and "fraction" in refused.output
    driver = await _driver(uow, "04AA", "fleet")
    await _receive(uow, _cdr("CDR-1", "04AA", 2.0))
    await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    (line,) = await _lines(uow, driver)
    assert line.amount_excl_vat == Decimal("2.80")  # 2.00 x 1.2 + 0.40
