"""Group commit for what stations report about themselves: boots, status, heartbeats and the
connected/disconnected marks.

A reconnect storm is thousands of stations each sending a few small facts at once; one database
transaction per message makes SQLite's single writer (and PostgreSQL's commit flushes) the
bottleneck. Handlers hand the writer an operation on a session and wait for its result, which
they get only once the transaction that holds it has committed: what a station is told was
recorded is recorded, with its events (`evhub.events.emit`) in the same transaction.

One station's failing operation must not fail the others of its batch: a batch that fails is
run again operation by operation, each in a savepoint of one transaction, so that only the
failing ones get their error (and leave no event behind) and the rest commit. The queue is
bounded, as the meter writer's: when the database falls behind, handlers wait for room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.acknowledge import acknowledge, gather_batch
from evhub.deferred import discard_deferred, write_deferred
from evhub.events.outbox import PENDING
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.assets")

T = TypeVar("T")
Operation = Callable[[AsyncSession], Awaitable[T]]

# Fewer than the meter writer's 500: these operations go through the ORM and cost several
# statements each, and on SQLite every other writer waits for the one connection meanwhile.
MAX_OPERATIONS_PER_COMMIT = 200
MAX_QUEUED_OPERATIONS = 4 * MAX_OPERATIONS_PER_COMMIT
LINGER_S = 0.01  # how long a commit waits for more operations after the first


class WriterStopped(RuntimeError):
    """The writer loop ended before this operation was committed."""


class _Pending(Generic[T]):
    __slots__ = ("operation", "done")

    def __init__(self, operation: Operation[T], done: asyncio.Future[T]) -> None:
        self.operation = operation
        self.done = done


class StationWriter:
    def __init__(
        self,
        uow: UnitOfWork,
        max_queued: int = MAX_QUEUED_OPERATIONS,
        max_per_commit: int = MAX_OPERATIONS_PER_COMMIT,
        linger_s: float = LINGER_S,
    ) -> None:
        self._uow = uow
        self._linger_s = linger_s
        self._queue: asyncio.Queue[_Pending[Any]] = asyncio.Queue(max_queued)
        self._max_per_commit = max_per_commit
        self._stopped = False
        self.commits = 0
        self.operations = 0
        self.batches_written_again = 0  # batches that failed and were run one by one
        self.isolated_failures = 0  # operations that failed there, alone

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def submit(self, operation: Operation[T]) -> T:
        """`operation`'s result once the transaction it ran in has committed; its exception if
        it failed (the others of its batch commit). Waits for room in the queue first. Once the
        loop has stopped (shutdown), an operation gets a transaction of its own."""
        if self._stopped:
            async with self._uow() as session:
                return await operation(session)
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(operation, done))
        return await done

    async def run(self) -> None:
        """The writer loop (owned by the supervisor)."""
        self._stopped = False
        batch: list[_Pending[Any]] = []
        try:
            while True:
                batch = []  # filled in place: cancelled while gathering, `finally` fails them
                await gather_batch(self._queue, batch, self._max_per_commit, self._linger_s)
                await self._commit(batch)
        finally:
            self._stopped = True
            self._fail(batch)  # cancelled mid-commit: rolled back, so not committed
            self._fail(self._drain())

    async def _commit(self, batch: list[_Pending[Any]]) -> None:
        results: list[Any] = []
        try:
            async with self._uow() as session:
                for pending in batch:
                    results.append(await pending.operation(session))
        except Exception:
            log.warning("event=station_batch_failed operations=%d retry=one_by_one", len(batch))
            await self._one_by_one(batch)
            return
        await self._settled(batch, results)

    async def _one_by_one(self, batch: list[_Pending[Any]]) -> None:
        """Each operation in its own savepoint: the failing ones get their error, the rest
        commit; a failing one's events are dropped with its writes."""
        self.batches_written_again += 1
        failed: dict[int, Exception] = {}
        results: list[Any] = []
        try:
            async with self._uow() as session:
                for index, pending in enumerate(batch):
                    events: list[Any] = session.info.setdefault(PENDING, [])
                    queued_events = len(events)
                    try:
                        async with session.begin_nested():
                            result = await pending.operation(session)
                            await write_deferred(session)  # its rows, in its savepoint
                            await session.flush()  # a constraint fails here, in the savepoint
                    except Exception as exc:
                        del events[queued_events:]
                        discard_deferred(session)  # the memo too: what is written is the truth
                        failed[index] = exc
                        results.append(None)
                        log.warning("event=station_operation_failed error=%r", exc)
                        continue
                    results.append(result)
        except Exception as exc:
            log.exception("event=station_batch_failed operations=%d", len(batch))
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        self.isolated_failures += len(failed)
        for index, error in failed.items():
            if not batch[index].done.done():
                batch[index].done.set_exception(error)
        kept = [i for i in range(len(batch)) if i not in failed]
        await self._settled([batch[i] for i in kept], [results[i] for i in kept])

    async def _settled(self, batch: list[_Pending[Any]], results: list[Any]) -> None:
        self.commits += 1
        self.operations += len(batch)
        await acknowledge([(p.done, r) for p, r in zip(batch, results, strict=True)])

    def _drain(self) -> list[_Pending[Any]]:
        drained = []
        while not self._queue.empty():
            drained.append(self._queue.get_nowait())
        return drained

    @staticmethod
    def _fail(batch: list[_Pending[Any]]) -> None:
        for pending in batch:
            if not pending.done.done():
                pending.done.set_exception(WriterStopped("the station writer stopped"))
