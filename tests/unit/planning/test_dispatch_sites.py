"""The planner's sender: sites at once, each site's plans one at a time. A station that never
answers holds back its own site's limits, not another site's."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, cast

from evhub.clock import FrozenClock
from evhub.control import ChargingLimit, CommandResult
from evhub.planning.live import SitePlan
from evhub.planning.loop import PlanningLoop

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
SILENT, HEALTHY = ("S-SILENT", 1), ("S-OK", 1)


class Stations:
    """Answers every SetChargingProfile at once, but for the silent station's: never."""

    def __init__(self) -> None:
        self.asked: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.calls: dict[str, int] = defaultdict(int)

    def is_connected(self, station_id: str) -> bool:
        return True

    async def set_charging_limit(self, station_id: str, limit: ChargingLimit) -> CommandResult:
        self.calls[station_id] += 1
        self.asked[station_id].set()
        if station_id == SILENT[0]:
            await asyncio.Event().wait()  # the station never answers
        return CommandResult("Accepted")


def _plan(site_id: int, evse: tuple[str, int], allowance_kw: float) -> SitePlan:
    """A site with one idle EVSE, to be told its TxDefault."""
    return SitePlan(site_id, T0, T0, 5.0, 50.0, 45.0, "lp", "optimal", 1.0, (),
                    {evse: allowance_kw}, {})  # fmt: skip


async def test_a_silent_station_holds_back_its_own_site_only() -> None:
    stations = Stations()
    loop = PlanningLoop(cast(Any, None), cast(Any, stations), FrozenClock(T0))
    loop.journal = cast(Any, None)  # nothing written: the loop's in-force cache is enough here
    sender = asyncio.create_task(loop._dispatcher())
    try:
        loop._to_send[1] = (_plan(1, SILENT, 1.0), frozenset({SILENT}))
        loop._send_wake.set()
        await asyncio.wait_for(stations.asked[SILENT[0]].wait(), 5)
        # Site 1 now waits on its silent station; site 2's plan goes out meanwhile.
        loop._to_send[2] = (_plan(2, HEALTHY, 1.0), frozenset({HEALTHY}))
        loop._send_wake.set()
        await asyncio.wait_for(stations.asked[HEALTHY[0]].wait(), 5)
        for _ in range(5):  # its answer is recorded in the turns that follow
            await asyncio.sleep(0)
        assert loop.in_force[HEALTHY].kind == "default"
        # A newer plan of site 1 waits for the one in flight (one plan at a time per site),
        # and a plan superseded while waiting is never sent.
        loop._to_send[1] = (_plan(1, SILENT, 2.0), frozenset({SILENT}))
        loop._to_send[1] = (_plan(1, SILENT, 3.0), frozenset({SILENT}))
        loop._send_wake.set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert stations.calls[SILENT[0]] == 1 and 1 in loop._to_send
        assert loop._to_send[1][0].idle_allowance_kw[SILENT] == 3.0
        assert loop._sending == {1}  # site 2's sender is done
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
