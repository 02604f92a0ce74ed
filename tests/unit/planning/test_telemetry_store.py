"""Connected cars' tokens and reports as stored: a digest only, a rotation that ends the old
token, and a report measured before the stored one ignored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from evhub.accounts import service, vehicles
from evhub.db import create_engine, session_factory
from evhub.errors import InvalidInput
from evhub.events.models import OutboxEvent
from evhub.planning import telemetry
from evhub.planning.models import VehicleTelemetry, VehicleTelemetryKey
from evhub.planning.telemetry import Reading, TelemetryRefused
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def _car(uow: UnitOfWork) -> int:
    async with uow() as s:
        model = (await vehicles.catalogue(s))[0]
        driver = await service.create_driver(s, "Ann", "ann@example.org", "visitor", NOW)
        return (await vehicles.add_vehicle(s, driver.id, model.id, NOW)).id


async def test_a_token_is_stored_as_a_digest_and_a_new_one_ends_the_old(uow: UnitOfWork) -> None:
    car = await _car(uow)
    async with uow() as s:
        first = await telemetry.issue_token(s, car, "operator", NOW)
    async with uow() as s:
        stored = await s.get(VehicleTelemetryKey, car)
        assert stored is not None and first not in stored.token_hash
        await telemetry.check_token(s, car, first)
        second = await telemetry.issue_token(s, car, "driver", NOW)
    async with uow() as s:
        await telemetry.check_token(s, car, second)
        for wrong in (first, None, "", second + "x"):
            with pytest.raises(TelemetryRefused):
                await telemetry.check_token(s, car, wrong)
        with pytest.raises(TelemetryRefused):  # a car with no token at all
            await telemetry.check_token(s, car + 1, second)


async def test_a_report_measured_before_the_stored_one_is_ignored(uow: UnitOfWork) -> None:
    car = await _car(uow)
    later = Reading(NOW - timedelta(minutes=1), 55.0, True, 80.0, NOW + timedelta(hours=8))
    earlier = Reading(NOW - timedelta(minutes=5), 50.0, False)
    async with uow() as s:
        assert (await telemetry.record(s, car, later, NOW)).stored
    async with uow() as s:
        assert not (await telemetry.record(s, car, earlier, NOW)).stored
        assert not (await telemetry.record(s, car, later, NOW)).stored  # a retry: no change
    async with uow() as s:
        row = await s.get(VehicleTelemetry, car)
        assert row is not None
        assert (row.soc_pct, row.plugged_in, row.target_soc_pct) == (55.0, True, 80.0)
        assert row.transaction_pk is None  # no charge of the driver runs
        kinds = list(await s.scalars(select(OutboxEvent.kind)))
        assert kinds.count("vehicle.telemetry") == 1


@pytest.mark.parametrize(
    ("reading", "reason"),
    [
        (Reading(NOW + timedelta(minutes=6), 50.0, True), "future"),
        (Reading(NOW, 50.0, True, None, NOW - timedelta(minutes=1)), "departure_at"),
    ],
)
async def test_a_report_from_the_future_or_leaving_in_the_past_is_refused(
    uow: UnitOfWork, reading: Reading, reason: str
) -> None:
    car = await _car(uow)
    async with uow() as s:
        with pytest.raises(InvalidInput, match=reason):
            await telemetry.record(s, car, reading, NOW)
