"""Plans: the seeded three, their money with currency and VAT, and the tariff of a plan
pricing its drivers' charges before the site's public tariff."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from evhub.accounts import plans, service
from evhub.assets import service as assets
from evhub.billing import service as billing
from evhub.billing.tariff import TariffBody
from evhub.errors import NotFound
from evhub.uow import UnitOfWork
from tests.unit.accounts.conftest import NOW

NIGHT_TARIFF = Path(__file__).resolve().parents[3] / "docs/examples/resident-night-tariff.json"
PARTY = billing.Party("FR", "EVH")


async def test_three_plans_are_offered_with_fee_currency_and_vat(uow: UnitOfWork) -> None:
    async with uow() as s:
        offered = {p.code: p for p in await plans.list_plans(s)}
    assert set(offered) == {"payg", "resident-night", "fleet"}
    night = offered["resident-night"]
    assert (night.monthly_fee, night.currency, night.vat_rate) == (
        Decimal("19.00"), "EUR", Decimal("0.2000"),
    )  # fmt: skip
    assert isinstance(night.monthly_fee, Decimal) and night.user_group == "resident"
    assert offered["payg"].monthly_fee == Decimal("0.00")


async def test_taking_a_plan_puts_the_driver_in_its_group(uow: UnitOfWork) -> None:
    async with uow() as s:
        driver = await service.create_driver(s, "Ada", "ada@example.org", "visitor", NOW)
        await plans.assign_plan(s, driver, "resident-night")
    async with uow() as s:
        again = await service.get_driver(s, driver.id)
        assert again.user_group == "resident"
        with pytest.raises(NotFound):
            await plans.assign_plan(s, again, "platinum")


async def test_the_night_pass_tariff_prices_its_drivers_before_the_site_tariff(
    uow: UnitOfWork,
) -> None:
    body = TariffBody.model_validate(json.loads(NIGHT_TARIFF.read_text()))
    async with uow() as s:
        public = await billing.create_tariff(s, NOW, PARTY, body.model_copy(update={}))
        night = await billing.create_tariff(s, NOW, PARTY, body)
        site = await assets.create_site(s, NOW, "Hub", "Europe/Paris", 100.0)
        await assets.update_site(s, site.id, NOW, tariff_id=public.id)
        resident = await service.create_driver(s, "Ada", "ada@example.org", "visitor", NOW)
        visitor = await service.create_driver(s, "Bo", "bo@example.org", "visitor", NOW)
        await plans.assign_plan(s, resident, "resident-night")
        await plans.assign_plan(s, visitor, "payg")
    async with uow() as s:
        # Before the plan has its tariff, the site's prices its drivers.
        assert (await billing.tariff_for(s, site.id, driver=resident.id)) == public
        await plans.update_plan(s, "resident-night", {"tariff_id": night.id})
    async with uow() as s:
        assert await plans.plan_tariff_id(s, resident.id) == night.id
        assert (await billing.tariff_for(s, site.id, driver=resident.id)) == night
        assert (await billing.tariff_for(s, site.id, driver=visitor.id)) == public
        assert (await billing.tariff_for(s, site.id, driver=None)) == public
    async with uow() as s:
        with pytest.raises(NotFound, match="tariff"):
            await plans.update_plan(s, "resident-night", {"tariff_id": "no-such-tariff"})
