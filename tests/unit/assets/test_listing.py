"""The station list's Core read gives what the ORM read and the route's schema gave."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from evhub.assets import listing
from evhub.assets import service as assets
from evhub.assets.schemas import StationOut
from evhub.assets.service import EvseSpec
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    async with uow() as s:
        one = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 200.0)
        two = await assets.create_site(s, NOW, "Halle", "Europe/Paris", 100.0)
        for n in range(7):
            evses = [EvseSpec(e, "DC" if e == 2 else "AC", connectors=1 + (n + e) % 3)
                     for e in range(1, n % 3 + 1)]  # fmt: skip
            await assets.create_station(s, NOW, f"CP-{n:02d}", (one, two)[n % 2].id,
                                        "station-password-0001", evses)  # fmt: skip
        await assets.record_boot(s, "CP-03", NOW, 300, vendor="V", model="M", serial_number="S")
        await assets.record_status(s, "CP-04", 1, 2, "Charging", NOW - timedelta(minutes=1), NOW)
    yield uow
    await engine.dispose()


async def _through_the_orm(uow: UnitOfWork, site_id: int | None) -> list[dict[str, object]]:
    async with uow() as s:
        stations = await assets.list_stations(s, site_id)
        return [StationOut.model_validate(x).model_dump(mode="json") for x in stations]


@pytest.mark.parametrize(("limit", "offset"), [(100, 0), (3, 0), (3, 3), (3, 6), (5, 10)])
async def test_a_page_is_the_slice_of_what_the_orm_read_gives(
    uow: UnitOfWork, limit: int, offset: int
) -> None:
    expected = await _through_the_orm(uow, None)
    async with uow() as s:
        rows, total = await listing.station_page(s, None, limit, offset)

    assert total == 7
    assert listing.STATION_LIST.dump_python(rows, mode="json") == expected[offset : offset + limit]
    assert "Charging" in str(expected)  # a reported status is among what is compared


async def test_a_site_filter_keeps_its_stations_only(uow: UnitOfWork) -> None:
    async with uow() as s:
        site_id = (await assets.list_stations(s))[1].site_id
    expected = await _through_the_orm(uow, site_id)
    async with uow() as s:
        rows, total = await listing.station_page(s, site_id, 100, 0)

    assert total == len(expected) == 3
    assert listing.STATION_LIST.dump_python(rows, mode="json") == expected
