"""Leadership by advisory locks: one holder at a time, and a takeover when its session ends."""

from __future__ import annotations

import asyncio
import os

import pytest

from evhub.cluster.leadership import AdvisoryLocks
from evhub.cluster.node import asyncpg_dsn

PG_URL = os.environ.get("EVHUB_TEST_DATABASE_URL") or ""
pytestmark = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"), reason="advisory locks are PostgreSQL's"
)


async def _until(check: object, timeout_s: float = 10.0) -> None:
    assert callable(check)
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.02)  # no event to await: the other node polls the lock


async def test_one_node_leads_and_the_other_takes_over_when_its_session_ends(
    database_url: str,
) -> None:
    one, two = (AdvisoryLocks(asyncpg_dsn(database_url), name, 0.05) for name in ("n1", "n2"))
    ran: list[str] = []

    def loop(name: str) -> object:
        async def body() -> None:
            ran.append(name)
            await asyncio.Event().wait()

        return body

    async with asyncio.TaskGroup() as group:
        session_one = group.create_task(one.run())
        session_two = group.create_task(two.run())
        led_one = group.create_task(one.lead("watchdog", loop("n1"))())  # type: ignore[arg-type]
        await _until(lambda: ran == ["n1"])
        led_two = group.create_task(two.lead("watchdog", loop("n2"))())  # type: ignore[arg-type]
        sites = group.create_task(two.lead_each("planning.site", _sites, _ignore))
        await _until(lambda: two.held >= {"planning.site.1", "planning.site.2"})
        await asyncio.sleep(0.3)  # several polls of node 2: it must stay a follower
        assert ran == ["n1"] and not two.leads("watchdog")

        session_one.cancel()  # node 1's session ends, as when its process dies
        await _until(lambda: ran == ["n1", "n2"])
        assert one.held == set() and two.leads("watchdog")
        for task in (led_one, led_two, sites, session_two):
            task.cancel()


async def _sites() -> list[int]:
    return [1, 2]


async def _ignore(_site_id: int) -> None:
    return None
