"""A shared car's next booking as its need: below the driver's word, above the car's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evhub.charging.models import Transaction
from evhub.planning.demand import FleetDeclaration, HistoryDefault, from_fleet, resolve
from evhub.planning.models import ChargingNeed

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
BOOKED = NOW + timedelta(hours=5)
HISTORY = HistoryDefault(20.0, timedelta(hours=4), 0)


def _tx(delivered_wh: int) -> Transaction:
    return Transaction(
        id=7,
        meter_start_wh=1_000,
        meter_last_wh=1_000 + delivered_wh,
        started_at=NOW,
        soc_last_pct=None,
    )


def test_the_next_booking_is_the_need_counted_from_what_was_delivered() -> None:
    tx = _tx(3_000)
    need = resolve(tx, from_fleet(tx, FleetDeclaration(12.5, BOOKED, 52.0), None), HISTORY, NOW)
    assert (need.remaining_kwh, need.departure_at, need.source) == (12.5, BOOKED, "carsharing")
    assert need.declared_kwh == 15.5


def test_the_driver_overrides_the_booking_and_the_booking_the_car() -> None:
    tx = _tx(0)
    fleet = FleetDeclaration(12.5, BOOKED, 52.0)
    driver = ChargingNeed(transaction_pk=7, energy_kwh=5.0, departure_at=NOW, source="driver")
    assert from_fleet(tx, fleet, driver) is driver
    car = ChargingNeed(transaction_pk=7, energy_kwh=40.0, departure_at=None, source="iso15118")
    assert from_fleet(tx, fleet, car).source == "carsharing"
