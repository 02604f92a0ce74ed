"""Account services on a migrated database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from evhub.accounts.config import AccountConfig
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CONFIG = AccountConfig(
    secret=b"s" * 48, base_url="http://hub.test", country_code="FR", provider_id="EVH"
)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()
