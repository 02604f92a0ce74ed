"""Stored password hashes of the stations in handshake, read for many stations per query.

In a reconnect storm every handshake reads one row; one read session each took the few read
connections of SQLite (four) in turns with the REST API, which then queued behind dozens of
handshakes. The reader takes the station ids asked for since its last query and reads them all
in one statement, so that a storm holds one read connection at a time.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.assets.models import Station

log = logging.getLogger("evhub.ocpp")

MAX_STATIONS_PER_QUERY = 500

_Asked = dict[str, list["asyncio.Future[str | None]"]]


class CredentialReads:
    def __init__(self, reads: async_sessionmaker[AsyncSession]) -> None:
        self._reads = reads
        self._asked: _Asked = {}
        self._wake = asyncio.Event()
        self._stopped = False
        self.queries = 0

    async def stored_hash(self, station_id: str) -> str | None:
        """The station's stored password hash, None for an unknown station."""
        if self._stopped:
            return (await self._read([station_id])).get(station_id)
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._asked.setdefault(station_id, []).append(done)
        self._wake.set()
        return await done

    async def run(self) -> None:
        """The reader loop (owned by the supervisor)."""
        self._stopped = False
        asked: _Asked = {}
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._asked:
                    ids = list(self._asked)[:MAX_STATIONS_PER_QUERY]
                    asked = {sid: self._asked.pop(sid) for sid in ids}
                    try:
                        found = await self._read(ids)
                    except Exception as exc:
                        log.exception("event=credential_read_failed stations=%d", len(ids))
                        _settle(asked, error=exc)
                        continue
                    _settle(asked, found)
        finally:
            self._stopped = True
            stopped = RuntimeError("the credential reader stopped")
            _settle(asked | self._asked, error=stopped)
            self._asked = {}

    async def _read(self, ids: list[str]) -> dict[str, str]:
        self.queries += 1
        async with self._reads() as s, s.begin():
            rows = await s.execute(
                select(Station.id, Station.password_hash).where(Station.id.in_(ids))
            )
            return {station_id: stored for station_id, stored in rows}


def _settle(
    asked: _Asked, found: dict[str, str] | None = None, error: Exception | None = None
) -> None:
    for station_id, waiting in asked.items():
        for done in waiting:
            if done.done():
                continue
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result((found or {}).get(station_id))
