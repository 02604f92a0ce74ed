"""Reading the event log in commit order, and the interface a broker can stand behind.

Ordering on PostgreSQL: ids come from a sequence when a row is inserted, so two concurrent
transactions can commit out of id order, and a reader of `id > checkpoint` would step over a
row that commits after it has read a higher id. Each row therefore stores the id of the
transaction that wrote it (`pg_current_xact_id()`), and the log is read in `(txid, id)` order
up to the oldest transaction still running (`pg_snapshot_xmin(pg_current_snapshot())`): every
transaction below that horizon has ended, so no row can appear later below it, and what has
been read stays read. A long writing transaction holds delivery back until it ends (a latency
cost, never a loss). SQLite serialises writers: rows commit in id order, `txid` is 0.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import ColumnElement, Table, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.events.models import OutboxEvent

# How soon a reader looks again when committed rows wait behind a running transaction.
HELD_BACK_RETRY_S = 0.02


class Position(NamedTuple):
    """A place in the log; events are delivered in increasing position."""

    txid: int
    id: int


START = Position(0, 0)


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    id: int = 0  # the outbox id: the SSE `id:` and the key of a consumer's idempotent effects
    txid: int = 0

    @property
    def position(self) -> Position:
        return Position(self.txid, self.id)


class EventLog(Protocol):
    """What consumers and the feed need of the log. The SQL outbox implements it in one
    process or many; a JetStream stream fed by a relay can implement it for many nodes."""

    async def read_after(self, after: Position, limit: int, wait_s: float = 0.0) -> list[Event]:
        """Up to `limit` events after `after`, in order; waits up to `wait_s` for one."""
        ...

    async def head(self) -> Position:
        """The position of the latest event: reading after it yields only newer events."""
        ...

    async def position_of(self, event_id: int) -> Position | None:
        """Where the event of this id is, to resume after it (None: it is no longer kept)."""
        ...


class Doorbell:
    """Rung after a commit that wrote events, so that readers need not poll to be prompt."""

    def __init__(self) -> None:
        self.rings = 0
        self._event = asyncio.Event()

    def ring(self) -> None:
        self.rings += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seen: int, timeout: float) -> None:
        """Return when rung after `seen` rings, or after `timeout` seconds."""
        if self.rings != seen or timeout <= 0:
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


_T = cast(Table, OutboxEvent.__table__)
_XMIN: ColumnElement[int] = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


class SqlEventLog:
    """The outbox table as an `EventLog`; the doorbell wakes readers of this process, a read
    every `wait_s` finds the rows that other processes committed."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], bell: Doorbell, postgres: bool
    ) -> None:
        self._sessions = sessions
        self.bell = bell
        self._postgres = postgres

    async def read_after(self, after: Position, limit: int, wait_s: float = 0.0) -> list[Event]:
        deadline = time.monotonic() + wait_s
        while True:
            seen = self.bell.rings
            events, held_back = await self.read_committed(after, limit)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
                return events
            if held_back:  # committed, but behind a transaction still running
                await asyncio.sleep(min(HELD_BACK_RETRY_S, remaining))
                continue
            await self.bell.wait(seen, remaining)
            if self.bell.rings == seen:
                return []  # no commit here: the caller's next call reads (the poll)

    async def read_committed(self, after: Position, limit: int) -> tuple[list[Event], bool]:
        """The events readable now, and whether committed ones wait behind them (behind a
        transaction still running anywhere in the PostgreSQL cluster)."""
        columns = [_T.c.id, _T.c.txid, _T.c.kind, _T.c.occurred_at, _T.c.payload]
        query = (
            select(*columns, _XMIN if self._postgres else literal_column("NULL"))
            .where(tuple_(_T.c.txid, _T.c.id) > tuple_(after.txid, after.id))
            .order_by(_T.c.txid, _T.c.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        events: list[Event] = []
        for row in rows:
            horizon = row[5]
            if horizon is not None and row.txid >= horizon:
                return events, True
            events.append(
                Event(row.kind, row.occurred_at, json.loads(row.payload), row.id, row.txid)
            )
        return events, False

    async def head(self) -> Position:
        query = select(_T.c.txid, _T.c.id).order_by(_T.c.txid.desc(), _T.c.id.desc()).limit(1)
        if self._postgres:
            query = query.where(_T.c.txid < _XMIN)
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return Position(row[0], row[1]) if row else START

    async def position_of(self, event_id: int) -> Position | None:
        async with self._sessions() as session:
            row = (await session.execute(select(_T.c.txid).where(_T.c.id == event_id))).first()
            if row is not None:
                return Position(row[0], event_id)
            oldest = await session.scalar(select(func.min(_T.c.id)))
        # Pruned since (older than the oldest kept): everything kept comes after it.
        return START if oldest is not None and event_id < oldest else None


def wanted(kind: str, kinds: Sequence[str] | frozenset[str]) -> bool:
    """No kinds: every event; a bare family (`ticket`) matches `ticket.opened` and the rest."""
    return not kinds or any(kind == k or kind.startswith(k + ".") for k in kinds)
