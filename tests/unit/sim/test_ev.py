from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evhub.sim.ev import SimEV


def test_ev_takes_full_charger_rate_below_the_knee() -> None:
    ev = SimEV(battery_kwh=60, soc=0.5, max_ac_kw=11, max_dc_kw=100)
    assert ev.accept_kw(22, dc=False) == 11
    assert ev.accept_kw(150, dc=True) == 100
    assert ev.accept_kw(4.2, dc=False) == 4.2


def test_dc_power_tapers_linearly_after_80_percent() -> None:
    ev = SimEV(battery_kwh=60, soc=0.9, max_dc_kw=100)
    # halfway between the knee (0.8) and full: 100 kW * (1 - 0.5 * 0.95)
    assert ev.accept_kw(150, dc=True) == pytest.approx(52.5)
    ev.soc = 0.8
    assert ev.accept_kw(150, dc=True) == pytest.approx(100)


def test_ac_power_tapers_only_after_90_percent() -> None:
    ev = SimEV(battery_kwh=60, soc=0.85, max_ac_kw=11)
    assert ev.accept_kw(22, dc=False) == 11
    ev.soc = 0.95
    assert ev.accept_kw(22, dc=False) < 11


def test_full_ev_takes_nothing() -> None:
    ev = SimEV(battery_kwh=60, soc=0.8, target_soc=0.8)
    assert ev.full
    assert ev.accept_kw(22, dc=False) == 0


def test_three_phase_onboard_charger_on_one_phase_gives_a_third() -> None:
    ev = SimEV(battery_kwh=60, soc=0.2, max_ac_kw=11, ac_phases=3)
    assert ev.accept_kw(22, dc=False, phases=1) == pytest.approx(11 / 3)


def test_advance_books_energy_and_soc() -> None:
    ev = SimEV(battery_kwh=50, soc=0.2)
    energy = ev.advance(10, 3600)
    assert energy == pytest.approx(10)
    assert ev.soc == pytest.approx(0.4)
    assert ev.charged_kwh == pytest.approx(10)


def test_advance_never_overshoots_target() -> None:
    ev = SimEV(battery_kwh=50, soc=0.78, target_soc=0.8)
    assert ev.advance(50, 3600) == pytest.approx(1.0)
    assert ev.soc == pytest.approx(0.8)
    assert ev.full


def test_v2g_discharges_down_to_min_soc_only() -> None:
    ev = SimEV(battery_kwh=50, soc=0.3, v2g=True, max_discharge_kw=10, min_soc=0.2)
    assert ev.accept_kw(-20, dc=True) == -10
    assert ev.advance(-10, 3600) == pytest.approx(-5)
    assert ev.soc == pytest.approx(0.2)
    assert ev.accept_kw(-20, dc=True) == 0
    assert SimEV(battery_kwh=50, soc=0.5).accept_kw(-5, dc=True) == 0


def test_declared_need_defaults_to_energy_to_target() -> None:
    departure = datetime(2025, 3, 3, 18, tzinfo=UTC)
    ev = SimEV(battery_kwh=40, soc=0.5, target_soc=0.9, departure=departure)
    assert ev.need().energy_kwh == pytest.approx(16)
    assert ev.need().departure == departure
    ev.declared_energy_kwh = 10
    assert ev.need().energy_kwh == 10


def test_invalid_battery_is_refused() -> None:
    with pytest.raises(ValueError):
        SimEV(battery_kwh=0, soc=0.5)
    with pytest.raises(ValueError):
        SimEV(battery_kwh=10, soc=1.5)


@given(
    soc=st.floats(0, 1),
    offered=st.floats(0, 400),
    dc=st.booleans(),
    seconds=st.floats(0, 7200),
)
def test_accepted_power_is_bounded_and_soc_stays_in_range(
    soc: float, offered: float, dc: bool, seconds: float
) -> None:
    ev = SimEV(battery_kwh=60, soc=soc, max_ac_kw=11, max_dc_kw=150)
    kw = ev.accept_kw(offered, dc)
    assert 0 <= kw <= min(offered, 150 if dc else 11)
    energy = ev.advance(kw, seconds)
    assert 0 <= energy <= kw * seconds / 3600 + 1e-9
    assert 0 <= ev.soc <= 1
