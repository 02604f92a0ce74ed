"""Time one planning step (LP and least-laxity-first) for 100 and 1,000 random vehicles.

Usage: python benchmarks/planning_step.py [--repeats 20] [--seed 1] [--peak-floor-at-capacity]

Each case is a site with 15-minute slots over a 96-slot (24 h) horizon; 80 % of the vehicles are
plugged in now, the rest arrive within the next 12 h; stays of 2-24 h, needs of 2-60 kWh, 7.4 or
11 kW chargers; the site capacity is 30 % of the chargers' total. By default the peak floor is 0,
so the LP flattens the peak before it charges as soon as possible; `--peak-floor-at-capacity` sets
it to the capacity (charge as soon as possible, as the replay does). With 1,000 vehicles the LP
uses coarse blocks after the first hour (see `evhub.planning.lp_model`).
Prints p50 and p95 step times in ms, the LP's statuses, and the ratios of the LP's p50 and p95 to
least-laxity-first's on the same requests (targets: 100 vehicles under 50 ms p95, 1,000 under 1 s).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from evhub.planning import PlanRequest, SessionDemand, SiteLimits, plan, plan_with_heuristic

HORIZON_SLOTS = 96


def random_request(n_cars: int, rng: np.random.Generator, floor: bool = False) -> PlanRequest:
    arrival = np.where(rng.random(n_cars) < 0.8, 0, rng.integers(1, 48, n_cars))
    stay = rng.integers(8, 97, n_cars)
    max_kw = rng.choice([7.4, 11.0], n_cars)
    need = rng.uniform(2.0, 60.0, n_cars)
    sessions = tuple(
        SessionDemand(
            session_id=f"car-{i}",
            energy_kwh=float(need[i]),
            arrival_slot=int(arrival[i]),
            departure_slot=int(min(arrival[i] + stay[i], HORIZON_SLOTS)),
            max_power_kw=float(max_kw[i]),
        )
        for i in range(n_cars)
    )
    capacity = float(0.3 * max_kw.sum())
    site = SiteLimits(capacity_kw=capacity, peak_floor_kw=capacity if floor else 0.0)
    return PlanRequest(0, 15.0, HORIZON_SLOTS, sessions, site)


def time_ms(requests: list[PlanRequest], algorithm: str) -> tuple[np.ndarray, Counter[str]]:
    out = []
    statuses: Counter[str] = Counter()
    for request in requests:
        started = time.perf_counter()
        result = plan(request) if algorithm == "lp" else plan_with_heuristic(request, algorithm)
        out.append((time.perf_counter() - started) * 1000.0)
        statuses[str(result.status)] += 1
    return np.array(out), statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peak-floor-at-capacity", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'cars':>6} {'algorithm':>9} {'p50 ms':>9} {'p95 ms':>9}  statuses")
    for n_cars in (100, 1000):
        requests = [
            random_request(n_cars, rng, args.peak_floor_at_capacity) for _ in range(args.repeats)
        ]
        p50, p95 = {}, {}
        for algorithm in ("lp", "llf"):
            ms, statuses = time_ms(requests, algorithm)
            p50[algorithm] = float(np.percentile(ms, 50))
            p95[algorithm] = float(np.percentile(ms, 95))
            shown = dict(statuses)
            print(
                f"{n_cars:>6} {algorithm:>9} {p50[algorithm]:>9.1f} {p95[algorithm]:>9.1f}  {shown}"
            )
        ratio50, ratio95 = p50["lp"] / p50["llf"], p95["lp"] / p95["llf"]
        print(f"{n_cars:>6} {'lp/llf':>9} {ratio50:>9.1f} {ratio95:>9.1f}")


if __name__ == "__main__":
    main()
