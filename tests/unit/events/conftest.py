"""The event log on a fresh database of each backend: its unit of work, log and relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from evhub.clock import SystemClock
from evhub.db import create_engine, is_sqlite, session_factory
from evhub.events import emit
from evhub.events.log import SqlEventLog
from evhub.events.relay import Relay, RelayTuning
from evhub.uow import UnitOfWork

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Log:
    uow: UnitOfWork
    log: SqlEventLog
    url: str

    def relay(self, **tuning: float) -> Relay:
        settings = {"poll_s": 0.2, "retry_s": 0.01, "retry_max_s": 0.05} | tuning
        return Relay(self.log, self.uow, SystemClock(), RelayTuning(**settings))  # type: ignore[arg-type]

    async def emit(self, *numbers: int, kind: str = "test.numbered") -> None:
        """One transaction with one event per number."""
        async with self.uow() as session:
            for n in numbers:
                emit(session, kind, AT, n=n)


@pytest.fixture
async def events(database_url: str) -> AsyncIterator[Log]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    log = SqlEventLog(uow.sessions, uow.bell, postgres=not is_sqlite(database_url))
    yield Log(uow, log, database_url)
    await engine.dispose()
