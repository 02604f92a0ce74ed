"""What a driver is shown before and while charging: the cost so far priced by the same
engine as the CDR (equal to it once the charge ended), and the tariff that would price the
driver's charge (the plan's before the site's); on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.billing import cdrs, estimates, service
from evhub.billing.models import CdrRecord
from evhub.billing.tariff import TariffBody
from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork
from tests.unit.billing.test_cdrs import PARTY, T0, TARIFF, charge, register

PER_KWH = Decimal(TARIFF["elements"][0]["price_components"][0]["price"])  # type: ignore[index]
PER_HOUR_PARKED = Decimal(TARIFF["elements"][1]["price_components"][0]["price"])  # type: ignore[index]
NIGHT = {
    "currency": "EUR",
    "tariff_alt_text": [{"language": "en", "text": "0.15 EUR/kWh at night, 0.30 by day"}],
    "elements": [{"price_components": [{"type": "ENERGY", "price": "0.15", "step_size": 1}]}],
}


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def test_the_estimate_of_an_ended_charge_is_its_cdr(uow: UnitOfWork) -> None:
    tx_id = await charge(uow)
    async with uow() as s:
        cdr = await cdrs.issue_for_transaction(s, T0 + timedelta(hours=2), PARTY, tx_id)
        tx = await charging.get_transaction(s, tx_id)
        estimate = await estimates.cost_so_far(s, tx, cdr.driver_id, T0 + timedelta(hours=5))
    assert estimate is not None
    assert (estimate.cost.excl_vat, estimate.cost.incl_vat) == (
        cdr.total_excl_vat, cdr.total_incl_vat,
    )  # fmt: skip
    assert estimate.energy_kwh == cdr.total_energy_kwh and estimate.until == tx.stopped_at


async def test_the_cost_so_far_is_the_charge_up_to_its_latest_reading(uow: UnitOfWork) -> None:
    async with uow() as s:
        tariff = await service.create_tariff(s, T0, PARTY, TariffBody.model_validate(TARIFF))
        site = await assets.create_site(s, T0, "Quai 9", "Europe/Paris", 100.0)
        await assets.update_site(s, site.id, T0, tariff_id=tariff.id)
        await assets.create_station(s, T0, "CP-1", site.id, "secret-password-1")
        driver = await accounts.create_driver(s, "Ada", "ada@example.org", "visitor", T0)
        await accounts.create_token(s, "TOK-1", "ISO14443", "Accepted", T0, driver.id)
    async with uow() as s:
        start = charging.TransactionStart(
            "CP-1", 1, 1, T0, 1000, "TOK-1", "2.0.1", station_transaction_id="tx-1"
        )
        await charging.open_transaction(s, T0, start)
        step = charging.Step(1, "Updated", "MeterValuePeriodic", T0 + timedelta(minutes=30))
        update = charging.TransactionUpdate("CP-1", "tx-1", step, samples=(register(30, 6000),))
        await charging.update_transaction(s, T0, update)
    async with uow() as s:
        running = (await s.scalars(select(Transaction))).one()
        assert running.state == "active"
        now = T0 + timedelta(minutes=30)
        estimate = await estimates.cost_so_far(s, running, driver.id, now)
        assert not (await s.scalars(select(CdrRecord))).all()
    assert estimate is not None and estimate.energy_kwh == Decimal(5)
    assert estimate.cost.excl_vat == 5 * PER_KWH
    assert estimate.cost.incl_vat == 5 * PER_KWH * Decimal("1.2")

    # The station meters on while the driver's page reads: a reading stored after the
    # transaction was read does not make the cost run ahead of the energy shown with it.
    seen = Transaction(id=running.id, station_id="CP-1", evse_id=1, state="active",
                       started_at=T0, meter_start_wh=1000, meter_last_wh=6000)  # fmt: skip
    async with uow() as s:
        step = charging.Step(2, "Updated", "MeterValuePeriodic", T0 + timedelta(minutes=45))
        later = charging.TransactionUpdate("CP-1", "tx-1", step, samples=(register(45, 9000),))
        await charging.update_transaction(s, T0, later)
    async with uow() as s:
        again = await estimates.cost_so_far(s, seen, driver.id, T0 + timedelta(minutes=46))
    parked = (PER_HOUR_PARKED * 16 / 60).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    assert again is not None and again.energy_kwh == Decimal(5)
    assert again.cost.excl_vat == 5 * PER_KWH + parked  # 16 minutes since the last reading


async def test_a_driver_s_plan_tariff_prices_before_the_site_s(uow: UnitOfWork) -> None:
    async with uow() as s:
        public = await service.create_tariff(s, T0, PARTY, TariffBody.model_validate(TARIFF))
        night = await service.create_tariff(s, T0, PARTY, TariffBody.model_validate(NIGHT))
        site = await assets.create_site(s, T0, "Quai 9", "Europe/Paris", 100.0)
        await assets.update_site(s, site.id, T0, tariff_id=public.id)
        visitor = await accounts.create_driver(s, "Ada", "ada@example.org", "visitor", T0)
        resident = await accounts.create_driver(s, "Noor", "noor@example.org", "visitor", T0)
        await plans.assign_plan(s, resident, "resident-night")
        await plans.update_plan(s, "resident-night", {"tariff_id": night.id})
        seen_by_visitor = await estimates.driver_tariff(s, site.id, visitor.id, T0)
        seen_by_resident = await estimates.driver_tariff(s, site.id, resident.id, T0)
    assert seen_by_visitor is not None and seen_by_visitor.id == public.id
    assert seen_by_resident is not None and seen_by_resident.id == night.id
    assert estimates.describe(seen_by_resident) == [NIGHT["tariff_alt_text"][0]["text"]]  # type: ignore[index]
    assert estimates.describe(seen_by_visitor) == [
        "0.30 EUR/kWh incl. 20 % VAT", "2.40 EUR/h parked incl. 20 % VAT",
    ]  # fmt: skip
