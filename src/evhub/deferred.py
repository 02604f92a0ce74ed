"""Writes deferred to the end of a transaction, one executemany per statement.

A group commit runs hundreds of small operations in one transaction, each of which would send
its own INSERT or UPDATE and wait for the database's answer before the next operation could
start: on PostgreSQL a round trip each, the writer's whole batch waiting behind them. An
operation whose rows it does not read back (a status report's history row, a connector's new
state) defers them instead. They are sent, each statement once with all its rows, before the
commit, and before any other statement of the session, as the ORM's autoflush does: a read in
the same transaction sees them. Only statements marked `INDEPENDENT` (they touch none of the
deferred tables, or consult `memo`) run with rows still deferred. `memo` holds what the
transaction's operations decided and have not written yet (a connector's state, say); a
commit or a rollback ends both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import Executable

DEFERRED = "evhub.deferred"
MEMO = "evhub.deferred.memo"
# Execution option of a statement that may run while rows are deferred.
INDEPENDENT = "evhub_independent_of_deferred"

Pending = dict[int, tuple[Executable, list[dict[str, Any]]]]


def defer(session: AsyncSession, statement: Executable, row: dict[str, Any]) -> None:
    """Queue `row` for `statement` (a Core statement built once: rows are grouped by it)."""
    pending: Pending = session.info.setdefault(DEFERRED, {})
    pending.setdefault(id(statement), (statement, []))[1].append(row)


def memo(session: AsyncSession) -> dict[Any, Any]:
    """What this transaction's operations have decided and not yet written (by key)."""
    found: dict[Any, Any] = session.info.setdefault(MEMO, {})
    return found


async def write_deferred(session: AsyncSession) -> None:
    """Send the queued rows now (in a savepoint, so that a failing row fails there)."""
    await session.run_sync(_write)


def discard_deferred(session: AsyncSession) -> None:
    """Forget the queued rows and the memo (their operation failed, or was rolled back)."""
    session.info.pop(DEFERRED, None)
    session.info.pop(MEMO, None)


def _write(session: Session) -> None:
    pending: Pending | None = session.info.pop(DEFERRED, None)
    for statement, rows in (pending or {}).values():
        session.execute(statement, rows)


@event.listens_for(Session, "do_orm_execute")
def _before_a_statement(state: ORMExecuteState) -> None:
    if DEFERRED in state.session.info and not state.execution_options.get(INDEPENDENT):
        _write(state.session)


@event.listens_for(Session, "before_commit")
def _before_the_commit(session: Session) -> None:
    _write(session)


@event.listens_for(Session, "after_commit")
def _after_the_commit(session: Session) -> None:
    session.info.pop(MEMO, None)  # a next transaction of the session reads afresh


@event.listens_for(Session, "after_rollback")
def _after_a_rollback(session: Session) -> None:
    session.info.pop(DEFERRED, None)
    session.info.pop(MEMO, None)
