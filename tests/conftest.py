"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

Set EVHUB_TEST_DATABASE_URL=postgresql+asyncpg://user@host:port/db to run on PostgreSQL: each
test then gets a database cloned from a migrated template and wiped back to it after the test
(`tests.pg_databases`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from evhub.db import migrate
from tests.pg_databases import DatabasePool, Template, admin

PG_URL = os.environ.get("EVHUB_TEST_DATABASE_URL")
# Per run, so that several runs can share one PostgreSQL server.
TEMPLATE_DB = f"evhub_test_template_{os.getpid()}"


async def _pg_admin(sql: str) -> None:
    assert PG_URL is not None
    await admin(PG_URL, sql)


# A test that asks for none of these runs the same on both engines.
DATABASE_FIXTURES = frozenset(
    {"database_url", "other_database_url", "migrated_template", "pg_pool", "backend"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run again only the tests that touch a database: the others (pure logic,
    parsers, the simulator, commands on their own SQLite file) ran already on SQLite."""
    if PG_URL is None:
        return
    kept = [i for i in items if DATABASE_FIXTURES & set(getattr(i, "fixturenames", ()))]
    ids = {id(i) for i in kept}
    config.hook.pytest_deselected(items=[i for i in items if id(i) not in ids])
    items[:] = kept


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


@pytest.fixture(scope="session")
def pg_pool(migrated_template: str) -> Iterator[DatabasePool | None]:
    """The PostgreSQL databases that tests borrow (None on SQLite)."""
    if PG_URL is None:
        yield None
        return
    pool = DatabasePool(PG_URL, asyncio.run(Template.read(PG_URL, migrated_template)))
    yield pool
    asyncio.run(pool.drop_all())


async def borrow_database(
    migrated_template: str, pg_pool: DatabasePool | None, path: Path
) -> AsyncIterator[str]:
    """A fresh database at the latest migration: a copy of the SQLite template at `path`, or
    a PostgreSQL database borrowed from the pool."""
    if pg_pool is None:
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    assert PG_URL is not None
    name = await pg_pool.take()
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await pg_pool.give_back(name)


@pytest.fixture
async def database_url(
    migrated_template: str, pg_pool: DatabasePool | None, tmp_path: Path
) -> AsyncIterator[str]:
    async for url in borrow_database(migrated_template, pg_pool, tmp_path / "evhub.sqlite3"):
        yield url


@pytest.fixture
def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"
