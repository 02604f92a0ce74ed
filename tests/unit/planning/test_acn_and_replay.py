"""Reading ACN-Data exports and replaying them through the planners."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evhub.planning.acn import AcnFormatError, read_acn_sessions
from evhub.planning.replay import (
    DEFAULT_DECLARED_NEED_KWH,
    ReplayConfig,
    ReplaySession,
    replay,
    to_replay_sessions,
)
from evhub.planning.replay_cli import planning

HEADER = (
    "arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,session_id,"
    "estimated_departure,claimed\n"
)
ROWS = (
    # arrives 08:02 (slot 96), leaves 10:00 (slot 120); declared departure before arrival
    "2019-05-01 08:02:00-07:00,2019-05-01 10:00:00-07:00,10.0,8.5,CA-1,s1,"
    "2019-05-01 07:00:00-07:00,True\n"
    # arrives 07:00 (slot 84) the same day, declared need 0
    "2019-05-01 07:00:00-07:00,2019-05-01 17:30:00-07:00,0.0,20.0,CA-2,s2,"
    "2019-05-01 16:00:00-07:00,False\n"
    # stays less than a slot: skipped
    "2019-05-01 09:00:10-07:00,2019-05-01 09:03:00-07:00,1.0,0.1,CA-3,s3,"
    "2019-05-01 10:00:00-07:00,True\n"
)
# The shared data folder sits beside the repository (../shared/data/acn).
CALTECH = (
    Path(__file__).resolve().parents[4]
    / "shared"
    / "data"
    / "acn"
    / "caltech_2019-05-01_2019-08-31.csv.gz"
)


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sessions.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(HEADER + ROWS)
    return path


def test_the_reader_parses_rows_sorted_by_arrival(small_csv: Path) -> None:
    sessions = read_acn_sessions(small_csv)

    assert [s.session_id for s in sessions] == ["s2", "s1", "s3"]
    assert sessions[1].delivered_energy_kwh == 8.5
    assert sessions[1].claimed is True
    assert sessions[0].arrival.utcoffset() is not None


def test_a_file_without_the_acn_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    with pytest.raises(AcnFormatError, match="arrival"):
        read_acn_sessions(path)


def test_sessions_are_slotted_from_midnight_and_declared_values_clipped(small_csv: Path) -> None:
    slotted, skipped = to_replay_sessions(read_acn_sessions(small_csv))

    s2, s1 = slotted
    assert skipped == 1
    assert (s1.arrival_slot, s1.departure_slot, s1.need_kwh) == (96, 120, 8.5)
    assert s1.declared_departure_slot == 97  # declared before arrival: arrival + 1 slot
    assert (s2.arrival_slot, s2.departure_slot) == (84, 210)
    assert s2.declared_need_kwh == DEFAULT_DECLARED_NEED_KWH


@pytest.fixture(scope="module")
def two_days() -> list[ReplaySession]:
    if not CALTECH.exists():
        pytest.skip("ACN-Data files not available")
    slotted, _ = to_replay_sessions(read_acn_sessions(CALTECH), limit_days=2)
    return list(slotted)


@pytest.mark.parametrize("capacity_kw", [20.0, 50.0])
def test_the_lp_replay_sits_between_least_laxity_first_and_the_offline_bound(
    two_days: list[ReplaySession], capacity_kw: float
) -> None:
    results = {
        name: replay(two_days, ReplayConfig(capacity_kw=capacity_kw, algorithm=name))
        for name in ("lp", "llf", "offline")
    }

    lp, llf, offline = results["lp"], results["llf"], results["offline"]
    assert lp.energy_delivered_pct >= llf.energy_delivered_pct - 0.01
    assert lp.energy_delivered_pct <= offline.energy_delivered_pct + 0.01
    assert lp.limit_violations == llf.limit_violations == offline.limit_violations == 0
    assert lp.peak_kw <= capacity_kw + 1e-6
    assert lp.replans > 0 and lp.statuses.get("fallback", 0) == 0


def test_uncontrolled_charging_breaks_the_limit_that_the_planner_keeps(
    two_days: list[ReplaySession],
) -> None:
    unmanaged = replay(two_days, ReplayConfig(capacity_kw=20.0, algorithm="uncontrolled"))
    declared = replay(two_days, ReplayConfig(capacity_kw=20.0, declared=True))

    assert unmanaged.limit_violations > 0
    assert unmanaged.peak_kw > 20.0
    assert declared.limit_violations == 0
    assert 0 < declared.energy_delivered_pct <= 100


def test_the_bench_command_prints_one_json_object(small_csv: Path) -> None:
    app = typer.Typer()
    app.command()(planning)

    outcome = CliRunner().invoke(
        app, ["--sessions", str(small_csv), "--capacity-kw", "5", "--json", "--algorithm", "llf"]
    )

    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.output)
    assert result["algorithm"] == "llf"
    assert result["sessions"] == 2
    assert result["sessions_skipped"] == 1
    assert result["limit_violations"] == 0


@pytest.mark.parametrize("algorithm", ["lp", "llf"])
def test_a_car_full_before_its_declared_need_hands_its_power_on_at_the_next_slot(
    algorithm: str,
) -> None:
    # one car at a time fits under the limit; the first overstates its need tenfold, so the
    # planner serves it first and learns only from the charger that it is full (slot 1)
    sessions = [
        ReplaySession(
            "over", 0, 20, need_kwh=1.0, declared_departure_slot=20, declared_need_kwh=10.0
        ),
        ReplaySession(
            "next", 0, 14, need_kwh=5.0, declared_departure_slot=14, declared_need_kwh=5.0
        ),
    ]
    config = ReplayConfig(capacity_kw=6.656, algorithm=algorithm, declared=True)

    result = replay(sessions, config)

    # "next" needs 9 of its 14 slots at full power: it must get the limit from slot 2 on
    assert result.demands_met_pct == pytest.approx(100.0)
    assert result.energy_delivered_pct == pytest.approx(100.0)
    assert result.limit_violations == 0
