"""A bidirectional car on a 2.1 station that reports no SoC: its own V2X bounds are placed at the
SoC its maker's cloud reported, and the planner discharges it down to the driver's floor from
that SoC; without a report, it only charges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tests.unit.planning.test_telemetry_store import uow

from evhub.accounts import service as accounts
from evhub.accounts import vehicles
from evhub.assets import service as assets
from evhub.assets.service import EvseSpec
from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.planning import demand, telemetry, v2x_settings
from evhub.planning.models import V2xNeed
from evhub.planning.telemetry import Reading
from evhub.planning.v2x_needs import CarV2x
from evhub.planning.vehicle_needs import VehicleNeed, declare_vehicle_need
from evhub.uow import UnitOfWork

__all__ = ["uow"]
NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
# The car's notice: no SoC, no capacity; 10 kWh may be discharged, 20 kWh taken.
CAR = CarV2x(10.0, min_v2x_kwh=-10.0, max_v2x_kwh=20.0, target_kwh=None, soc_pct=None,
             battery_kwh=None)  # fmt: skip


async def _charge(uow: UnitOfWork, report: bool) -> tuple[int, int, float]:
    """(site, transaction, the car's catalogue battery) of a charge of Ann's car on a 2.1 DC
    station, with or without a report of her car tied to it."""
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 100.0)
        await assets.create_station(s, NOW, "CP-21", site.id, "secret-password-1",
                                    [EvseSpec(1, "DC", 3, 50.0)])  # fmt: skip
        driver = await accounts.create_driver(s, "Ann", "ann@example.org", "resident", NOW)
        await accounts.create_token(s, "TOK-ANN", "ISO14443", "Accepted", NOW, driver.id)
        model = (await vehicles.catalogue(s))[0]
        car = (await vehicles.add_vehicle(s, driver.id, model.id, NOW)).id
        await v2x_settings.save(s, driver.id, v2x_settings.check(True, 40.0, 80.0), NOW)
    async with uow() as s:
        began = NOW - timedelta(minutes=5)
        start = charging.TransactionStart(
            "CP-21", 1, 1, began, 0, "TOK-ANN", "2.1", station_transaction_id="tx-1"
        )
        tx = (await charging.open_transaction(s, NOW, start)).transaction
    if report:
        async with uow() as s:
            reading = Reading(NOW - timedelta(minutes=1), 55.0, True, 80.0)
            assert (await telemetry.record(s, car, reading, NOW)).transaction_pk == tx.id
    return site.id, tx.id, float(model.battery_kwh)


async def _planned(uow: UnitOfWork, site: int, tx_pk: int) -> demand.Need:
    async with uow() as s:
        assert await declare_vehicle_need(s, "CP-21", 1, VehicleNeed(None, None, None), NOW, CAR)
    async with uow() as s:
        tx = await s.get(Transaction, tx_pk)
        assert tx is not None and tx.soc_last_pct is None  # the station never said
        (need,) = await demand.needs_of(s, site, ZoneInfo("Europe/Paris"), [tx], NOW)
    return need


async def test_the_reported_soc_places_the_cars_bounds_and_bounds_the_discharge(
    uow: UnitOfWork,
) -> None:
    site, tx_pk, battery = await _charge(uow, report=True)
    need = await _planned(uow, site, tx_pk)
    async with uow() as s:
        row = await s.get(V2xNeed, tx_pk)
        assert row is not None and row.bidirectional and row.car_soc_pct == 55.0
        assert row.battery_kwh == battery
        assert row.car_min_soc_pct == pytest.approx(55.0 - 1000.0 / battery)
    assert need.source == "v2x" and need.v2x is not None
    floor = max(40.0, 55.0 - 1000.0 / battery)
    assert need.v2x.discharge_room_kwh == pytest.approx((55.0 - floor) * battery / 100)
    # Up to the driver's 80 %, within the car's own maximum (20 kWh more than it held).
    assert need.v2x.energy_kwh == pytest.approx(min(25.0 * battery / 100, 20.0))


async def test_without_any_soc_the_car_only_charges(uow: UnitOfWork) -> None:
    site, tx_pk, _ = await _charge(uow, report=False)
    need = await _planned(uow, site, tx_pk)
    assert need.v2x is None and need.source != "v2x"
