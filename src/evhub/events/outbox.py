"""Writing events: `emit` queues an event on the session, the unit of work inserts the queue
into the outbox just before it commits, in the same transaction as the change it describes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events.models import OutboxEvent

PENDING = "evhub.outbox"
_OUTBOX = cast(Table, OutboxEvent.__table__)
_INSERT = insert(_OUTBOX)


def emit(session: AsyncSession, kind: str, at: datetime, **data: Any) -> None:
    """Queue an event on the session; it is stored (and delivered) only if the transaction
    commits. `data` must be JSON (str, int, float, bool, None, lists, dicts): a datetime or a
    Decimal is refused here, at the call site, rather than in a consumer."""
    if at.tzinfo is None:
        raise ValueError("an event's time must be timezone-aware")
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    row = {"kind": kind, "occurred_at": at, "payload": payload}
    session.info.setdefault(PENDING, []).append(row)


async def write_pending(session: AsyncSession) -> int:
    """Insert the session's queued events in one statement; how many there were."""
    rows: list[dict[str, object]] | None = session.info.pop(PENDING, None)
    if not rows:
        return 0
    # Core executemany on the table: no ORM bookkeeping on the meter writer's hot path.
    await session.execute(_INSERT, rows)
    return len(rows)


def discard_pending(session: AsyncSession) -> None:
    session.info.pop(PENDING, None)
