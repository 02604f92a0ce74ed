"""A station's page: identity, connectors, recent events, and remote operations as buttons."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.control import ChargerControl, CommandResult
from evhub.deps import ControlDep, SessionDep, UowDep
from evhub.errors import DomainError, InvalidInput
from evhub.uow import UnitOfWork
from evhub.web.console import PageOperator, PageViewer, read_form, render
from evhub.web.sites import site_points

router = APIRouter(include_in_schema=False)

ACTIONS = ("reset", "unlock", "availability", "stop")


async def _station_context(session: SessionDep, station_id: str) -> dict[str, object]:
    station = await assets.get_station(session, station_id)
    site = await assets.get_site(session, station.site_id)
    points = [p for p in await site_points(session, station.site_id) if p.station.id == station_id]
    active = await charging.list_transactions(session, station_id, "active", 50)
    return {"station": station, "site": site, "points": points, "active": active}


@router.get("/stations/{station_id}", response_class=HTMLResponse)
async def station_page(
    station_id: str, request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    context = await _station_context(session, station_id)
    events = await assets.list_station_events(session, station_id, None, 20)
    return render(request, "station.html", principal, events=events, **context)


@router.get("/stations/{station_id}/live", response_class=HTMLResponse)
async def station_live(
    station_id: str, request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    """The parts of the page that follow the station: connectors and running sessions."""
    context = await _station_context(session, station_id)
    return render(request, "_station_live.html", principal, **context)


@router.get("/stations/{station_id}/events", response_class=HTMLResponse)
async def station_events(
    station_id: str, request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    station = await assets.get_station(session, station_id)
    site = await assets.get_site(session, station.site_id)
    events = await assets.list_station_events(session, station_id, None, 20)
    return render(request, "_station_events.html", principal, events=events, site=site)


@router.post("/stations/{station_id}/actions/{action}", response_class=HTMLResponse)
async def station_action(
    station_id: str,
    action: str,
    request: Request,
    principal: PageOperator,
    uow: UowDep,
    control: ControlDep,
) -> Response:
    """Run one remote operation and show the station's answer in place of the result line."""
    form = await read_form(request)
    try:
        result = await _operate(uow, control, station_id, action, form)
        message, ok = f"{action}: {result.status}", result.accepted
    except DomainError as exc:
        message, ok = f"{action}: {exc.message}", False
    if not request.headers.get("HX-Request"):
        return RedirectResponse(f"/stations/{station_id}", status_code=status.HTTP_303_SEE_OTHER)
    return render(request, "_result.html", principal, message=message, ok=ok)


async def _operate(
    uow: UnitOfWork,
    control: ChargerControl,
    station_id: str,
    action: str,
    form: dict[str, str],
) -> CommandResult:
    def number(name: str, default: int = 0) -> int:
        try:
            return int(form.get(name) or default)
        except ValueError as exc:
            raise InvalidInput(f"{name} is not a number") from exc

    if action == "reset":
        return await control.reset(station_id, form.get("hard") == "1")
    if action == "unlock":
        return await control.unlock_connector(
            station_id, number("evse_id"), number("connector_id", 1)
        )
    if action == "availability":
        operative = form.get("operative") == "1"
        evse_id = number("evse_id")
        return await control.change_availability(station_id, evse_id, None, operative)
    if action == "stop":
        async with uow() as session:
            tx = await charging.get_transaction(session, number("transaction_id"))
        if tx.station_id != station_id or tx.state != "active":
            raise InvalidInput(f"transaction {tx.id} is not running on {station_id}")
        return await control.remote_stop(station_id, tx.ocpp_transaction_id)
    raise InvalidInput(f"unknown operation {action!r}; one of {', '.join(ACTIONS)}")
