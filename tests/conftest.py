"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

Set EVHUB_TEST_DATABASE_URL=postgresql+asyncpg://user@host:port/db to run on PostgreSQL: each
test then gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from evhub.db import migrate

PG_URL = os.environ.get("EVHUB_TEST_DATABASE_URL")
# Per run, so that several runs can share one PostgreSQL server.
TEMPLATE_DB = f"evhub_test_template_{os.getpid()}"


def _pg_dsn(url: str, database: str) -> str:
    u = make_url(url).set(drivername="postgresql", database=database)
    return u.render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    assert PG_URL is not None
    conn = await asyncpg.connect(_pg_dsn(PG_URL, make_url(PG_URL).database or "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the latest migration, cloned by every test (migrating once is enough)."""
    if PG_URL is None:
        path = tmp_path_factory.mktemp("db") / "template.sqlite3"
        migrate(f"sqlite+aiosqlite:///{path}")
        yield str(path)
        return

    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}"))
    asyncio.run(_pg_admin(f"CREATE DATABASE {TEMPLATE_DB}"))
    migrate(make_url(PG_URL).set(database=TEMPLATE_DB).render_as_string(hide_password=False))
    yield TEMPLATE_DB
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}"))


@pytest.fixture
async def database_url(migrated_template: str, tmp_path: Path) -> AsyncIterator[str]:
    if PG_URL is None:
        path = tmp_path / "evhub.sqlite3"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"evhub_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {migrated_template}")
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"
