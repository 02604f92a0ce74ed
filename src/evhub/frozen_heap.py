"""Connections frozen out of the cyclic collector while a node's stations stay connected.

A full collection looks at every tracked object; a gateway's heap is mostly its connections
(some 180 tracked objects each: coroutines, queues, locks, the WebSocket and protocol objects),
and with 5,000 of them a full collection took 0.7 s, every socket waiting, about once a minute
under load: the worst second of every minute (benchmarks/RESULTS.md). Connections live for
hours, so once the count is steady this node collects once and freezes what survives
(`gc.freeze`): later collections look only at what came after. A connection that ends while
frozen leaves its cycles in the frozen part, uncollected; once a tenth of the frozen count has
ended, the next steady check unfreezes, collects and freezes again, so what is kept that way
stays bounded. During a storm (the count moving) nothing is frozen anew: the node waits for
a steady half minute before it collects (a pause of a second with 5,000 stations, better
after a storm than within it).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Protocol

log = logging.getLogger("evhub.serving")

CHECK_S = 10.0
CHURN = 0.1  # ended connections, as a share of those frozen, that call for a new freeze
STEADY = 0.01  # the count moved by at most this share since the last check
STEADY_CHECKS = 3  # ... at this many checks in a row: a storm is over, not pausing


class Connections(Protocol):
    """What the freezer reads of the connection registry."""

    ended: int  # connections that ended since start (closed or replaced)

    def __len__(self) -> int: ...


class Collector(Protocol):
    """The parts of `gc` used (a fake in tests: the test process's heap is left alone)."""

    def collect(self) -> int: ...

    def freeze(self) -> None: ...

    def unfreeze(self) -> None: ...

    def get_freeze_count(self) -> int: ...


class HeapFreezer:
    def __init__(
        self,
        connections: Connections,
        min_connections: int,
        check_s: float = CHECK_S,
        collector: Collector = gc,
    ) -> None:
        self.connections = connections
        self.min_connections = min_connections
        self.check_s = check_s
        self.collector = collector
        self._last_count = -1
        self._steady_checks = 0
        self._frozen: tuple[int, int] | None = None  # (connections, ended) at the freeze
        self.freezes = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            self.step()

    def step(self) -> str:
        """One check: 'frozen', 'unfrozen' or 'kept'."""
        count, ended = len(self.connections), self.connections.ended
        moved = abs(count - self._last_count) > max(1, int(STEADY * count))
        self._steady_checks = 0 if moved else self._steady_checks + 1
        self._last_count = count
        steady = self._steady_checks >= STEADY_CHECKS
        if self._frozen is not None:
            frozen_count, ended_before = self._frozen
            if ended - ended_before <= CHURN * frozen_count:
                return "kept"
            self.collector.unfreeze()  # their cycles go back to the collector
            self._frozen = None
            if not steady:
                return "unfrozen"
        if count < self.min_connections or not steady:
            return "kept"
        started = time.perf_counter()
        collected = self.collector.collect()
        self.collector.freeze()
        self._frozen = (count, ended)
        self.freezes += 1
        log.info(
            "event=heap_frozen connections=%d objects=%d collected=%d collect_s=%.2f",
            count, self.collector.get_freeze_count(), collected, time.perf_counter() - started,
        )  # fmt: skip
        return "frozen"
