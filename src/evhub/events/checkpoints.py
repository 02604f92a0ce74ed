"""Consumers' checkpoints: the position of the last event each named consumer processed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events.log import START, Position
from evhub.events.models import ConsumerCheckpoint

_T = cast(Table, ConsumerCheckpoint.__table__)


async def ensure(session: AsyncSession, name: str, now: datetime) -> Position:
    """The consumer's checkpoint, created at the start of the log if it has none."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {"name": name, "last_txid": START.txid, "last_id": START.id, "updated_at": now}
    await session.execute(dialect.insert(_T).values(values).on_conflict_do_nothing())
    return await load(session, name)


async def load(session: AsyncSession, name: str) -> Position:
    row = (
        await session.execute(select(_T.c.last_txid, _T.c.last_id).where(_T.c.name == name))
    ).one()
    return Position(*row)


async def advance(
    session: AsyncSession, name: str, expected: Position, to: Position, now: datetime
) -> bool:
    """Move the checkpoint from `expected` to `to`; False if it is no longer at `expected`
    (another runner of the same consumer moved it): the caller rolls back and reloads."""
    result = await session.execute(
        update(_T)
        .where(_T.c.name == name, tuple_(_T.c.last_txid, _T.c.last_id) == tuple_(*expected))
        .values(last_txid=to.txid, last_id=to.id, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def positions(session: AsyncSession, names: Iterable[str]) -> dict[str, Position]:
    """The checkpoints of these consumers; one that has none yet counts as at the start."""
    wanted = list(names)
    rows = await session.execute(
        select(_T.c.name, _T.c.last_txid, _T.c.last_id).where(_T.c.name.in_(wanted))
    )
    found = {name: Position(txid, id_) for name, txid, id_ in rows}
    return {name: found.get(name, START) for name in wanted}
