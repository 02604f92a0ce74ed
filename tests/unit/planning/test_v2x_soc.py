"""The state of charge that bounds a discharge: the connected car's report when the station gives
none (and before the station's when both do), brought to now by the meter; no SoC, or no floor
that can be kept, means no discharge; a fleet's choice in place of a driver's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evhub.charging.models import Transaction
from evhub.planning.demand import HistoryDefault, resolve
from evhub.planning.models import V2xNeed
from evhub.planning.telemetry import CarReport, Reading
from evhub.planning.v2x_needs import EFFICIENCY, DriverV2x, bounds
from evhub.planning.v2x_soc import soc_now_pct

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
HISTORY = HistoryDefault(12.0, timedelta(hours=3), 40)


def _tx(soc: float | None = None, delivered_wh: int = 0) -> Transaction:
    started = NOW - timedelta(hours=1)
    return Transaction(id=7, ocpp_version="2.1", soc_last_pct=soc, started_at=started,
                       meter_start_wh=0, meter_last_wh=delivered_wh)  # fmt: skip


def _row(**kw: object) -> V2xNeed:
    """A bidirectional car whose notice carried no SoC: its own bounds are not placed."""
    values: dict[str, object] = dict(
        transaction_pk=7, consent=True, bidirectional=True, car_max_discharge_kw=10.0,
        car_min_soc_pct=None, car_max_soc_pct=None, car_target_soc_pct=None, car_soc_pct=None,
        battery_kwh=None, min_soc_pct=40.0, target_soc_pct=80.0,
    )  # fmt: skip
    return V2xNeed(**(values | kw))


def _report(soc: float = 60.0, session_wh: int | None = 0) -> CarReport:
    reading = Reading(NOW - timedelta(minutes=10), soc, True, 80.0, NOW + timedelta(hours=8))
    return CarReport(1, 5, 50.0, reading, 7, session_wh)


def test_the_cars_reported_soc_bounds_the_discharge_when_the_station_reports_none() -> None:
    b = bounds(_tx(soc=None), _row(), reported_soc_pct=60.0, battery_kwh=50.0)
    assert b is not None
    assert b.discharge_room_kwh == pytest.approx(10.0)  # 60 % -> the driver's 40 % of 50 kWh
    assert b.energy_kwh == pytest.approx(10.0)  # back to 80 %
    assert b.battery_room_kwh == pytest.approx(20.0)


def test_the_cars_report_wins_over_the_stations_soc() -> None:
    b = bounds(_tx(soc=70.0), _row(), reported_soc_pct=50.0, battery_kwh=50.0)
    assert b is not None and b.discharge_room_kwh == pytest.approx(5.0)
    station = bounds(_tx(soc=70.0), _row(), battery_kwh=50.0)
    assert station is not None and station.discharge_room_kwh == pytest.approx(15.0)
    notice = bounds(_tx(), _row(car_soc_pct=45.0, battery_kwh=50.0))
    assert notice is not None and notice.discharge_room_kwh == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("row", "reported", "battery"),
    [
        (_row(), None, 50.0),  # no SoC from the car, the station or the notice
        (_row(), 60.0, None),  # a SoC but no battery size: no energy bound
        (_row(min_soc_pct=None), 60.0, 50.0),  # the car's own floor unplaced, and no other
        (_row(consent=False), 60.0, 50.0),
    ],
)
def test_no_soc_or_no_floor_that_can_be_kept_means_no_discharge(
    row: V2xNeed, reported: float | None, battery: float | None
) -> None:
    assert bounds(_tx(soc=None), row, reported, battery) is None


def test_a_placed_car_floor_still_binds_under_the_owners() -> None:
    row = _row(car_soc_pct=60.0, car_min_soc_pct=50.0, battery_kwh=50.0)
    b = bounds(_tx(), row, reported_soc_pct=60.0)
    assert b is not None and b.discharge_room_kwh == pytest.approx(5.0)  # the car's 50 %


def test_the_report_is_brought_to_now_by_the_energy_metered_since() -> None:
    # 60 % of 50 kWh reported when 2 kWh had been drawn; 6 kWh drawn now, 1 kWh exported since.
    tx = _tx(delivered_wh=6_000)
    pct = soc_now_pct(tx, _report(session_wh=2_000), exported_since_wh=1_000)
    assert pct == pytest.approx(60.0 + 100 * (4 * EFFICIENCY - 1 / EFFICIENCY) / 50)
    # Reported before the charge began: everything the charge moved counts.
    early = CarReport(1, 5, 50.0, _report().reading, None, None)
    assert soc_now_pct(tx, early, 0.0) == pytest.approx(60.0 + 100 * 6 * EFFICIENCY / 50)
    # Exports alone never raise it, and it stays within 0..100 %.
    assert soc_now_pct(_tx(), _report(soc=1.0), 5_000) == 0.0


def test_a_fleet_choice_replaces_the_drivers_and_its_refusal_keeps_the_car_charge_only() -> None:
    row = _row(consent=False, car_soc_pct=60.0, battery_kwh=50.0)  # no driver ever consented
    fleet = DriverV2x(True, 30.0, 90.0)
    b = bounds(_tx(), row, owner=fleet)
    assert b is not None
    assert b.discharge_room_kwh == pytest.approx(15.0) and b.energy_kwh == pytest.approx(15.0)
    assert bounds(_tx(), _row(car_soc_pct=60.0, battery_kwh=50.0), owner=DriverV2x(False)) is None


def test_the_demand_model_passes_the_reported_soc_to_the_bounds() -> None:
    need = resolve(_tx(soc=None), None, HISTORY, NOW, 50.0, _row(), reported_soc_pct=60.0)
    assert need.source == "v2x" and need.v2x is not None
    assert need.v2x.discharge_room_kwh == pytest.approx(10.0)
    assert resolve(_tx(soc=None), None, HISTORY, NOW, 50.0, _row()).v2x is None
