"""A driver's car from the catalogue: its battery is what the demand model knows of a car
that says nothing itself."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from evhub.accounts import service, vehicles
from evhub.assets import service as assets
from evhub.charging.models import Transaction
from evhub.errors import Conflict, NotFound
from evhub.planning.demand import HistoryDefault, needs_of, resolve
from evhub.planning.models import ChargingNeed
from evhub.uow import UnitOfWork
from tests.unit.accounts.conftest import NOW

HISTORY = HistoryDefault(energy_kwh=12.0, stay=timedelta(hours=3), samples=40)


async def test_the_battery_of_a_drivers_only_car_is_known_by_token(uow: UnitOfWork) -> None:
    async with uow() as s:
        models = {f"{m.make} {m.model}": m for m in await vehicles.catalogue(s)}
        assert len(models) >= 12
        zoe = models["Renault Zoe R135 (52 kWh)"]
        one = await service.create_driver(s, "One", "one@example.org", "visitor", NOW)
        two = await service.create_driver(s, "Two", "two@example.org", "visitor", NOW)
        await vehicles.add_vehicle(s, one.id, zoe.id, NOW, vin="VF1AG000X12345678")
        await vehicles.add_vehicle(s, two.id, zoe.id, NOW)
        await vehicles.add_vehicle(s, two.id, models["Tesla Model Y Long Range"].id, NOW)
        t_one = await service.create_token(s, "T-ONE", "ISO14443", "Accepted", NOW, one.id)
        t_two = await service.create_token(s, "T-TWO", "ISO14443", "Accepted", NOW, two.id)
        t_none = await service.create_token(s, "T-NONE", "ISO14443", "Accepted", NOW)
    async with uow() as s:
        known = await vehicles.batteries_by_token(s, [t_one.id, t_two.id, t_none.id])
        with pytest.raises(Conflict, match="VIN"):
            await vehicles.add_vehicle(s, two.id, zoe.id, NOW, vin="VF1AG000X12345678")
        with pytest.raises(NotFound):
            await vehicles.add_vehicle(s, two.id, 9999, NOW)
    # Two cars: which one is plugged in is not known, so neither battery is assumed.
    assert known == {t_one.id: 52.0}


def test_the_catalogue_battery_turns_a_state_of_charge_into_the_need() -> None:
    tx = Transaction(id=7, started_at=NOW - timedelta(hours=1), meter_start_wh=1000,
                     meter_last_wh=6000, soc_last_pct=50.0)  # fmt: skip
    assert resolve(tx, None, HISTORY, NOW).source == "history"
    need = resolve(tx, None, HISTORY, NOW, known_battery_kwh=52.0)
    assert (need.source, need.remaining_kwh) == ("soc", 26.0)  # half of 52 kWh to go
    # The car's own figure (ISO 15118) wins over the catalogue's.
    own = ChargingNeed(transaction_pk=7, battery_kwh=60.0, source="iso15118")
    assert resolve(tx, own, HISTORY, NOW, known_battery_kwh=52.0).remaining_kwh == 30.0


async def test_the_demand_model_reads_the_battery_of_the_drivers_car(uow: UnitOfWork) -> None:
    """Through the database: a charge by the token of a driver with one car, whose station
    reports a state of charge and whose car says nothing of its battery."""
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Hub", "Europe/Paris", 100.0)
        await assets.create_station(s, NOW, "CP-1", site.id, "station-password-01")
        driver = await service.create_driver(s, "One", "one@example.org", "resident", NOW)
        models = {m.model: m for m in await vehicles.catalogue(s)}
        await vehicles.add_vehicle(s, driver.id, models["Zoe R135 (52 kWh)"].id, NOW)
        token = await service.create_token(s, "T-ONE", "ISO14443", "Accepted", NOW, driver.id)
        tx = Transaction(
            station_id="CP-1", ocpp_transaction_id="tx-1", evse_id=1, id_token="T-ONE",
            token_id=token.id, started_at=NOW - timedelta(hours=1), meter_start_wh=1000,
            meter_last_wh=6000, soc_last_pct=25.0, ocpp_version="2.0.1", created_at=NOW,
            updated_at=NOW,
        )  # fmt: skip
        s.add(tx)
    async with uow() as s:
        running = await s.get(Transaction, tx.id)
        assert running is not None
        [need] = await needs_of(s, site.id, ZoneInfo("Europe/Paris"), [running], NOW)
    assert (need.source, need.remaining_kwh) == ("soc", 39.0)  # three quarters of 52 kWh
