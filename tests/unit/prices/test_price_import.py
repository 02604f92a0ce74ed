"""Importing day-ahead prices (CSV, ENTSO-E A44) and the price signal the planner is given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from evhub.assets import service as assets
from evhub.db import create_engine, session_factory
from evhub.errors import InvalidInput, NotFound
from evhub.prices import service
from evhub.prices.entsoe import parse_publication_document, resolution_minutes
from evhub.prices.models import DayAheadPrice
from evhub.prices.points import PriceFormatError, PricePoint, parse_price_csv
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SAMPLE = Path(__file__).parent / "data" / "entsoe_a44_fr_sample.xml"
T0 = datetime(2018, 1, 1, tzinfo=UTC)


def test_csv_rows_become_utc_prices_in_file_order() -> None:
    text = "datetime_utc,price_eur_per_mwh\n2017-12-31T23:00:00Z,6.74\n2018-01-01T00:00:00Z,-4.5\n"

    points = parse_price_csv(text)

    assert points == [
        PricePoint(datetime(2017, 12, 31, 23, tzinfo=UTC), Decimal("6.74")),
        PricePoint(datetime(2018, 1, 1, tzinfo=UTC), Decimal("-4.5")),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "time,price\n2018-01-01T00:00:00Z,1\n",
        "datetime_utc,price_eur_per_mwh\n2018-01-01T00:00:00,1\n",
        "datetime_utc,price_eur_per_mwh\n2018-01-01T00:00:00Z,cheap\n",
        "datetime_utc,price_eur_per_mwh\n2018-01-01T00:00:00Z,NaN\n",
    ],
)
def test_a_bad_csv_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(PriceFormatError):
        parse_price_csv(text)


def test_the_shared_french_file_reads_whole() -> None:
    path = Path(__file__).parents[4] / "shared" / "data" / "prices" / "fr_day_ahead_2018_hourly.csv"
    if not path.exists():
        pytest.skip("the French price file is not beside the repository")
    points = parse_price_csv(path.read_text())
    assert len(points) == 8760
    assert points[0].starts_at == datetime(2017, 12, 31, 23, tzinfo=UTC)
    steps = {b.starts_at - a.starts_at for a, b in zip(points, points[1:], strict=False)}
    assert steps == {timedelta(hours=1)}


def test_entsoe_document_gives_hours_and_quarters_with_a03_gaps_filled() -> None:
    zone, points = parse_publication_document(SAMPLE.read_bytes())

    assert zone == "10YFR-RTE------C"
    hourly = [(p.starts_at, p.price_eur_per_mwh, p.resolution_minutes) for p in points[:2]]
    assert hourly == [
        (datetime(2025, 9, 29, 22, tzinfo=UTC), Decimal("61.20"), 60),
        (datetime(2025, 9, 29, 23, tzinfo=UTC), Decimal("-3.05"), 60),
    ]
    quarters = points[2:]
    assert [p.starts_at for p in quarters] == [
        datetime(2025, 9, 30, tzinfo=UTC) + timedelta(minutes=15 * k) for k in range(8)
    ]
    assert [str(p.price_eur_per_mwh) for p in quarters] == [
        "40.00", "40.00", "40.00", "42.50", "39.10", "39.10", "80.00", "95.75"
    ]  # fmt: skip
    assert {p.resolution_minutes for p in quarters} == {15}


def test_an_a01_gap_stays_a_gap() -> None:
    text = SAMPLE.read_text().replace("<curveType>A03</curveType>", "<curveType>A01</curveType>")

    _, points = parse_publication_document(text)

    assert len(points) == 2 + 5  # positions 2, 3 and 6 of the quarters are not invented


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<type>A44</type>", "<type>A65</type>"),
        ("<resolution>PT15M</resolution>", "<resolution>P1D</resolution>"),
        ("<position>8</position>", "<position>9</position>"),
        ("publicationdocument:7:3", "somethingelse:7:3"),
    ],
)
def test_a_document_that_is_not_day_ahead_prices_is_refused(old: str, new: str) -> None:
    with pytest.raises(PriceFormatError):
        parse_publication_document(SAMPLE.read_text().replace(old, new))


def test_resolutions_are_read_as_iso_durations() -> None:
    assert [resolution_minutes(d) for d in ("PT60M", "PT15M", "PT1H", "PT30M")] == [60, 15, 60, 30]


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def _site(uow: UnitOfWork) -> int:
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 200.0)
        return site.id


def _hours(*prices: str) -> list[PricePoint]:
    return [PricePoint(T0 + timedelta(hours=k), Decimal(p)) for k, p in enumerate(prices)]


async def test_imported_prices_with_the_grid_fee_become_the_slot_prices(uow: UnitOfWork) -> None:
    site_id = await _site(uow)
    async with uow() as s:
        assert await service.import_prices(s, NOW, _hours("40", "100", "-20"), site_id=site_id) == 3
        await service.set_energy_costs(
            s,
            NOW,
            site_id,
            grid_fee_per_kwh=Decimal("0.05"),
            demand_charge_per_kw_month=Decimal("8.5"),
        )
    async with uow() as s:
        signal = await service.price_signal(s, site_id, T0 + timedelta(minutes=30), 6, 15.0)

    # 00:30, 00:45 in hour 0; 01:00-01:45 in hour 1
    assert signal == [Decimal("0.09")] * 2 + [Decimal("0.15")] * 4


async def test_importing_again_replaces_and_keeps_one_price_per_hour(uow: UnitOfWork) -> None:
    site_id = await _site(uow)
    async with uow() as s:
        await service.import_prices(s, NOW, _hours("40", "100"), site_id=site_id)
    async with uow() as s:
        await service.import_prices(s, NOW, _hours("41", "101", "7"), site_id=site_id)
    async with uow() as s:
        rows = list(await s.scalars(select(DayAheadPrice).order_by(DayAheadPrice.starts_at)))
        signal = await service.price_signal(s, site_id, T0, 4, 60.0)
    assert [r.price_eur_per_mwh for r in rows] == [Decimal("41"), Decimal("101"), Decimal("7")]
    # after the last known hour the last price is kept
    assert signal == [Decimal("0.041"), Decimal("0.101"), Decimal("0.007"), Decimal("0.007")]


async def test_a_site_without_prices_uses_its_bidding_zone(uow: UnitOfWork) -> None:
    site_id = await _site(uow)
    zone, points = parse_publication_document(SAMPLE.read_bytes())
    async with uow() as s:
        await service.import_prices(s, NOW, points, bidding_zone=zone, source="entsoe")
        await service.set_energy_costs(
            s, NOW, site_id, grid_fee_per_kwh=Decimal(0), demand_charge_per_kw_month=Decimal(0),
            bidding_zone=zone,
        )  # fmt: skip
    async with uow() as s:
        signal = await service.price_signal(s, site_id, datetime(2025, 9, 30, tzinfo=UTC), 2, 60)
        empty = await service.price_signal(s, site_id, datetime(2026, 9, 30, tzinfo=UTC), 2, 60)

    assert signal == [Decimal("0.04"), Decimal("0.0391")]  # each hour starts on a quarter
    assert empty == []


async def test_prices_belong_to_a_site_or_a_zone_and_a_site_must_exist(uow: UnitOfWork) -> None:
    site_id = await _site(uow)
    async with uow() as s:
        with pytest.raises(InvalidInput):
            await service.import_prices(s, NOW, _hours("1"), site_id=site_id, bidding_zone="Z")
        with pytest.raises(NotFound):
            await service.import_prices(s, NOW, _hours("1"), site_id=site_id + 1)
    with pytest.raises(IntegrityError):  # the database refuses a price of neither
        async with uow() as s:
            s.add(
                DayAheadPrice(
                    starts_at=T0,
                    resolution_minutes=60,
                    price_eur_per_mwh=Decimal(1),
                    currency="EUR",
                    source="csv",
                    imported_at=NOW,
                )
            )
            await s.flush()
