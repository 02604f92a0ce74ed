"""The fleet page's map: the hubs and each shared car at its last known position, drawn in the
browser by Leaflet (`static/fleet_map.js`) from `GET /api/v1/fleet/positions`, refreshed every
half minute, over the tiles of `EVHUB_MAP_TILES_URL` (none when it is empty, as offline)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from evhub.assets.models import Site
from evhub.carsharing.state import VehicleState
from evhub.settings import Settings
from evhub.web.console import VENDOR_DIR

REFRESH_S = 30  # how often the map asks for the cars' positions again
POSITIONS_URL = "/api/v1/fleet/positions"


def map_context(settings: Settings, sites: Iterable[Site], site_id: int | None) -> dict[str, Any]:
    """What the map section of the fleet page needs, for all hubs or the one chosen. Hubs of
    unknown place are listed without being drawn: their time zone dates their cars' bookings."""
    hubs = [
        {"id": s.id, "name": s.name, "lat": s.latitude, "lon": s.longitude, "tz": s.timezone}
        for s in sites
        if site_id in (None, s.id)
    ]
    query = f"?site_id={site_id}" if site_id is not None else ""
    return {
        "map_ready": (VENDOR_DIR / "leaflet.js").exists(),
        "map_hubs": hubs,
        "map_states": [str(s) for s in VehicleState],
        "map_tiles": settings.map_tiles_url,
        "map_attribution": settings.map_tiles_attribution,
        "map_refresh_s": REFRESH_S,
        "map_positions_url": POSITIONS_URL + query,
    }
