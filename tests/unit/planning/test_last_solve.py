"""A site asked the same question twice gets the same plan, solved once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.planning.test_live_dispatch import AC1, AC2, running, snapshot

from evhub.planning import live
from evhub.planning.live import LastSolve, plan_site
from evhub.planning.model import Plan, PlanRequest


@pytest.fixture
def solves(monkeypatch: pytest.MonkeyPatch) -> list[PlanRequest]:
    asked: list[PlanRequest] = []
    solve = live._solve

    def counted(request: PlanRequest, time_limit_s: float) -> Plan:
        asked.append(request)
        return solve(request, time_limit_s)

    monkeypatch.setattr(live, "_solve", counted)
    return asked


def test_an_unchanged_site_is_not_solved_again(solves: list[PlanRequest]) -> None:
    snap = snapshot([running(1, AC1, 30, 2), running(2, AC2, 12, 1)], [AC1, AC2],
                    {AC1.key, AC2.key}, 25.0)  # fmt: skip
    last = LastSolve()
    first = plan_site(snap, {}, previous_solve=last)
    again = plan_site(snap, {}, previous_solve=last)
    assert len(solves) == 1
    assert again.allocations == first.allocations and again.reserved == first.reserved
    assert again.solve_ms == 0.0 and again.status == first.status
    assert plan_site(snap, {}).allocations == first.allocations  # as a solve of its own


def test_a_site_whose_state_moved_is_solved_again(solves: list[PlanRequest]) -> None:
    cars = [running(1, AC1, 30, 2), running(2, AC2, 12, 1)]
    snap = snapshot(cars, [AC1, AC2], {AC1.key, AC2.key}, 25.0)
    last = LastSolve()
    plan_site(snap, {}, previous_solve=last)
    metered = replace(cars[1], need=replace(cars[1].need, remaining_kwh=11.5))
    moved = plan_site(replace(snap, running=(cars[0], metered)), {}, previous_solve=last)
    tighter = plan_site(replace(snap, grid_limit_kw=20.0), {}, previous_solve=last)
    assert len(solves) == 3
    assert moved.allocations == plan_site(replace(snap, running=(cars[0], metered)), {}).allocations
    assert sum(a.limit_kw for a in tighter.allocations) <= 20.0 + 1e-6
