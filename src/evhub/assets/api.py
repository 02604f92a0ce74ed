"""REST routes for sites and stations (thin: validation in schemas, rules in service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from evhub.assets import listing, service
from evhub.assets.credentials import generate_password
from evhub.assets.schemas import (
    SiteIn,
    SiteOut,
    SitePatch,
    StationCreated,
    StationEventOut,
    StationIn,
    StationOut,
    StationPatch,
    StatusRecordOut,
)
from evhub.auth.deps import ADMIN, VIEWER
from evhub.deps import ClockDep, ReadSessionDep, SessionDep
from evhub.pagination import PAGE_RESPONSE, PageDep, fetch_page, set_page_headers
from evhub.params import DbId

router = APIRouter(tags=["assets"])


@router.post(
    "/sites", status_code=status.HTTP_201_CREATED, response_model=SiteOut, dependencies=[ADMIN]
)
async def create_site(body: SiteIn, session: SessionDep, clock: ClockDep) -> object:
    fields = body.model_dump(exclude={"name", "timezone", "grid_limit_kw"})
    return await service.create_site(
        session, clock.now(), body.name, body.timezone, body.grid_limit_kw, **fields
    )


@router.get("/sites", response_model=list[SiteOut], dependencies=[VIEWER], responses=PAGE_RESPONSE)
async def list_sites(
    session: ReadSessionDep, page: PageDep, request: Request, response: Response
) -> object:
    rows, total = await fetch_page(session, service.sites_query(), page)
    set_page_headers(request, response, page, total)
    return rows


@router.get("/sites/{site_id}", response_model=SiteOut, dependencies=[VIEWER])
async def get_site(site_id: DbId, session: ReadSessionDep) -> object:
    return await service.get_site(session, site_id)


@router.patch("/sites/{site_id}", response_model=SiteOut, dependencies=[ADMIN])
async def patch_site(
    site_id: DbId, body: SitePatch, session: SessionDep, clock: ClockDep
) -> object:
    fields = body.model_dump(exclude_unset=True)
    return await service.update_site(session, site_id, clock.now(), **fields)


@router.post(
    "/stations",
    status_code=status.HTTP_201_CREATED,
    response_model=StationCreated,
    dependencies=[ADMIN],
)
async def create_station(body: StationIn, session: SessionDep, clock: ClockDep) -> object:
    generated = generate_password() if body.password is None else None
    station = await service.create_station(
        session,
        clock.now(),
        body.id,
        body.site_id,
        body.password or generated or "",
        [service.EvseSpec(**e.model_dump()) for e in body.evses],
        body.commissioned,
    )
    station = await service.get_station(session, station.id)
    out = StationCreated.model_validate(station)
    out.password = generated
    return out


@router.get(
    "/stations", response_model=list[StationOut], dependencies=[VIEWER], responses=PAGE_RESPONSE
)
async def list_stations(
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    site_id: DbId | None = None,
) -> Response:
    # Already validated against StationOut: written as is, not validated again (`listing`).
    rows, total = await listing.station_page(session, site_id, page.limit, page.offset)
    response = Response(listing.STATION_LIST.dump_json(rows), media_type="application/json")
    set_page_headers(request, response, page, total)
    return response


@router.get("/stations/{station_id}", response_model=StationOut, dependencies=[VIEWER])
async def get_station(station_id: str, session: ReadSessionDep) -> object:
    return await service.get_station(session, station_id)


@router.patch("/stations/{station_id}", response_model=StationOut, dependencies=[ADMIN])
async def patch_station(station_id: str, body: StationPatch, session: SessionDep) -> object:
    await service.set_commissioned(session, station_id, body.commissioned)
    return await service.get_station(session, station_id)


@router.get(
    "/stations/{station_id}/events", response_model=list[StationEventOut], dependencies=[VIEWER]
)
async def station_events(
    station_id: str,
    session: ReadSessionDep,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> object:
    await service.get_station(session, station_id)
    return await service.list_station_events(session, station_id, kind, limit)


@router.get(
    "/stations/{station_id}/status-history",
    response_model=list[StatusRecordOut],
    dependencies=[VIEWER],
)
async def station_status_history(
    station_id: str, session: ReadSessionDep, limit: Annotated[int, Query(ge=1, le=5000)] = 200
) -> object:
    await service.get_station(session, station_id)
    return await service.status_history(session, station_id, limit)
