"""Which station is connected to this node, through which protocol handler."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger("evhub.ocpp")


class StationLink(Protocol):
    """What the registry needs of a connected station's protocol handler."""

    id: str
    ocpp_version: str

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class PresenceRecord(Protocol):
    """Where other nodes learn that a station's socket is here (see `evhub.cluster.presence`)."""

    async def claim(self, station_id: str) -> None: ...

    async def release(self, station_id: str) -> bool:
        """Drop the record; False when another node holds the station by now."""
        ...


class ConnectionRegistry:
    """Owned by the gateway; one live link per station: a reconnect replaces the old socket.

    With several nodes, `presence` records each attached station for the others; a claim and
    a release of one station are serialised, so a quick reconnect never loses its record."""

    def __init__(self, presence: PresenceRecord | None = None) -> None:
        self._links: dict[str, StationLink] = {}
        self.presence = presence
        self._locks: dict[str, asyncio.Lock] = {}
        self.ended = 0  # links that ended since start: detached, or replaced by a reconnect

    async def attach(self, link: StationLink) -> None:
        async with self._lock(link.id):
            previous = self._links.get(link.id)
            self._links[link.id] = link
            if self.presence is not None:
                await self.presence.claim(link.id)
        if previous is not None and previous is not link:
            self.ended += 1
            log.info("station=%s event=replaced_connection", link.id)
            try:
                await previous.close(1000, "replaced by a new connection")
            except Exception:  # the old socket may already be dead
                log.debug("station=%s event=close_old_failed", link.id, exc_info=True)

    async def release(self, link: StationLink) -> bool:
        """Detach `link` and drop its presence record; False when a newer connection took its
        place, on this node or another: then the station must not be marked offline."""
        async with self._lock(link.id):
            if not self.detach(link):
                return False
            return True if self.presence is None else await self.presence.release(link.id)

    def _lock(self, station_id: str) -> asyncio.Lock:
        return self._locks.setdefault(station_id, asyncio.Lock())

    def detach(self, link: StationLink) -> bool:
        """Forget `link`; False when a newer connection of the same station took its place."""
        if self._links.get(link.id) is link:
            del self._links[link.id]
            self.ended += 1
            return True
        return False

    def get(self, station_id: str) -> StationLink | None:
        return self._links.get(station_id)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._links

    def __len__(self) -> int:
        return len(self._links)

    def station_ids(self) -> list[str]:
        return list(self._links)
