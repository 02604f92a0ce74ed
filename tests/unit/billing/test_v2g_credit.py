"""What vehicle-to-grid earned goes on the driver's invoice: a negative line per charge that fed
the grid, its energy from the meter's export register, its amount exact and billed once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.billing.models import InvoiceLineRecord, InvoiceRecord
from evhub.billing.v2g_credit import EXPORT_REGISTER, V2gCredits, fed_back
from evhub.charging import service as charging
from evhub.charging.samples import ENERGY_REGISTER, Sample
from evhub.db import create_engine, session_factory
from evhub.settings import Settings
from evhub.uow import UnitOfWork
from tests.unit.billing.test_invoices import ISSUED, ISSUER, NOVEMBER, SETTINGS

T0 = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def _hub(uow: UnitOfWork) -> int:
    async with uow() as s:
        site = await assets.create_site(s, T0, "Quai 9", "Europe/Paris", 100.0)
        await assets.create_station(s, T0, "CP-21", site.id, "secret-password-1")
        driver = await accounts.create_driver(s, "Ada", "ada@example.org", "resident", T0)
        await accounts.create_token(s, "TOK-ADA", "ISO14443", "Accepted", T0, driver.id)
        return driver.id


def _export(at: datetime, wh: int, context: str = "Sample.Periodic") -> Sample:
    return Sample(at, EXPORT_REGISTER, float(wh), "Wh", "", context)


async def _charge(
    uow: UnitOfWork, n: int, exports: list[tuple[int, int, str]], token: str | None = "TOK-ADA"
) -> int:
    """Charge `n` (a day after the one before) with its export readings: (minutes, Wh, context)."""
    start = T0 + timedelta(days=n)
    ocpp_id = f"tx-{n}"
    samples = tuple(_export(start + timedelta(minutes=m), wh, c) for m, wh, c in exports)
    async with uow() as s:
        begin = charging.TransactionStart(
            "CP-21", 1, 1, start, 1000 * n, token, "2.1", station_transaction_id=ocpp_id
        )
        tx = (await charging.open_transaction(s, start, begin)).transaction
        step = charging.Step(1, "Updated", "MeterValuePeriodic", start + timedelta(hours=1))
        energy = Sample(start + timedelta(hours=1), ENERGY_REGISTER, 1000.0 * n + 500, "Wh")
        update = charging.TransactionUpdate("CP-21", ocpp_id, step, samples=(energy, *samples))
        await charging.update_transaction(s, start, update)
        end = start + timedelta(hours=12)
        stop = charging.TransactionStop(
            "CP-21", ocpp_id, charging.Step(2, "Ended", "EVDeparted", end), None, "Local"
        )
        await charging.close_transaction(s, end, stop)
        return tx.id


async def test_the_export_of_a_charge_is_credited_exactly_and_billed_once(
    uow: UnitOfWork,
) -> None:
    driver = await _hub(uow)
    fed = await _charge(
        uow,
        0,
        [
            (0, 1000, "Transaction.Begin"),
            (60, 2200, "Sample.Periodic"),
            (120, 4456, "Sample.Periodic"),
        ],
    )
    await _charge(uow, 1, [])  # a charge-only night: no line
    async with uow() as s:
        (line,) = await V2gCredits(SETTINGS).lines(s, UNTIL, driver)
    assert (line.source, line.source_ref, line.unit) == ("v2g_credit", f"tx:{fed}", "kWh")
    # 3.456 kWh at 0.12 EUR: 0.41472, credited as -0.41 with its VAT at the invoice's rate.
    assert (line.quantity, line.amount_excl_vat) == (Decimal("-3.456"), Decimal("-0.41"))
    assert (line.vat_rate, line.vat_amount, line.currency) == (Decimal(20), Decimal("-0.08"), "EUR")
    assert "3.456 kWh fed back at 0.12 EUR/kWh" in line.description

    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == [
        "EVH-2026-000001"
    ]
    assert await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []
    async with uow() as s:
        invoice = (await s.scalars(select(InvoiceRecord))).one()
        stored = (await s.scalars(select(InvoiceLineRecord))).all()
        assert await V2gCredits(SETTINGS).lines(s, UNTIL, driver) == []  # billed: not offered
    assert [(x.source, x.amount_excl_vat, x.vat_amount) for x in stored] == [
        ("v2g_credit", Decimal("-0.41"), Decimal("-0.08"))
    ]
    assert (invoice.total_excl_vat, invoice.total_incl_vat) == (Decimal("-0.41"), Decimal("-0.49"))


async def test_the_register_at_the_start_without_a_begin_reading(uow: UnitOfWork) -> None:
    await _hub(uow)
    # The first charge at the EVSE: its first reading is the start (nothing unmeasured paid).
    first = await _charge(uow, 0, [(30, 200, "Sample.Periodic"), (90, 700, "Sample.Periodic")])
    # The next one starts where the register was left by the one before.
    second = await _charge(uow, 1, [(30, 1500, "Sample.Periodic"), (90, 2500, "Sample.Periodic")])
    roaming = await _charge(
        uow, 2, [(0, 2500, "Transaction.Begin"), (60, 3000, "Sample.Periodic")], token=None
    )
    async with uow() as s:
        exported = {
            f.transaction_pk: (f.exported_wh, f.driver_id) for f in await fed_back(s, UNTIL)
        }
        lines = await V2gCredits(SETTINGS).lines(s, UNTIL, None)
    assert exported[first][0] == 500 and exported[second][0] == 1800
    assert exported[roaming] == (500, None)
    # A charge with no driver of ours (a roaming token) is not credited here.
    assert sorted(x.source_ref for x in lines) == sorted([f"tx:{first}", f"tx:{second}"])


async def test_the_price_per_kwh_is_a_setting(uow: UnitOfWork) -> None:
    driver = await _hub(uow)
    await _charge(uow, 0, [(0, 0, "Transaction.Begin"), (60, 10_000, "Sample.Periodic")])
    dearer = Settings(v2g_credit_per_kwh=Decimal("0.1875"))
    async with uow() as s:
        (line,) = await V2gCredits(dearer).lines(s, UNTIL, driver)
    assert line.amount_excl_vat == Decimal("-1.88")  # 10 kWh x 0.1875 = 1.875, half up
