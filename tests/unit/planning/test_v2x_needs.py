"""Who may feed the grid, how far: V2X bounds from the car and the driver, and a live plan that
discharges a consenting 2.1 car while energy is dear and never a charge-only one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evhub.charging.models import Transaction
from evhub.planning.charging_limit import build_limit
from evhub.planning.demand import Need
from evhub.planning.dispatch import changes, to_limit
from evhub.planning.live import EvseInfo, Running, SiteSnapshot, plan_site
from evhub.planning.models import V2xNeed
from evhub.planning.v2x_needs import EFFICIENCY, V2xBounds, bounds

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
DC1, DC2 = EvseInfo("V21", 1, "DC", 3, 50.0), EvseInfo("V201", 1, "DC", 3, 50.0)
SLOT_MINUTES = 5.0
# EUR/kWh per 5-minute slot: the coming hour dear, then cheap, over a day.
PRICES = tuple([0.30] * 12 + [0.04] * 276)


def _tx(protocol: str = "2.1", soc: float | None = 60.0) -> Transaction:
    return Transaction(id=1, ocpp_version=protocol, soc_last_pct=soc)


def _row(**kw: object) -> V2xNeed:
    values: dict[str, object] = dict(
        transaction_pk=1, consent=True, bidirectional=True, car_max_discharge_kw=20.0,
        car_min_soc_pct=30.0, car_max_soc_pct=100.0, car_target_soc_pct=80.0, car_soc_pct=60.0,
        battery_kwh=60.0, min_soc_pct=None, target_soc_pct=None,
    )  # fmt: skip
    return V2xNeed(**(values | kw))


def test_bounds_read_the_latest_soc_against_the_cars_and_drivers_floors() -> None:
    b = bounds(_tx(soc=50.0), _row(min_soc_pct=40.0))
    assert b is not None
    assert b.max_discharge_kw == 20.0
    assert b.energy_kwh == pytest.approx(18.0)  # 50 % -> 80 % of 60 kWh
    assert b.discharge_room_kwh == pytest.approx(6.0)  # down to the driver's 40 %
    assert b.battery_room_kwh == pytest.approx(30.0)
    assert b.surplus_kwh == 0.0
    driver_target = bounds(_tx(soc=90.0), _row(target_soc_pct=85.0))
    assert driver_target is not None
    assert driver_target.energy_kwh == 0.0 and driver_target.surplus_kwh == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("tx", "row"),
    [
        (_tx(), _row(consent=False)),  # consent is off by default
        (_tx(), _row(bidirectional=False)),  # the car asked for a charge-only transfer
        (_tx("2.0.1"), _row()),  # 2.0.1 profiles cannot discharge
        (_tx("1.6"), _row()),
        (_tx(soc=None), _row(car_soc_pct=None)),  # the floor cannot be kept
        (_tx(), _row(car_max_discharge_kw=0.0)),
        (_tx(), None),
    ],
)
def test_no_bounds_means_charge_only(tx: Transaction, row: V2xNeed | None) -> None:
    assert bounds(tx, row) is None


def _running(tx: int, evse: EvseInfo, v2x: V2xBounds | None, kwh: float = 12.0) -> Running:
    need = Need(tx, kwh, NOW + timedelta(hours=6), "v2x" if v2x else "driver", kwh, v2x)
    return Running(tx, str(tx), evse, need, None)


def _snapshot(rs: list[Running]) -> SiteSnapshot:
    return SiteSnapshot(1, 100.0, "Europe/Paris", NOW, (DC1, DC2), tuple(rs),
                        frozenset({DC1.key, DC2.key}), price_per_kwh=PRICES)  # fmt: skip


def test_a_consenting_car_feeds_the_dear_hour_and_still_reaches_its_target() -> None:
    v2x = V2xBounds(20.0, energy_kwh=12.0, battery_room_kwh=24.0, discharge_room_kwh=12.0,
                    surplus_kwh=0.0)  # fmt: skip
    p = plan_site(_snapshot([_running(1, DC1, v2x), _running(2, DC2, None)]), {})
    feeding, charging = p.allocations
    assert feeding.limit_kw < 0 and feeding.min_power_kw == -20.0
    assert min(feeding.power_kw) >= -20.0 - 1e-6
    hours = SLOT_MINUTES / 60
    stored = sum(
        (kw * EFFICIENCY if kw > 0 else kw / EFFICIENCY) * hours for kw in feeding.power_kw
    )
    assert stored >= 12.0 - 1e-3
    # The battery never goes below its floor on the way (the allowance only adds energy).
    level = 0.0
    for kw in feeding.power_kw:
        level += (kw * EFFICIENCY if kw > 0 else kw / EFFICIENCY) * hours
        assert level >= -12.0 - 1e-3
    # The charge-only car beside it waits for the cheap hours, and is never told below zero.
    assert min(charging.power_kw) >= 0 and charging.min_power_kw == 0.0
    decreases, increases = changes(p, {}, frozenset({DC1.key, DC2.key}))
    limits = {c.key: to_limit(c, NOW) for c in decreases + increases}
    assert limits[DC1.key].periods[0][1] < 0
    assert limits[DC2.key].periods[0][1] >= 0


def test_a_limit_goes_below_zero_only_for_a_transaction_allowed_to() -> None:
    assert build_limit(DC1, -15.0, NOW, "1").periods == [(0, 0.0)]
    assert build_limit(DC1, -15.0, NOW, "1", min_kw=-10.0).periods == [(0, -10.0)]
    assert build_limit(DC1, -15.0, NOW, None, min_kw=-10.0).periods == [(0, 0.0)]  # TxDefault
