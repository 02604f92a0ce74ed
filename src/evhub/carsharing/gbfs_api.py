"""The public GBFS 3.0 routes under /gbfs: no authentication, absolute URLs from public_url."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from evhub.carsharing import gbfs
from evhub.carsharing.gbfs import FeedConfig
from evhub.deps import ClockDep, SessionDep
from evhub.errors import NotFound
from evhub.settings import Settings

router = APIRouter(prefix="/gbfs", tags=["gbfs"])


def feed_config(settings: Settings) -> FeedConfig:
    base = (settings.public_url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    return FeedConfig(
        base_url=f"{base}/gbfs",
        system_id=settings.gbfs_system_id,
        name=settings.gbfs_system_name,
        timezone=settings.gbfs_timezone,
        language=settings.gbfs_language,
        contact_email=settings.gbfs_contact_email,
        ttl_s=settings.gbfs_ttl_s,
        currency=settings.carsharing_currency.upper(),
        price_per_hour=settings.carsharing_price_per_hour,
        price_per_km=settings.carsharing_price_per_km,
    )


def _config(request: Request) -> FeedConfig:
    config: FeedConfig = request.app.state.gbfs_config
    return config


@router.get("/{feed}.json")
async def feed(feed: str, request: Request, session: SessionDep, clock: ClockDep) -> Any:
    config, now = _config(request), clock.now()
    if feed == "gbfs":
        body = gbfs.discovery(config, now)
    elif feed == "system_information":
        body = gbfs.system_information(config, now)
    elif feed == "system_pricing_plans":
        body = gbfs.system_pricing_plans(config, now)
    elif feed == "vehicle_types":
        body = await gbfs.vehicle_types(session, config, now)
    elif feed == "station_information":
        body = await gbfs.station_information(session, config, now)
    elif feed == "station_status":
        body = await gbfs.station_status(session, config, now)
    elif feed == "vehicle_status":
        body = await gbfs.vehicle_status(session, config, now)
    else:
        raise NotFound(f"no GBFS feed {feed!r}", feeds=["gbfs", *gbfs.FEEDS])
    headers = {"Cache-Control": f"public, max-age={config.ttl_s}"}
    return JSONResponse(body, headers=headers)
