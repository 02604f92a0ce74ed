"""A driver's remote start and stop: the station is asked only once the read transaction is
closed, with the driver's app token, and its answers become words for the driver; a driver
stops only their own session. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.accounts import passes
from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.control import CommandResult
from evhub.db import create_engine, session_factory
from evhub.errors import Conflict, NotFound, StationTimeout, StationUnavailable
from evhub.remote import driver_charging
from evhub.uow import UnitOfWork

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class CountedSessions:
    """The session factory, counting the sessions open (a station call must see none)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory, self.open = factory, 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.open += 1
        try:
            async with self.factory() as session:
                yield session
        finally:
            self.open -= 1


class FakeStation:
    """Answers remote starts and stops as told, and notes whether a session was open."""

    def __init__(self, sessions: CountedSessions, answer: Any = "Accepted") -> None:
        self.sessions, self.answer = sessions, answer
        self.calls: list[tuple[Any, ...]] = []

    async def _reply(self, *call: Any) -> CommandResult:
        assert self.sessions.open == 0, "the station was called inside a database transaction"
        self.calls.append(call)
        if isinstance(self.answer, Exception):
            raise self.answer
        return CommandResult(self.answer, {"statusInfo": {"reasonCode": "Occupied"}})

    async def remote_start(self, *args: Any) -> CommandResult:
        return await self._reply("start", *args)

    async def remote_stop(self, *args: Any) -> CommandResult:
        return await self._reply("stop", *args)


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def hub(uow: UnitOfWork) -> tuple[int, str]:
    """A station online with one free EVSE, and a driver with an app token: (driver, uid)."""
    async with uow() as s:
        site = await assets.create_site(s, T0, "Quai 9", "Europe/Paris", 100.0)
        await assets.create_station(
            s, T0, "CP-1", site.id, "secret-password-1", [assets.EvseSpec(1)]
        )
        await assets.record_status(s, "CP-1", 1, 1, "Available", T0, T0)
        (await assets.get_station(s, "CP-1")).online = True
        driver = await accounts.create_driver(s, "Ada", "ada@example.org", "visitor", T0)
        token = await passes.issue_app_token(s, driver, "FR", "EVH", T0)
        return driver.id, token.uid


async def test_a_start_asks_the_station_with_the_app_token_outside_any_transaction(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    sessions = CountedSessions(factory)
    driver, uid = await hub(UnitOfWork(factory))
    station = FakeStation(sessions)
    target = await driver_charging.start_charge(sessions, station, driver, "CP-1", 1)  # type: ignore[arg-type]
    assert station.calls == [("start", "CP-1", 1, uid, target.request_id)]


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (
            "Rejected",
            driver_charging.ChargeRefused,
            "refused to start the charge (Rejected: Occupied)",
        ),
        (StationUnavailable("gone"), StationUnavailable, "CP-1 is offline"),
        (StationTimeout("late"), StationTimeout, "CP-1 did not answer"),
    ],
)
async def test_what_the_station_says_is_told_in_words(
    factory: async_sessionmaker[AsyncSession], answer: Any, error: type[Exception], words: str
) -> None:
    sessions = CountedSessions(factory)
    driver, _ = await hub(UnitOfWork(factory))
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        await driver_charging.start_charge(
            sessions, FakeStation(sessions, answer), driver, "CP-1", 1
        )  # type: ignore[arg-type]


async def test_the_station_is_not_asked_when_the_start_cannot_be(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    uow, sessions = UnitOfWork(factory), CountedSessions(factory)
    driver, uid = await hub(uow)
    station = FakeStation(sessions)
    with pytest.raises(NotFound, match="charge point 2"):
        await driver_charging.start_charge(sessions, station, driver, "CP-1", 2)  # type: ignore[arg-type]
    async with uow() as s:
        await passes.set_status_by_driver(s, driver, uid, "Blocked", T0)
    with pytest.raises(Conflict, match="app token is blocked"):
        await driver_charging.start_charge(sessions, station, driver, "CP-1", 1)  # type: ignore[arg-type]
    async with uow() as s:
        await passes.set_status_by_driver(s, driver, uid, "Accepted", T0)
        (await assets.get_station(s, "CP-1")).online = False
    with pytest.raises(StationUnavailable, match="offline"):
        await driver_charging.start_charge(sessions, station, driver, "CP-1", 1)  # type: ignore[arg-type]
    assert station.calls == []


async def test_a_driver_stops_only_their_own_running_session(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    uow, sessions = UnitOfWork(factory), CountedSessions(factory)
    driver, uid = await hub(uow)
    async with uow() as s:
        other = await accounts.create_driver(s, "Bo", "bo@example.org", "visitor", T0)
        start = charging.TransactionStart(
            "CP-1", 1, 1, T0, 1000, uid, "2.0.1", station_transaction_id="tx-9"
        )
        tx = (await charging.open_transaction(s, T0, start)).transaction
    station = FakeStation(sessions)
    with pytest.raises(Conflict, match="in use"):
        await driver_charging.start_charge(sessions, station, driver, "CP-1", 1)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await driver_charging.stop_charge(sessions, station, other.id, tx.id)  # type: ignore[arg-type]
    await driver_charging.stop_charge(sessions, station, driver, tx.id)  # type: ignore[arg-type]
    assert station.calls == [("stop", "CP-1", "tx-9")]
