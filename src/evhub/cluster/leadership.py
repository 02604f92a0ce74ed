"""Leadership of the singleton loops, by PostgreSQL session-level advisory locks.

Every lock a node holds is held by one dedicated connection: if the node dies, PostgreSQL ends
its session and releases them all, and another node's next attempt (every `poll_s`) takes over.
If the connection is lost while the node lives, every loop it led is cancelled at once, before
the locks can be taken elsewhere (the session's end is what releases them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import asyncpg  # type: ignore[import-untyped]

from evhub.supervisor import Loop

log = logging.getLogger("evhub.cluster")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock(bigint)`."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


class AdvisoryLocks:
    def __init__(self, dsn: str, node_id: str, poll_s: float) -> None:
        self.dsn, self.node_id, self.poll_s = dsn, node_id, poll_s
        self.held: set[str] = set()
        self._conn: asyncpg.Connection | None = None
        self._io = asyncio.Lock()  # one query at a time on the connection
        self._lost = asyncio.Event()  # set when the session holding the locks is gone

    async def run(self) -> None:
        """Hold the session; a failed check ends it (the supervisor opens a new one)."""
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": self.node_id})
        self._conn, self._lost = conn, asyncio.Event()
        try:
            while True:
                async with self._io:
                    await conn.fetchval("SELECT 1", timeout=max(self.poll_s * 5, 5.0))
                await asyncio.sleep(self.poll_s)
        finally:
            self._conn = None
            lost, self.held = self.held, set()
            self._lost.set()
            conn.terminate()
            if lost:
                log.warning("node=%s event=leadership_lost names=%s", self.node_id, sorted(lost))

    async def try_acquire(self, name: str) -> asyncio.Event | None:
        """The event set when the lock is lost, or None if another node holds it."""
        conn, lost = self._conn, self._lost
        if conn is None:
            return None
        async with self._io:
            got = await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name))
        if not got:
            return None
        self.held.add(name)
        return lost

    def leads(self, name: str) -> bool:
        return name in self.held

    def lead(self, name: str, loop: Loop) -> Loop:
        """`loop`, run only while this node holds `name`'s lock (for `Supervisor.start`)."""

        async def led() -> None:
            while True:
                lost = await self.try_acquire(name)
                if lost is None:
                    await asyncio.sleep(self.poll_s)
                    continue
                log.info("node=%s event=leader name=%s", self.node_id, name)
                await _until_lost(loop, lost)
                log.warning("node=%s event=follower name=%s", self.node_id, name)

        return led

    async def lead_each(
        self,
        prefix: str,
        keys: Callable[[], Awaitable[Iterable[int]]],
        gained: Callable[[int], Awaitable[None]],
    ) -> None:
        """Take every free lock `prefix.KEY` of the keys listed now and then (the sites): all
        the free ones in one statement, so a follower's attempts cost a query per poll."""
        while True:
            wanted = {f"{prefix}.{key}": key for key in await keys()}
            for name in await self._try_acquire_many([n for n in wanted if n not in self.held]):
                log.info("node=%s event=leader name=%s", self.node_id, name)
                await gained(wanted[name])
            await asyncio.sleep(self.poll_s)

    async def _try_acquire_many(self, names: list[str]) -> list[str]:
        conn = self._conn
        if conn is None or not names:
            return []
        by_key = {lock_key(name): name for name in names}
        async with self._io:
            rows = await conn.fetch(
                "SELECT k FROM unnest($1::bigint[]) AS k WHERE pg_try_advisory_lock(k)",
                list(by_key),
            )
        got = [by_key[row["k"]] for row in rows]
        if self._conn is conn:  # not lost meanwhile
            self.held.update(got)
        return got


async def _until_lost(loop: Callable[[], Awaitable[None]], lost: asyncio.Event) -> None:
    """Run `loop` until it ends or `lost` is set; its crash propagates (the supervisor logs it,
    then tries for the lock again: held already, it is granted again at once)."""
    body = asyncio.ensure_future(loop())
    watch = asyncio.ensure_future(lost.wait())
    try:
        await asyncio.wait({body, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (body, watch):
            task.cancel()
        await asyncio.gather(body, watch, return_exceptions=True)
    error = None if body.cancelled() else body.exception()
    if error is not None:
        raise error
