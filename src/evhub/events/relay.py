"""Delivers the log to named consumers, each from its own durable checkpoint.

Delivery is at least once: a consumer's checkpoint moves after its handler returned, so a
crash between the two delivers the event again, and every handler is idempotent. A
`TransactionalConsumer` handles events in the transaction that moves its checkpoint: its
database effects happen exactly once. Each consumer runs in its own supervised loop: a handler
that raises is retried with back-off (the event is never skipped) and holds back only itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import Clock
from evhub.events import checkpoints
from evhub.events.log import Doorbell, Event, EventLog, Position, wanted
from evhub.supervisor import LoopStarter
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.events")

T = TypeVar("T")


@dataclass(frozen=True)
class Consumer:
    """Handles each event of its kinds at least once (none: every kind).

    Its effects are outside the database (a mail, a call to a partner or a station), so with
    several nodes it runs on one node at a time; `per_node` ones (that wake or feed a loop of
    their own node) run on every node.
    """

    name: str
    handle: Callable[[Event], Awaitable[None]]
    kinds: frozenset[str] = field(default_factory=frozenset)
    per_node: bool = False


@dataclass(frozen=True)
class TransactionalConsumer:
    """Handles events inside the transaction that advances its checkpoint: for consumers that
    write to the database, whose effects are then exactly once (`handle(session, event)`)."""

    name: str
    handle: Callable[[AsyncSession, Event], Awaitable[None]]
    kinds: frozenset[str] = field(default_factory=frozenset)


AnyConsumer = Consumer | TransactionalConsumer


class CheckpointMoved(Exception):
    """Another runner of the consumer advanced its checkpoint first."""


@dataclass
class RelayTuning:
    batch_size: int = 200
    poll_s: float = 1.0  # safety net: rows committed by another process wake no doorbell here
    retry_s: float = 0.5
    retry_max_s: float = 60.0
    lazy_save_s: float = 1.0  # how long passing over other kinds may go unrecorded


class Relay:
    def __init__(
        self, log_: EventLog, uow: UnitOfWork, clock: Clock, tuning: RelayTuning | None = None
    ) -> None:
        self.log = log_
        self.uow = uow
        self.clock = clock
        self.tuning = tuning or RelayTuning()
        self.consumers: dict[str, AnyConsumer] = {}
        self.positions: dict[str, Position] = {}  # in memory, for status and tests
        self.failures: dict[str, int] = {}
        self.advanced = Doorbell()  # rung whenever a checkpoint moved

    def add(self, consumer: AnyConsumer) -> None:
        if consumer.name in self.consumers:
            raise ValueError(f"consumer {consumer.name} is registered twice")
        self.consumers[consumer.name] = consumer

    def start(self, supervisor: LoopStarter, once: LoopStarter | None = None) -> None:
        """Every consumer's loop; `once` starts those that must run once per cluster.

        A transactional consumer claims its checkpoint in its own transaction, so runners on
        several nodes cannot both apply an event: it runs everywhere (and fails over at once).
        """
        for consumer in self.consumers.values():
            loop = partial(self.run, consumer)
            if once is not None and isinstance(consumer, Consumer) and not consumer.per_node:
                once.start(f"events.{consumer.name}", loop)
            else:
                supervisor.start(f"events.{consumer.name}", loop)

    async def run(self, consumer: AnyConsumer) -> None:
        """One consumer's loop: read after its checkpoint, deliver, advance; forever."""
        name = consumer.name
        saved = position = await self._checkpoint(name)
        saved_at = time.monotonic()
        takes: dict[str, bool] = {}  # kind -> wanted by this consumer (a few dozen kinds)
        while True:
            batch = await self.log.read_after(
                position, self.tuning.batch_size, wait_s=self.tuning.poll_s
            )
            for kind in {e.kind for e in batch} - takes.keys():
                takes[kind] = wanted(kind, consumer.kinds)
            mine = [e for e in batch if takes[e.kind]]
            if mine:
                saved = position = await self._deliver_any(consumer, saved, mine, batch)
                saved_at = time.monotonic()
            elif batch:
                position = batch[-1].position
            # Passing over other kinds has no effect, so recording it can wait (a replay is
            # filtered again): under meter traffic that spares a write per batch.
            due = not batch or time.monotonic() - saved_at >= self.tuning.lazy_save_s
            if position != saved and due:
                saved = position = await self._save(name, saved, position)
                saved_at = time.monotonic()
            if self.positions.get(name) != saved:
                self.positions[name] = saved
                self.advanced.ring()

    async def _deliver_any(
        self, consumer: AnyConsumer, saved: Position, mine: list[Event], batch: list[Event]
    ) -> Position:
        if isinstance(consumer, TransactionalConsumer):
            return await self._deliver_in_transaction(consumer, saved, mine, batch[-1].position)
        return await self._deliver(consumer, saved, batch)

    async def _checkpoint(self, name: str) -> Position:
        async with self.uow() as session:
            position = await checkpoints.ensure(session, name, self.clock.now())
        self.positions[name] = position
        return position

    async def _deliver(
        self, consumer: Consumer, position: Position, batch: list[Event]
    ) -> Position:
        """Handle the batch, then advance once; on a failure, keep what was done and retry."""
        done = position
        for event in batch:
            if wanted(event.kind, consumer.kinds):
                try:
                    await consumer.handle(event)
                except Exception:
                    done = await self._save(consumer.name, position, done)
                    position = done
                    await self._retry(consumer.name, event, partial(consumer.handle, event))
            done = event.position
        return await self._save(consumer.name, position, done)

    async def _save(self, name: str, expected: Position, to: Position) -> Position:
        if to == expected:
            return to
        async with self.uow() as session:
            if await checkpoints.advance(session, name, expected, to, self.clock.now()):
                return to
            return await checkpoints.load(session, name)

    async def _deliver_in_transaction(
        self, consumer: TransactionalConsumer, position: Position, mine: list[Event], to: Position
    ) -> Position:
        """The batch in one transaction; if it fails, event by event, retrying each."""
        try:
            return await self._handle_in_transaction(consumer, position, mine, to)
        except CheckpointMoved:
            return await self._reload(consumer.name)
        except Exception:
            log.warning(
                "consumer=%s event=batch_failed size=%d retry=one_by_one",
                consumer.name, len(mine), exc_info=True,
            )  # fmt: skip
        for event in mine:
            attempt = partial(
                self._handle_in_transaction, consumer, position, [event], event.position
            )
            try:
                position = await self._retry(consumer.name, event, attempt, first_now=True)
            except CheckpointMoved:
                return await self._reload(consumer.name)
        return await self._save(consumer.name, position, to)

    async def _handle_in_transaction(
        self, consumer: TransactionalConsumer, expected: Position, events: list[Event], to: Position
    ) -> Position:
        async with self.uow() as session:
            # Claim first: the update locks the checkpoint until this transaction ends, so a
            # second runner of the consumer waits here, then finds it moved and backs off.
            if not await checkpoints.advance(
                session, consumer.name, expected, to, self.clock.now()
            ):
                raise CheckpointMoved(consumer.name)
            for event in events:
                await consumer.handle(session, event)
        return to

    async def _reload(self, name: str) -> Position:
        async with self.uow() as session:
            return await checkpoints.load(session, name)

    async def _retry(
        self, name: str, event: Event, attempt: Callable[[], Awaitable[T]], first_now: bool = False
    ) -> T:
        """Call `attempt` until it succeeds, backing off; the consumer waits, the others don't."""
        delay = self.tuning.retry_s
        if not first_now:
            self._failed(name, event, delay)
            await asyncio.sleep(delay)
        while True:
            try:
                result = await attempt()
            except CheckpointMoved:
                raise
            except Exception:
                delay = min(delay * 2, self.tuning.retry_max_s)
                self._failed(name, event, delay)
                await asyncio.sleep(delay)
                continue
            self.failures.pop(name, None)
            return result

    def _failed(self, name: str, event: Event, retry_in_s: float) -> None:
        self.failures[name] = self.failures.get(name, 0) + 1
        log.exception(
            "consumer=%s event=handler_failed event_id=%d kind=%s attempts=%d retry_in_s=%.1f",
            name, event.id, event.kind, self.failures[name], retry_in_s,
        )  # fmt: skip
