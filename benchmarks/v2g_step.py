"""One V2G planning step: N cars x 96 quarter-hour slots with hourly prices, battery floors and
ceilings, wear; the LP of `evhub.planning.plan` timed over random sites (p50 / p95)."""

from __future__ import annotations

import argparse
import json

import numpy as np

from evhub.planning import PlanRequest, SessionDemand, SiteLimits, plan


def random_request(rng: np.random.Generator, cars: int) -> PlanRequest:
    sessions = []
    for k in range(cars):
        depart = int(rng.integers(32, 97))
        energy_now = float(rng.uniform(15.0, 45.0))
        sessions.append(
            SessionDemand(
                session_id=f"c{k}",
                energy_kwh=float(
                    rng.uniform(0.0, min(20.0, 0.9 * 7.4 * depart / 4, 60.0 - energy_now))
                ),
                arrival_slot=0,
                departure_slot=depart,
                max_power_kw=7.4,
                v2g_max_discharge_kw=7.4,
                efficiency=0.9,
                battery_room_kwh=60.0 - energy_now,
                discharge_room_kwh=energy_now - 12.0,
            )
        )
    hourly = rng.normal(50.0, 20.0, 24) / 1000.0
    prices = tuple(float(p) for p in np.repeat(hourly, 4))
    site = SiteLimits(capacity_kw=0.3 * 7.4 * cars, peak_floor_kw=0.3 * 7.4 * cars)
    return PlanRequest(0, 15.0, 96, tuple(sessions), site, prices, 0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cars", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    times, statuses = [], {}
    for _ in range(args.runs):
        result = plan(random_request(rng, args.cars))
        times.append(result.solve_ms)
        statuses[str(result.status)] = statuses.get(str(result.status), 0) + 1
    print(
        json.dumps(
            {
                "cars": args.cars,
                "slots": 96,
                "p50_ms": float(np.percentile(times, 50)),
                "p95_ms": float(np.percentile(times, 95)),
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    main()
