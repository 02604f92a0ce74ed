"""Who may start an OCPP handshake, and how many at once.

Three guards, all in this node's memory (a per-node limit: several nodes behind a balancer each
keep their own, which is enough to take the edge off a guessing attack or a reconnect storm):

- failed-login backoff, per station id and per source address: after a few wrong passwords in a
  row, the next attempts are refused at once (no password hash is computed) for a delay that
  doubles with every further failure, up to a maximum; a success clears it;
- a cap on pending handshakes (WebSockets asked for but not yet authenticated): beyond it, new
  ones are refused with 503 instead of queueing without bound;
- a bounded number of handshakes processed at once (authentication, attachment, the
  connected mark), so that a reconnect storm leaves the event loop and the database to the API
  between them instead of flooding both.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from evhub.settings import Settings


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0


@dataclass
class Backoff:
    """Consecutive failures per key; from `free_failures` on, a block of `base_s` doubling up
    to `max_s`. At most `max_keys` keys are kept (the oldest are forgotten first)."""

    free_failures: int
    base_s: float = 1.0
    max_s: float = 300.0
    max_keys: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _keys: OrderedDict[str, _Failures] = field(default_factory=OrderedDict)

    def blocked_for(self, key: str) -> float:
        """Seconds this key remains refused (0 when it may try)."""
        entry = self._keys.get(key)
        return max(entry.blocked_until - self.clock(), 0.0) if entry is not None else 0.0

    def failed(self, key: str) -> None:
        entry = self._keys.pop(key, None) or _Failures()
        entry.count += 1
        over = entry.count - self.free_failures
        if over >= 0:
            entry.blocked_until = self.clock() + min(self.base_s * 2 ** min(over, 30), self.max_s)
        self._keys[key] = entry
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)


@dataclass
class Admission:
    """The gateway's handshake guards (see the module docstring)."""

    max_pending: int = 4096
    concurrency: int = 64
    by_station: Backoff = field(default_factory=lambda: Backoff(free_failures=5))
    by_address: Backoff = field(default_factory=lambda: Backoff(free_failures=50))
    pending: int = 0
    _gate: asyncio.Semaphore | None = None

    def retry_after(self, station_id: str, address: str | None) -> float:
        """Seconds before this station id or address may try a password again (0: now)."""
        wait = self.by_station.blocked_for(station_id)
        if address:
            wait = max(wait, self.by_address.blocked_for(address))
        return wait

    def login_failed(self, station_id: str, address: str | None) -> None:
        self.by_station.failed(station_id)
        if address:
            self.by_address.failed(address)

    def login_succeeded(self, station_id: str, address: str | None) -> None:
        self.by_station.succeeded(station_id)
        if address:
            self.by_address.succeeded(address)

    @asynccontextmanager
    async def handshake(self) -> AsyncIterator[bool]:
        """Count this handshake as pending; yields False (refuse it) beyond the cap, else
        True once one of the `concurrency` processing slots is free."""
        if self.pending >= self.max_pending:
            yield False
            return
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.concurrency)
        self.pending += 1
        try:
            async with self._gate:
                yield True
        finally:
            self.pending -= 1


def admission_from(settings: Settings) -> Admission:
    return Admission(
        max_pending=settings.pending_handshake_cap(),
        concurrency=settings.ocpp_handshake_concurrency,
        by_station=Backoff(
            settings.ocpp_login_free_failures, max_s=settings.ocpp_login_backoff_max_s
        ),
        by_address=Backoff(
            settings.ocpp_login_free_failures_per_address,
            max_s=settings.ocpp_login_backoff_max_s,
        ),
    )
