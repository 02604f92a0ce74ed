"""Integration fixtures: the real server, with a site, stations and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.live_server import LiveServer, run_server


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(database_url) as live:
        yield live
