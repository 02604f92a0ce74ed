"""Owns the background loops: each runs in one task group, is logged and restarted on crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol

log = logging.getLogger("evhub.supervisor")

Loop = Callable[[], Awaitable[None]]


class LoopStarter(Protocol):
    """What starts a loop: the supervisor, or a wrapper running it once per cluster."""

    def start(self, name: str, loop: Loop) -> None: ...


class Supervisor:
    def __init__(self, restart_delay_s: float = 1.0, max_delay_s: float = 60.0) -> None:
        self._group = asyncio.TaskGroup()
        self._restart_delay_s = restart_delay_s
        self._max_delay_s = max_delay_s
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Supervisor:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await self._group.__aexit__(exc_type, exc, tb)

    def start(self, name: str, loop: Loop) -> None:
        self._tasks.append(self._group.create_task(self._keep_running(name, loop), name=name))

    async def _keep_running(self, name: str, loop: Loop) -> None:
        delay = self._restart_delay_s
        while True:
            try:
                await loop()
                log.info("loop=%s event=finished", name)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("loop=%s event=crashed restart_in_s=%s", name, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_delay_s)
