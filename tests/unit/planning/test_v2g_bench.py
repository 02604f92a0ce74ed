"""`evhub bench v2g`'s convention on a case small enough to price by hand, the residents'
generator, and a property: the online plan never breaks a site limit nor a battery floor."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evhub.cli import app
from evhub.planning.acn import AcnSession
from evhub.planning.residents import parse_residents_spec, resident_sessions
from evhub.planning.v2g_replay import (
    V2gCar,
    V2gConfig,
    replay_v2g,
    run_online,
    slot_prices_eur_per_mwh,
    to_v2g_cars,
)

PACIFIC = timezone(timedelta(hours=-7))
MIDNIGHT = datetime(2019, 5, 1, tzinfo=PACIFIC)
# P = 4 kW, ETA = 0.8, B = 10 kWh, S0 = 0.5 (e0 = 5), SMIN = 0.2 (floor 2), DEG = 0.01 EUR/kWh
CONFIG = V2gConfig(
    station_kw=4.0,
    capacity_kw=10.0,
    battery_kwh=10.0,
    arrival_soc=0.5,
    min_soc=0.2,
    efficiency=0.8,
    degradation_eur_per_kwh=0.01,
)


def session(
    sid: str, arrive_min: float, leave_min: float, kwh: float, station: str = "S1"
) -> AcnSession:
    arrival = MIDNIGHT + timedelta(minutes=arrive_min)
    departure = MIDNIGHT + timedelta(minutes=leave_min)
    return AcnSession(sid, station, arrival, departure, kwh, kwh, departure, False)


def test_sessions_are_slotted_by_the_floor_of_their_times_and_targets_capped() -> None:
    cars, dropped = to_v2g_cars(
        [
            session("a", 10, 125, 2.0),  # slots [0, 8): target 5 + min(2, 0.8*4*0.25*8, 5)
            session("b", 60, 74, 3.0, "S2"),  # [4, 4): no whole slot, dropped
            session("c", 61, 100, 30.0, "S3"),  # [4, 6): 0.8 * 4 * 0.25 * 2 = 1.6 kWh at most
            session("d", 24 * 60 * 3, 24 * 60 * 3 + 60, 1.0),  # day 4: outside --days 3
        ],
        _with(days=3),
    )
    assert dropped == 1
    assert [(c.session_id, c.arrival_slot, c.departure_slot) for c in cars] == [
        ("a", 0, 8),
        ("c", 4, 6),
    ]
    assert [c.target_kwh for c in cars] == pytest.approx([7.0, 6.6])


def _with(**changes: object) -> V2gConfig:
    fields = {name: getattr(CONFIG, name) for name in CONFIG.__dataclass_fields__}
    fields.update(changes)
    return V2gConfig(**fields)  # type: ignore[arg-type]


def test_only_the_first_n_stations_are_kept() -> None:
    cars, dropped = to_v2g_cars(
        [session("a", 0, 60, 1.0, "S2"), session("b", 0, 60, 1.0, "S1")], _with(stations=1)
    )
    assert [c.session_id for c in cars] == ["b"]
    assert dropped == 1


def test_slot_prices_repeat_each_row_four_times_and_wrap() -> None:
    assert (
        list(slot_prices_eur_per_mwh([200.0, 100.0], 12)) == [200.0] * 4 + [100.0] * 4 + [200.0] * 4
    )


def test_one_car_priced_by_hand() -> None:
    """One car, slots [0, 8), target 7 kWh from 5; 200 EUR/MWh the first hour, 100 the second.

    uncontrolled: 2 kWh into the battery = 2.5 kWh drawn in hour 1 at 0.2 EUR/kWh: 0.50 EUR.
    smart: the same 2.5 kWh in the cheap hour: 0.25 EUR.
    V2G: selling 1 kWh in hour 1 earns 0.2, takes 1.25 kWh from the battery (wear 0.0125) and
    buying it back costs 1.5625 kWh at 0.1: a gain of 0.03125 per kWh sold, so sell as much as
    hour 2 can buy back: 4 kW * 1 h = 4 kWh drawn = 3.2 kWh stored, so 1.2 kWh may leave the
    battery in hour 1 (0.96 kWh sold; 5 - 1.2 = 3.8 stays above the 2 kWh floor).
    cost = -0.96 * 0.2 + 1.2 * 0.01 + 4 * 0.1 = 0.22 EUR, offline and online alike.
    """
    cars = [V2gCar("a", 0, 8, 5.0, 7.0)]

    result = replay_v2g(cars, CONFIG, [200.0, 100.0])

    assert result.uncontrolled_cost_eur == pytest.approx(0.50, abs=1e-6)
    assert result.smart_cost_eur == pytest.approx(0.25, abs=1e-6)
    assert result.offline_cost_eur == pytest.approx(0.22, abs=1e-6)
    assert result.cost_eur == pytest.approx(0.22, abs=1e-6)
    assert result.discharged_kwh == pytest.approx(0.96, abs=1e-4)
    assert result.satisfaction == 1.0
    assert (result.limit_violations, result.min_soc_violations) == (0, 0)
    assert result.savings_vs_offline == pytest.approx(1.0, abs=1e-6)


def test_the_command_prints_one_json_line_with_the_contract_keys(tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    rows = [f"2018-01-01T{h:02d}:00:00Z,{40 + 30 * (17 <= h <= 20)}" for h in range(24)]
    prices.write_text("datetime_utc,price_eur_per_mwh\n" + "\n".join(rows) + "\n")
    args = ["bench", "v2g", "--sessions", "residents:3:4", "--prices", str(prices)]
    args += ["--stations", "4", "--days", "1", "--station-kw", "7.4", "--capacity-kw", "20"]
    args += ["--battery-kwh", "50", "--arrival-soc", "0.5", "--min-soc", "0.2"]
    args += ["--efficiency", "0.9", "--degradation-eur-per-kwh", "0.02", "--json"]

    out = CliRunner().invoke(app, args)

    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    for key in (
        "cost_eur", "smart_cost_eur", "uncontrolled_cost_eur", "offline_cost_eur", "satisfaction",
        "min_soc_violations", "limit_violations", "discharged_kwh", "solve_ms_p95",
    ):  # fmt: skip
        assert key in result
    assert result["offline_cost_eur"] <= result["cost_eur"] + 1e-6
    assert result["satisfaction"] == 1.0


def test_residents_come_home_in_the_evening_and_leave_in_the_morning() -> None:
    assert parse_residents_spec("residents:5:30") == (5, 30)
    assert parse_residents_spec("caltech.csv.gz") is None
    with pytest.raises(ValueError):
        parse_residents_spec("residents:x:3")
    sessions = resident_sessions(5, 30, days=4)
    assert sessions == resident_sessions(5, 30, days=4)  # the seed fixes the draw
    assert sessions != resident_sessions(6, 30, days=4)
    for s in sessions:
        local = s.arrival.astimezone(timezone(timedelta(hours=1)))
        assert 15 <= local.hour <= 23
        assert timedelta(hours=5) < s.departure - s.arrival < timedelta(hours=19)
        assert 2.0 <= s.delivered_energy_kwh <= 40.0


@st.composite
def fleets(draw: st.DrawFn) -> tuple[list[V2gCar], list[float], float]:
    n = draw(st.integers(1, 6))
    cars = []
    for k in range(n):
        arrival = draw(st.integers(0, 20))
        stay = draw(st.integers(1, 24))
        gain = draw(st.floats(0.0, min(5.0, 0.8 * 4.0 * 0.25 * stay)))
        cars.append(V2gCar(f"c{k}", arrival, arrival + stay, 5.0, 5.0 + gain))
    prices = draw(st.lists(st.floats(-50.0, 300.0), min_size=1, max_size=12))
    capacity = draw(st.floats(2.0, 30.0))
    return cars, prices, capacity


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_the_online_plan_never_breaks_a_limit_nor_a_floor(
    case: tuple[list[V2gCar], list[float], float],
) -> None:
    cars, rows, capacity = case
    config = _with(capacity_kw=capacity)
    prices = slot_prices_eur_per_mwh(rows, 200)

    outcome = run_online(cars, config, prices, v2g=True)

    assert outcome.limit_violations == 0
    assert outcome.min_soc_violations == 0
