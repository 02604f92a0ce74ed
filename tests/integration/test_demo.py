"""The demo (the main job) runs end to end: server, hub over REST, stations over OCPP, planner,
shared cars booked and driven."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from evhub.demo.run import fresh_demo_database, run_demo
from evhub.settings import Settings


async def test_demo_runs_a_morning_of_the_hub(tmp_path: Path) -> None:
    settings = Settings(
        database_url=fresh_demo_database(tmp_path), var_dir=tmp_path, port=0, plan_interval_s=300.0
    )
    with (tmp_path / "screen.txt").open("w") as screen_file:
        console = Console(file=screen_file, width=100)
        summary = await run_demo(settings, speed=300.0, hours=1.75, seed=3, console=console)
    assert summary.sessions >= 2
    assert summary.energy_kwh > 1.0
    assert 0 < summary.peak_kw <= 250.0
    screen = (tmp_path / "screen.txt").read_text()
    assert "stations connected" in screen and "shared cars" in screen
    # Shared cars booked at the hub and driven: those out at the end are brought back then.
    assert summary.cars is not None and summary.cars.bookings >= 3
    assert summary.cars.trips >= 2 and summary.cars.refused == 0
    assert summary.cars.charged == 1  # the Zoe, back late and low from its long morning
