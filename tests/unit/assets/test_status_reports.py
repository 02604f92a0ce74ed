"""A status report: its history row, the connector's current state and the change event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, StatusRecord
from evhub.assets.service import EvseSpec
from evhub.db import create_engine, session_factory
from evhub.events.models import OutboxEvent
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 100.0)
        await assets.create_station(s, NOW, "CP-1", site.id, "station-password-0001", [EvseSpec(1)])
    yield uow
    await engine.dispose()


async def report(
    uow: UnitOfWork,
    status: str,
    at: datetime,
    evse_id: int = 1,
    connector_id: int = 1,
    error_code: str | None = None,
    info: str | None = None,
) -> bool:
    async with uow() as s:
        return await assets.record_status(
            s, "CP-1", evse_id, connector_id, status, at, NOW, error_code=error_code, info=info
        )


async def connector_state(uow: UnitOfWork, connector_id: int = 1) -> tuple[object, ...]:
    async with uow() as s:
        row = (
            await s.execute(
                select(Connector.status, Connector.error_code, Connector.status_at)
                .join(Evse)
                .where(Evse.station_id == "CP-1", Connector.connector_id == connector_id)
            )
        ).one()
    return tuple(row)


async def changes(uow: UnitOfWork) -> list[dict[str, object]]:
    async with uow() as s:
        rows = await s.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.kind == "status.changed")
            .order_by(OutboxEvent.id)
        )
        return [json.loads(p) for p in rows]


async def history(uow: UnitOfWork) -> list[tuple[object, ...]]:
    async with uow() as s:
        rows = await s.execute(
            select(StatusRecord.status, StatusRecord.timestamp).order_by(StatusRecord.id)
        )
        return [tuple(r) for r in rows]


async def test_a_change_updates_the_connector_and_is_published_with_the_previous_state(
    uow: UnitOfWork,
) -> None:
    assert await report(uow, "Charging", NOW) is True
    assert await report(uow, "Faulted", NOW + MIN, error_code="GroundFailure", info="x") is True

    assert await connector_state(uow) == ("Faulted", "GroundFailure", NOW + MIN)
    published = await changes(uow)
    assert [(c["status"], c["previous"]) for c in published] == [
        ("Charging", "Unknown"),
        ("Faulted", "Charging"),
    ]
    assert published[1] == {
        "station_id": "CP-1",
        "evse_id": 1,
        "connector_id": 1,
        "status": "Faulted",
        "error_code": "GroundFailure",
        "info": "x",
        "previous": "Charging",
    }


async def test_the_same_state_again_moves_its_time_but_publishes_nothing(uow: UnitOfWork) -> None:
    await report(uow, "Charging", NOW)
    assert await report(uow, "Charging", NOW + MIN) is False

    assert await connector_state(uow) == ("Charging", None, NOW + MIN)
    assert len(await changes(uow)) == 1
    assert await history(uow) == [("Charging", NOW), ("Charging", NOW + MIN)]


async def test_a_report_older_than_the_state_goes_to_the_history_only(uow: UnitOfWork) -> None:
    await report(uow, "Charging", NOW)
    assert await report(uow, "Available", NOW - MIN) is False  # queued offline, sent late

    assert await connector_state(uow) == ("Charging", None, NOW)
    assert await history(uow) == [("Charging", NOW), ("Available", NOW - MIN)]
    assert len(await changes(uow)) == 1


async def test_a_connector_the_station_had_not_described_is_created_on_its_first_report(
    uow: UnitOfWork,
) -> None:
    assert await report(uow, "Available", NOW, connector_id=2) is True
    assert await report(uow, "Occupied", NOW + MIN, connector_id=2) is True

    assert await connector_state(uow, connector_id=2) == ("Occupied", None, NOW + MIN)
    assert [c["previous"] for c in await changes(uow)] == ["Unknown", "Available"]


async def test_a_station_level_report_is_always_published(uow: UnitOfWork) -> None:
    for _ in range(2):
        assert await report(uow, "Unavailable", NOW, evse_id=0, connector_id=0) is False

    assert [(c["evse_id"], c["previous"]) for c in await changes(uow)] == [(0, None), (0, None)]
    assert len(await history(uow)) == 2


async def test_reports_of_one_transaction_follow_each_other(uow: UnitOfWork) -> None:
    """A batch of the station writer holds several reports of a connector: each is judged
    against the one before it, whose update is not written yet."""
    async with uow() as s:
        told = [
            await assets.record_status(s, "CP-1", 1, 1, "Charging", NOW, NOW),
            await assets.record_status(s, "CP-1", 1, 1, "Faulted", NOW + MIN, NOW, "Other"),
            await assets.record_status(s, "CP-1", 1, 1, "Available", NOW - MIN, NOW),
            await assets.record_status(s, "CP-1", 1, 1, "Faulted", NOW + 2 * MIN, NOW, "Other"),
        ]

    assert told == [True, True, False, False]
    assert await connector_state(uow) == ("Faulted", "Other", NOW + 2 * MIN)
    assert [(c["status"], c["previous"]) for c in await changes(uow)] == [
        ("Charging", "Unknown"),
        ("Faulted", "Charging"),
    ]
    assert len(await history(uow)) == 4


async def test_a_query_of_the_same_transaction_sees_the_deferred_rows(uow: UnitOfWork) -> None:
    async with uow() as s:
        await assets.record_status(s, "CP-1", 1, 1, "Charging", NOW, NOW)
        seen = await s.scalar(select(Connector.status).where(Connector.connector_id == 1))
        rows = list(await s.scalars(select(StatusRecord.status)))

    assert (seen, rows) == ("Charging", ["Charging"])


async def test_a_session_committed_without_the_unit_of_work_writes_them_too(
    uow: UnitOfWork,
) -> None:
    async with uow.sessions() as s, s.begin():
        await assets.record_status(s, "CP-1", 1, 1, "Charging", NOW, NOW)

    assert await connector_state(uow) == ("Charging", None, NOW)
    assert await history(uow) == [("Charging", NOW)]


async def test_a_rolled_back_transaction_leaves_nothing_to_a_later_one(uow: UnitOfWork) -> None:
    with pytest.raises(RuntimeError):
        async with uow() as s:
            await assets.record_status(s, "CP-1", 1, 1, "Faulted", NOW, NOW)
            raise RuntimeError("the operation failed")
    await report(uow, "Charging", NOW + MIN)

    assert await connector_state(uow) == ("Charging", None, NOW + MIN)
    assert await history(uow) == [("Charging", NOW + MIN)]
    assert [c["previous"] for c in await changes(uow)] == ["Unknown"]


async def test_a_next_transaction_of_the_same_session_reads_the_state_afresh(
    uow: UnitOfWork,
) -> None:
    async with uow.sessions() as s:
        async with s.begin():
            await assets.record_status(s, "CP-1", 1, 1, "Charging", NOW, NOW)
        await report(uow, "Faulted", NOW + MIN, error_code="Other")  # meanwhile, elsewhere
        async with s.begin():
            again = await assets.record_status(
                s, "CP-1", 1, 1, "Faulted", NOW + 2 * MIN, NOW, error_code="Other"
            )

    assert again is False  # the same state as the one written meanwhile: no change
    assert await connector_state(uow) == ("Faulted", "Other", NOW + 2 * MIN)
