"""The planner's timer re-plans each site an interval after its own last plan, not every site
at once: sites planned at different times (by events) stay apart."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from evhub.clock import FrozenClock
from evhub.planning.loop import PlanningLoop

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def _turns() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_each_site_comes_due_an_interval_after_its_own_last_plan() -> None:
    clock = FrozenClock(T0)
    loop = PlanningLoop(cast(Any, None), cast(Any, None), clock, interval_s=60.0)
    loop._planned_at = {1: T0, 2: T0 + timedelta(seconds=20)}  # as two plans would leave it
    timer = asyncio.create_task(loop._timer())
    try:
        await _turns()
        assert loop._dirty == set()

        clock.advance(60)
        await _turns()
        assert loop._dirty == {1}  # site 2 was planned 40 s ago

        loop._dirty.clear()
        clock.advance(20)
        await _turns()
        assert loop._dirty == {2}

        # A plan by an event postpones the site's next timer plan.
        loop._dirty.clear()
        loop._planned_at[1] = clock.now()
        clock.advance(40)  # site 1 was due here, 60 s after T0 + 60
        await _turns()
        assert loop._dirty == set()
        clock.advance(20)
        await _turns()
        assert loop._dirty == {1, 2}  # site 2 again, 60 s after T0 + 80
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
