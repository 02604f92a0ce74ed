"""Which station is connected to this node, through which protocol handler."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("evhub.ocpp")


class StationLink(Protocol):
    """What the registry needs of a connected station's protocol handler."""

    id: str
    ocpp_version: str

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class ConnectionRegistry:
    """Owned by the gateway; one live link per station: a reconnect replaces the old socket."""

    def __init__(self) -> None:
        self._links: dict[str, StationLink] = {}

    async def attach(self, link: StationLink) -> None:
        previous = self._links.get(link.id)
        self._links[link.id] = link
        if previous is not None and previous is not link:
            log.info("station=%s event=replaced_connection", link.id)
            try:
                await previous.close(1000, "replaced by a new connection")
            except Exception:  # the old socket may already be dead
                log.debug("station=%s event=close_old_failed", link.id, exc_info=True)

    def detach(self, link: StationLink) -> bool:
        """Forget `link`; False when a newer connection of the same station took its place."""
        if self._links.get(link.id) is link:
            del self._links[link.id]
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
