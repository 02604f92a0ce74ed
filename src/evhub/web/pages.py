"""The status page: stations and their connector states, refreshed every few seconds."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.deps import GatewayDep, SessionDep

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def status_page(request: Request, session: SessionDep, gateway: GatewayDep) -> HTMLResponse:
    sites = await assets.list_sites(session)
    stations = await assets.list_stations(session)
    active = await charging.list_transactions(session, state="active", limit=5000)
    by_site = {site.id: [st for st in stations if st.site_id == site.id] for site in sites}
    site_of = {st.id: st.site_id for st in stations}
    power_kw = dict.fromkeys(by_site, 0.0)
    for tx in active:
        power_kw[site_of[tx.station_id]] += (tx.power_last_w or 0.0) / 1000
    return templates.TemplateResponse(
        request,
        "status.html",
        {
            "sites": sites,
            "by_site": by_site,
            "power_kw": power_kw,
            "active": len(active),
            "connected": len(gateway.registry),
            "now": gateway.clock.now(),
        },
    )
