"""A connected car's report as a need: below the driver's word and a booking's, above the car's
ISO 15118 need, the station's SoC and history; and only for the charge it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evhub.charging.models import Transaction
from evhub.planning.demand import (
    SOURCE_RANK,
    HistoryDefault,
    from_booking,
    from_telemetry,
    report_for,
    resolve,
)
from evhub.planning.models import ChargingNeed
from evhub.planning.telemetry import CarReport, Reading
from evhub.reservations.service import DeclaredNeed
from evhub.reservations.state import BookingState

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=1)
LEAVES = NOW + timedelta(hours=10)
HISTORY = HistoryDefault(12.0, timedelta(hours=3), 40)


def _tx(delivered_wh: int = 4_000, soc: float | None = None) -> Transaction:
    return Transaction(id=7, started_at=STARTED, meter_start_wh=500,
                       meter_last_wh=500 + delivered_wh, soc_last_pct=soc)  # fmt: skip


def _report(
    soc: float = 40.0,
    target: float | None = 80.0,
    departure: datetime | None = LEAVES,
    *,
    measured_at: datetime = NOW - timedelta(minutes=10),
    plugged_in: bool = True,
    transaction_pk: int | None = 7,
    session_wh: int | None = 3_000,
    vehicle_id: int = 1,
) -> CarReport:
    reading = Reading(measured_at, soc, plugged_in, target, departure)
    return CarReport(vehicle_id, 5, 60.0, reading, transaction_pk, session_wh)


def test_the_cars_report_is_the_need_counted_from_what_the_charge_had_delivered() -> None:
    tx = _tx(delivered_wh=4_000)
    need = resolve(tx, from_telemetry(tx, _report(), None, NOW), HISTORY, NOW)
    # 40 % -> 80 % of 60 kWh lacked when 3 kWh had been delivered; 1 kWh came since.
    assert need.source == "telemetry"
    assert need.declared_kwh == pytest.approx(27.0)
    assert need.remaining_kwh == pytest.approx(23.0)
    assert need.departure_at == LEAVES


def test_the_report_outranks_the_stations_soc_and_history_on_an_ac_station() -> None:
    tx = _tx(soc=None)  # an AC station: no SoC ever
    assert resolve(tx, None, HISTORY, NOW).source == "history"
    need = resolve(tx, from_telemetry(tx, _report(), None, NOW), HISTORY, NOW)
    assert need.source == "telemetry"
    with_soc = _tx(soc=90.0)  # a station's SoC does not override the car's report either
    soc_need = resolve(with_soc, from_telemetry(with_soc, _report(), None, NOW), HISTORY, NOW)
    assert soc_need == need


def test_the_drivers_word_and_a_booking_outrank_the_car_which_outranks_iso15118() -> None:
    tx = _tx()
    driver = ChargingNeed(transaction_pk=7, energy_kwh=5.0, departure_at=LEAVES, source="driver")
    assert from_telemetry(tx, _report(), driver, NOW) is driver
    declared = DeclaredNeed(3, "S", 1, 1, 9.0, STARTED, LEAVES, BookingState.IN_USE, 7)
    booked = from_booking(7, declared, None)
    assert from_telemetry(tx, _report(), booked, NOW) is booked
    car = ChargingNeed(transaction_pk=7, energy_kwh=40.0, departure_at=LEAVES, source="iso15118")
    assert from_telemetry(tx, _report(), car, NOW).source == "telemetry"
    order = sorted(SOURCE_RANK, key=SOURCE_RANK.__getitem__, reverse=True)
    assert order.index("driver") < order.index("reservation") < order.index("telemetry")
    assert order.index("telemetry") < order.index("iso15118")


def test_a_report_without_target_fills_up_and_keeps_a_lower_sources_departure() -> None:
    tx = _tx()
    car = ChargingNeed(transaction_pk=7, energy_kwh=40.0, departure_at=LEAVES, source="iso15118")
    need = from_telemetry(tx, _report(target=None, departure=None), car, NOW)
    assert need.energy_kwh == pytest.approx(3.0 + 36.0)  # 40 % -> full of 60 kWh
    assert need.departure_at == LEAVES
    past = from_telemetry(tx, _report(departure=NOW - timedelta(minutes=1)), None, NOW)
    assert past.departure_at is None  # history decides, as for a departure never given
    assert resolve(tx, past, HISTORY, NOW).departure_at == STARTED + HISTORY.stay


def test_a_report_sent_before_the_charge_began_counts_from_nothing_delivered() -> None:
    tx = _tx()
    before = STARTED - timedelta(minutes=5)
    early = _report(measured_at=before, transaction_pk=None, session_wh=None)
    assert report_for(tx, [early], NOW) == early
    assert from_telemetry(tx, early, None, NOW).energy_kwh == pytest.approx(24.0)


@pytest.mark.parametrize(
    "report",
    [
        _report(plugged_in=False),  # the car says it is not plugged in
        _report(transaction_pk=8),  # it belongs to another charge
        _report(measured_at=NOW - timedelta(hours=13)),  # too old
        # sent after the charge began but not tied to it (the driver had two charges running)
        _report(measured_at=STARTED + timedelta(minutes=5), transaction_pk=None),
        _report(measured_at=STARTED - timedelta(hours=1), transaction_pk=None),  # a stay before
    ],
)
def test_a_report_of_another_moment_or_charge_is_not_this_charges(report: CarReport) -> None:
    assert report_for(_tx(), [report], NOW) is None


def test_two_cars_of_one_driver_both_plugged_in_tell_nothing() -> None:
    both = [_report(vehicle_id=1), _report(vehicle_id=2)]
    assert report_for(_tx(), both, NOW) is None
    one = [_report(vehicle_id=1), _report(vehicle_id=2, plugged_in=False)]
    assert report_for(_tx(), one, NOW) == one[0]
