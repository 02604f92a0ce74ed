"""Tariffs in the database through the service: stored with their parsed fields and events,
replaced whole, and looked up for a charge; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.billing import service
from evhub.billing.models import TariffRecord
from evhub.billing.tariff import TariffBody
from evhub.db import create_engine, session_factory
from evhub.errors import InvalidInput, NotFound
from evhub.events.models import OutboxEvent
from evhub.uow import UnitOfWork
from tests.unit.billing.sessions import example

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PARTY = service.Party("FR", "EVH")
IDENTITY = ("id", "country_code", "party_id", "last_updated")


def body(name: str) -> TariffBody:
    return TariffBody.model_validate({k: v for k, v in example(name).items() if k not in IDENTITY})


async def events(s: AsyncSession) -> list[tuple[str, dict[str, object]]]:
    rows = await s.execute(select(OutboxEvent.kind, OutboxEvent.payload).order_by(OutboxEvent.id))
    return [(kind, json.loads(payload)) for kind, payload in rows]


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def test_a_tariff_is_stored_with_its_parsed_fields_and_event(uow: UnitOfWork) -> None:
    async with uow() as s:
        created = await service.create_tariff(
            s, NOW, PARTY, body("tariff_6_025kwh_start_max_price")
        )
    async with uow() as s:
        assert [kind for kind, _ in await events(s)] == ["tariff.created"]
        record = (await s.execute(select(TariffRecord))).scalar_one()
        assert record.id == created.id and record.currency == "EUR"
        assert (record.max_price_excl_vat, record.max_price_incl_vat) == (Decimal(10), Decimal(11))
        assert record.min_price_excl_vat is None
        assert record.end_date_time == datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC)
        assert await service.get_tariff(s, created.id) == created
    assert created.last_updated == NOW
    assert created.elements[0].price_components[1].price == Decimal("0.25")


async def test_a_replaced_tariff_keeps_its_id_and_moves_last_updated(uow: UnitOfWork) -> None:
    later = NOW + timedelta(days=3)
    async with uow() as s:
        created = await service.create_tariff(s, NOW, PARTY, body("tariff_8_simple_025kwh"))
    async with uow() as s:
        replaced = await service.replace_tariff(
            s, later, PARTY, created.id, body("tariff_1_simple_2hour")
        )
    async with uow() as s:
        assert [kind for kind, _ in await events(s)] == ["tariff.created", "tariff.updated"]
        assert await service.get_tariff(s, created.id) == replaced
        assert [t.id for t in await service.list_tariffs(s)] == [created.id]
    assert replaced.last_updated == later
    assert replaced.elements[0].price_components[0].type == "TIME"
    async with uow() as s:
        with pytest.raises(NotFound):
            await service.replace_tariff(s, later, PARTY, "missing", body("tariff_1_simple_2hour"))


async def test_a_charge_is_priced_by_its_site_public_tariff(uow: UnitOfWork) -> None:
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 100.0)
        bare = await assets.create_site(s, NOW, "Quai 10", "Europe/Paris", 100.0)
        tariff = await service.create_tariff(s, NOW, PARTY, body("tariff_9_025kwh_start"))
    async with uow() as s:
        await assets.update_site(s, site.id, NOW, tariff_id=tariff.id)
    async with uow() as s:
        assert (await events(s))[-1] == (
            "site.tariff_changed",
            {"site_id": site.id, "tariff_id": tariff.id},
        )
        evse = service.EvseRef("CP-1", 1)
        assert await service.tariff_for(s, site.id, evse, driver=7) == tariff
        assert await service.tariff_for(s, bare.id) is None
        assert await service.tariff_for(s, site.id, at=NOW) == tariff
        with pytest.raises(NotFound):
            await service.tariff_for(s, 999)


async def test_a_tariff_past_its_end_prices_nothing(uow: UnitOfWork) -> None:
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 100.0)
        ending = await service.create_tariff(s, NOW, PARTY, body("tariff_6_025kwh_start_max_price"))
        await assets.update_site(s, site.id, NOW, tariff_id=ending.id)
    async with uow() as s:
        assert ending.end_date_time is not None
        before = ending.end_date_time - timedelta(seconds=1)
        assert await service.tariff_for(s, site.id, at=before) == ending
        assert await service.tariff_for(s, site.id, at=ending.end_date_time) is None


async def test_a_site_cannot_take_an_unknown_tariff(uow: UnitOfWork) -> None:
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 100.0)
    with pytest.raises(InvalidInput, match="nope"):
        async with uow() as s:
            await assets.update_site(s, site.id, NOW, tariff_id="nope")
    async with uow() as s:
        assert (await assets.get_site(s, site.id)).tariff_id is None
