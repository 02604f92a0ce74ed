"""Smart charging: a pure planner over snapshot value objects.

`plan(request)` solves the lexicographic linear programme (HiGHS); `plan_with_heuristic(request,
name)` runs a sorting baseline with the same interface. Both are CPU-bound and free of I/O: call
them off the event loop, e.g. `await anyio.to_thread.run_sync(plan, request)`.
"""

from evhub.planning.heuristics import HEURISTICS, plan_with_heuristic
from evhub.planning.model import (
    POWER_EPSILON_KW,
    Circuit,
    InfeasibleError,
    Plan,
    PlanningError,
    PlanRequest,
    PlanStatus,
    SessionDemand,
    SiteLimits,
)
from evhub.planning.optimiser import plan

__all__ = [
    "HEURISTICS",
    "POWER_EPSILON_KW",
    "Circuit",
    "InfeasibleError",
    "Plan",
    "PlanRequest",
    "PlanStatus",
    "PlanningError",
    "SessionDemand",
    "SiteLimits",
    "plan",
    "plan_with_heuristic",
]
