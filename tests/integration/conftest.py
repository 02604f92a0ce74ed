"""Integration fixtures: the real server, with a site, stations and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import borrow_database
from tests.integration.live_server import LiveServer, run_server
from tests.pg_databases import DatabasePool


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(database_url) as live:
        yield live


@pytest.fixture
async def other_database_url(
    migrated_template: str, pg_pool: DatabasePool | None, tmp_path: Path
) -> AsyncIterator[str]:
    """A second database like `database_url`, for the second server."""
    async for url in borrow_database(migrated_template, pg_pool, tmp_path / "other.sqlite3"):
        yield url
