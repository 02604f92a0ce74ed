"""Integration fixtures: the real server, with a site, stations and tokens."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, _pg_admin
from tests.integration.live_server import LiveServer, run_server


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(database_url) as live:
        yield live


@pytest.fixture
async def other_database_url(migrated_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second database like `database_url`, for the second server."""
    if PG_URL is None:
        path = tmp_path / "other.sqlite3"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"evhub_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {migrated_template}")
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
