"""Hubs near a driver with what is free there now: a phone's first question.

An EVSE is free when its station is online and in service and every connector of it says
Available; an offline station's last statuses are not news, so its EVSEs count as offline.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Evse, Site, Station
from evhub.assets.service import get_site, list_sites, list_stations

EARTH_RADIUS_KM = 6371.0
BUSY = ("Occupied", "Charging", "Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing")


@dataclass(frozen=True)
class EvseAvailability:
    station_id: str
    evse_id: int
    current_type: str
    max_power_kw: float
    state: str  # Available, Occupied, Reserved, Faulted, Unavailable, Offline


@dataclass(frozen=True)
class Hub:
    site: Site
    distance_km: float | None
    evses: list[EvseAvailability]

    @property
    def available(self) -> int:
        return sum(1 for e in self.evses if e.state == "Available")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): plenty for "which hub is closest"."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def evse_state(station: Station, evse: Evse) -> str:
    if not station.online:
        return "Offline"
    if not station.commissioned:
        return "Unavailable"
    statuses = {c.status for c in evse.connectors} or {"Unknown"}
    for state in ("Faulted", "Unavailable", "Reserved"):
        if state in statuses:
            return state
    if statuses & set(BUSY):
        return "Occupied"
    return "Available" if statuses == {"Available"} else "Unavailable"


def hub(site: Site, stations: list[Station], position: tuple[float, float] | None) -> Hub:
    evses = [
        EvseAvailability(
            station.id, e.evse_id, e.current_type, e.max_power_kw, evse_state(station, e)
        )
        for station in stations
        for e in sorted(station.evses, key=lambda e: e.evse_id)
    ]
    distance = None
    if position is not None and site.latitude is not None and site.longitude is not None:
        distance = distance_km(position[0], position[1], site.latitude, site.longitude)
    return Hub(site, distance, evses)


async def site_hub(session: AsyncSession, site_id: int) -> Hub:
    site = await get_site(session, site_id)
    return hub(site, await list_stations(session, site_id), None)


async def hubs_nearby(
    session: AsyncSession, position: tuple[float, float] | None, limit: int = 20
) -> list[Hub]:
    """The hubs closest to `position` (latitude, longitude) first, those of unknown place
    last; by name when no position is given."""
    by_site: dict[int, list[Station]] = defaultdict(list)
    for station in await list_stations(session):
        by_site[station.site_id].append(station)
    hubs = [hub(site, by_site[site.id], position) for site in await list_sites(session)]
    hubs.sort(key=lambda h: (h.distance_km is None, h.distance_km or 0.0, h.site.name, h.site.id))
    return hubs[:limit]
