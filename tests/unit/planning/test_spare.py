"""The capacity a plan leaves unused, offered to the cars that can still take it (1-hour slots)."""

from __future__ import annotations

import numpy as np
import pytest

from evhub.planning import Circuit, PlanRequest, SessionDemand, SiteLimits, plan
from evhub.planning.replay import ReplayConfig, ReplaySession, replay

HOUR = 60.0


def car(session_id: str, energy_kwh: float, departure: int, **extra: object) -> SessionDemand:
    return SessionDemand(session_id, energy_kwh, 0, departure, 11.0, **extra)  # type: ignore[arg-type]


def request(*sessions: SessionDemand, capacity_kw: float = 22.0, **extra: object) -> PlanRequest:
    site = SiteLimits(capacity_kw, peak_floor_kw=capacity_kw)
    return PlanRequest(0, HOUR, 4, sessions, site, **extra)  # type: ignore[arg-type]


def test_a_car_whose_need_is_met_is_offered_what_the_others_leave() -> None:
    result = plan(request(car("done", 0.0, 4), car("short", 11.0, 4)))

    np.testing.assert_allclose(result.power_kw[1], [11, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(result.power_kw[0], 0.0, atol=1e-6)  # the plan: needs only
    np.testing.assert_allclose(result.offered_kw()[0], [11, 11, 11, 11], atol=1e-6)
    np.testing.assert_allclose(result.offered_kw()[1], [11, 11, 11, 11], atol=1e-6)
    assert result.delivered_energy_kwh()[0] == pytest.approx(0.0, abs=1e-6)


def test_the_spare_is_shared_equally_within_the_site_limit() -> None:
    result = plan(request(car("a", 0.0, 4), car("b", 0.0, 4), car("c", 8.0, 4), capacity_kw=20.0))

    offered = result.offered_kw()
    assert offered.sum(axis=0) == pytest.approx([20.0] * 4, abs=1e-6)
    np.testing.assert_allclose(offered[0], offered[1], atol=1e-6)
    assert offered[2, 0] == pytest.approx(11.0, abs=1e-6)  # its need comes first, in full
    assert offered[0, 0] == pytest.approx(4.5, abs=1e-6)


def test_the_spare_never_raises_the_site_above_its_peak_floor_or_a_circuit() -> None:
    feeder = Circuit("feeder", 5.0, frozenset({"a", "b"}))
    site = SiteLimits(40.0, circuits=(feeder,), peak_floor_kw=12.0)
    sessions = (car("a", 0.0, 4), car("b", 0.0, 4), car("c", 0.0, 4), car("d", 4.0, 4))

    offered = plan(PlanRequest(0, HOUR, 4, sessions, site)).offered_kw()

    assert offered.sum(axis=0) == pytest.approx([12.0] * 4, abs=1e-6)
    feeder_kw = offered[:2].sum(axis=0)
    assert (feeder_kw <= 5.0 + 1e-6).all()
    assert feeder_kw[1:] == pytest.approx([5.0] * 3, abs=1e-6)  # once "d" is served: the feeder


def test_no_spare_when_energy_costs_differ_between_slots_nor_for_a_booking_or_a_battery() -> None:
    priced = plan(request(car("a", 0.0, 4), car("b", 4.0, 4), price_per_kwh=(0.1, 0.3, 0.1, 0.2)))
    kept = plan(
        request(
            car("booking:1", 0.0, 4, takes_spare=False),
            car("v2x", 2.0, 4, battery_room_kwh=2.0),
            car("b", 4.0, 4),
        )
    )

    np.testing.assert_allclose(priced.offered_kw(), priced.power_kw, atol=1e-9)
    np.testing.assert_allclose(kept.offered_kw()[:2], kept.power_kw[:2], atol=1e-9)
    assert kept.offered_kw()[2].sum() > kept.power_kw[2].sum()


def test_a_car_that_declared_less_than_it_takes_charges_on_while_the_site_has_room() -> None:
    # the driver typed 2 kWh, the car takes 6; nobody else is plugged in
    sessions = [ReplaySession("under", 0, 12, need_kwh=6.0, declared_departure_slot=12,
                              declared_need_kwh=2.0)]  # fmt: skip

    lp = replay(sessions, ReplayConfig(capacity_kw=6.656, algorithm="lp", declared=True))
    llf = replay(sessions, ReplayConfig(capacity_kw=6.656, algorithm="llf", declared=True))

    assert lp.energy_delivered_pct == pytest.approx(100.0)
    assert llf.energy_delivered_pct == pytest.approx(100.0 * 2.0 / 6.0)
    assert lp.limit_violations == 0
