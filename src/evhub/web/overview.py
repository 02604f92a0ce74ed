"""The network overview: every site with its points by state, and a map of the sites."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Site, Station
from evhub.charging import service as charging
from evhub.deps import GatewayDep, SessionDep
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)

IN_USE = frozenset(
    {"Charging", "Occupied", "Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing"}
)
MAP_W, MAP_H, MAP_PAD = 600.0, 320.0, 40.0


def bucket(status: str, online: bool) -> str:
    """The overview's four kinds of point: available, charging (in use), faulted, other."""
    if not online:
        return "offline"
    if status == "Available":
        return "available"
    if status in IN_USE:
        return "charging"
    if status == "Faulted":
        return "faulted"
    return "other"


@dataclass
class SiteCard:
    site: Site
    stations: list[Station]
    counts: dict[str, int] = field(default_factory=dict)
    power_kw: float = 0.0
    x: float | None = None
    y: float | None = None

    @property
    def points(self) -> int:
        return sum(self.counts.values())


async def site_cards(session: AsyncSession) -> list[SiteCard]:
    sites = await assets.list_sites(session)
    stations = await assets.list_stations(session)
    active = await charging.list_transactions(session, state="active", limit=5000)
    cards = {s.id: SiteCard(s, [st for st in stations if st.site_id == s.id]) for s in sites}
    for card in cards.values():
        card.counts = dict.fromkeys(("available", "charging", "faulted", "offline", "other"), 0)
        for st in card.stations:
            for evse in st.evses:
                for c in evse.connectors:
                    card.counts[bucket(c.status, st.online)] += 1
    site_of = {st.id: st.site_id for st in stations}
    for tx in active:
        cards[site_of[tx.station_id]].power_kw += (tx.power_last_w or 0.0) / 1000
    place_on_map(list(cards.values()))
    return list(cards.values())


def place_on_map(cards: list[SiteCard]) -> None:
    """Equirectangular projection of the sites' coordinates into the map's box."""
    located = [c for c in cards if c.site.latitude is not None and c.site.longitude is not None]
    if not located:
        return
    lats = [float(c.site.latitude or 0.0) for c in located]
    lons = [float(c.site.longitude or 0.0) for c in located]
    span = max(max(lats) - min(lats), max(lons) - min(lons), 0.02)
    mid_lat, mid_lon = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    scale = min(MAP_W, MAP_H) - 2 * MAP_PAD
    for card, lat, lon in zip(located, lats, lons, strict=True):
        card.x = round(MAP_W / 2 + (lon - mid_lon) / span * scale, 1)
        card.y = round(MAP_H / 2 - (lat - mid_lat) / span * scale, 1)


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request, principal: PageViewer, session: SessionDep, gateway: GatewayDep
) -> HTMLResponse:
    cards = await site_cards(session)
    return render(
        request, "overview.html", principal, cards=cards, map_w=MAP_W, map_h=MAP_H,
        connected=len(gateway.registry), now=gateway.clock.now(),
    )  # fmt: skip


@router.get("/fragments/sites", response_class=HTMLResponse)
async def overview_sites(
    request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    return render(request, "_site_cards.html", principal, cards=await site_cards(session))
