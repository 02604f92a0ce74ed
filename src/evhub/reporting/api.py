"""REST routes: the monthly report (every role; a funder its towns only) and the open-data
descriptions (admin writes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from evhub.auth.deps import ADMIN, VIEWER, ReportReader
from evhub.deps import ClockDep, SessionDep
from evhub.errors import NotFound
from evhub.openapi import error_responses
from evhub.reporting import descriptions
from evhub.reporting.irve import missing_report
from evhub.reporting.monthly_json import MonthlyReportOut
from evhub.reporting.render import MEDIA_TYPES, ReportFormat, render_monthly
from evhub.reporting.schemas import (
    MissingItem,
    OperatorIn,
    OperatorOut,
    PointOpenDataIn,
    PointOpenDataOut,
    SiteOpenDataIn,
    SiteOpenDataOut,
)
from evhub.reporting.scope import report_scope

router = APIRouter(tags=["reporting"])


@router.get(
    "/reports/monthly",
    responses={
        200: {
            "model": MonthlyReportOut,
            "description": "The report as CSV, PDF, or JSON (`format=json`, this schema)",
            "content": {"text/csv": {}, "application/pdf": {}},
        }
    },
)
async def monthly(
    request: Request,
    reader: ReportReader,
    session: SessionDep,
    clock: ClockDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    format: ReportFormat = "csv",
    town: str | None = None,
    site_id: int | None = None,
) -> Response:
    """The month's report of the network, or of one town or site, as CSV, PDF or JSON; a
    funder's report covers its towns only (403 for another town)."""
    settings = request.app.state.settings
    scope = report_scope(reader.towns, town)
    body = await render_monthly(
        session, settings, month, clock.now(), format, town, site_id, scope.towns
    )
    if format == "json":
        return Response(body, media_type=MEDIA_TYPES[format])
    name = f"evhub-report-{month}{'-' + town if town else ''}{f'-site{site_id}' if site_id else ''}"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


@router.get(
    "/open-data/operator",
    response_model=OperatorOut,
    dependencies=[VIEWER],
    responses=error_responses(404),
)
async def get_operator(session: SessionDep) -> object:
    row = await descriptions.get_operator(session)
    if row is None:
        raise NotFound("the network's open-data identity is not set")
    return row


@router.put("/open-data/operator", response_model=OperatorOut, dependencies=[ADMIN])
async def put_operator(body: OperatorIn, session: SessionDep, clock: ClockDep) -> object:
    return await descriptions.set_operator(session, body, clock.now())


@router.get("/open-data/missing", response_model=list[MissingItem], dependencies=[VIEWER])
async def missing(session: SessionDep) -> object:
    """What the IRVE static file still lacks, per scope (empty: it can be published)."""
    return await missing_report(session)


@router.get("/sites/{site_id}/open-data", response_model=SiteOpenDataOut, dependencies=[VIEWER])
async def get_site_open_data(site_id: int, session: SessionDep) -> object:
    return await descriptions.get_site_details(session, site_id)


@router.put("/sites/{site_id}/open-data", response_model=SiteOpenDataOut, dependencies=[ADMIN])
async def put_site_open_data(
    site_id: int, body: SiteOpenDataIn, session: SessionDep, clock: ClockDep
) -> object:
    return await descriptions.set_site_details(session, site_id, body, clock.now())


POINT = "/stations/{station_id}/evses/{evse_id}/open-data"


@router.get(POINT, response_model=PointOpenDataOut, dependencies=[VIEWER])
async def get_point_open_data(station_id: str, evse_id: int, session: SessionDep) -> object:
    return await descriptions.get_point_details(session, station_id, evse_id)


@router.put(POINT, response_model=PointOpenDataOut, dependencies=[ADMIN])
async def put_point_open_data(
    station_id: str, evse_id: int, body: PointOpenDataIn, session: SessionDep, clock: ClockDep
) -> object:
    return await descriptions.set_point_details(session, station_id, evse_id, body, clock.now())
