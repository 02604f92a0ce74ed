"""With the drivers' declared values: the LP, least-laxity-first, and least-laxity-first given the
same spare capacity as the LP (`evhub.planning.spare`), over one Caltech file and capacities.

    .venv/bin/python benchmarks/declared_spare.py \
        --sessions ../shared/data/acn/caltech_2019-05-01_2019-08-31.csv.gz --capacity-kw 20 30 50

One JSON line per run. `lp` and `llf` are exactly `evhub bench planning --declared [--algorithm
llf]`; `llf+spare` is least-laxity-first whose plans also offer what they leave of the capacity,
shared the same way, to every car plugged in: it separates what the spare brings from what the
LP's order of service brings.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from evhub.planning import replay as replay_module
from evhub.planning.acn import read_acn_sessions
from evhub.planning.heuristics import plan_with_heuristic
from evhub.planning.model import Plan, PlanRequest
from evhub.planning.replay import ReplayConfig, replay, to_replay_sessions
from evhub.planning.spare import spare_kw


def _llf_with_spare(request: PlanRequest, algorithm: str = "llf") -> Plan:
    result = plan_with_heuristic(request, algorithm)
    return replace(result, spare_kw=spare_kw(request, result.power_kw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=Path, required=True)
    parser.add_argument("--capacity-kw", type=float, nargs="+", default=[20.0, 30.0, 50.0])
    parser.add_argument("--stations", type=int, default=54)
    parser.add_argument("--runs", nargs="+", default=["lp", "llf", "llf+spare"])
    args = parser.parse_args()
    sessions, _ = to_replay_sessions(read_acn_sessions(args.sessions), stations=args.stations)
    textbook = plan_with_heuristic
    for capacity in args.capacity_kw:
        for run in args.runs:
            algorithm = run.removesuffix("+spare")
            replay_module.plan_with_heuristic = (  # type: ignore[attr-defined]
                _llf_with_spare if run.endswith("+spare") else textbook
            )
            config = ReplayConfig(capacity_kw=capacity, algorithm=algorithm, declared=True)
            result = replay(sessions, config, file=args.sessions.name, stations=args.stations)
            print(json.dumps({"run": run, **result.to_dict()}, sort_keys=True), flush=True)
    replay_module.plan_with_heuristic = textbook  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
