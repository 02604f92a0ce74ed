"""REST routes of a driver charging from an app (`/me/...`, the driver's bearer token):
hubs nearby with the driver's price, a remote start with the app token, the driver's sessions
with their cost, the stop and the need. Thin: the rules are in `driver_charging`, `nearby`,
`billing.estimates` and `planning.driver_needs`."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import passes
from evhub.accounts.driver_deps import CurrentDriver
from evhub.assets import nearby
from evhub.billing import cdrs, estimates
from evhub.charging import driver_sessions
from evhub.charging.models import Transaction
from evhub.deps import ClockDep, ControlDep, ReadSessionDep, ServicesDep, SessionDep
from evhub.openapi import error_responses
from evhub.params import DbId
from evhub.planning import driver_needs
from evhub.remote import driver_charging
from evhub.remote.driver_schemas import (
    ChargeIn,
    ChargeOut,
    DriverSessionOut,
    EvseOut,
    HubOut,
    MoneyOut,
    NeedIn,
    NeedOut,
)

router = APIRouter(tags=["driver charging"])
SIGNED_IN = error_responses(401, 403)


@router.get("/me/hubs", response_model=list[HubOut], responses=SIGNED_IN)
async def hubs(
    driver: CurrentDriver,
    session: ReadSessionDep,
    clock: ClockDep,
    lat: float | None = Query(default=None, ge=-90, le=90),
    lon: float | None = Query(default=None, ge=-180, le=180),
) -> list[HubOut]:
    """Closest first when the position is given (both `lat` and `lon`)."""
    position = (lat, lon) if lat is not None and lon is not None else None
    out = []
    for h in await nearby.hubs_nearby(session, position):
        tariff = await estimates.driver_tariff(session, h.site.id, driver.driver_id, clock.now())
        out.append(
            HubOut(
                site_id=h.site.id, name=h.site.name, address=h.site.address, town=h.site.town,
                latitude=h.site.latitude, longitude=h.site.longitude, distance_km=h.distance_km,
                available=h.available, evses=[EvseOut(**vars(e)) for e in h.evses],
                tariff_id=tariff.id if tariff else None,
                price=estimates.describe(tariff) if tariff else [],
            )
        )  # fmt: skip
    return out


@router.post(
    "/me/charges",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ChargeOut,
    responses=error_responses(401, 403, 404, 409, 504),
)
async def start(body: ChargeIn, driver: CurrentDriver, services: ServicesDep) -> ChargeOut:
    """Ask the station to start with the driver's app token. 409: the token is blocked, the
    charge point busy or out of service, the station offline or refusing; 504: silent."""
    target = await driver_charging.start_charge(
        services.read_sessions, services.control, driver.driver_id, body.station_id, body.evse_id
    )
    return ChargeOut(station_id=target.station_id, evse_id=target.evse_id,
                     request_id=target.request_id)  # fmt: skip


async def _uids(session: AsyncSession, driver_id: int) -> list[str]:
    return [t.uid for t in await passes.tokens_of(session, driver_id)]


async def _session_out(
    session: AsyncSession, driver_id: int, tx: Transaction, now: datetime
) -> DriverSessionOut:
    issued = await session.scalars(cdrs.cdrs_query(driver_id, tx.id))
    cdr = next((c for c in issued if c.origin != cdrs.CREDIT), None)
    cost = None
    if cdr is not None:
        cost = MoneyOut(excl_vat=cdr.total_excl_vat, incl_vat=cdr.total_incl_vat,
                        currency=cdr.currency)  # fmt: skip
    elif (estimate := await estimates.cost_so_far(session, tx, driver_id, now)) is not None:
        cost = MoneyOut(excl_vat=estimate.cost.excl_vat, incl_vat=estimate.cost.incl_vat,
                        currency=estimate.currency)  # fmt: skip
    need = await driver_needs.declared_need(session, tx.id)
    return DriverSessionOut(
        id=tx.id, station_id=tx.station_id, evse_id=tx.evse_id, state=tx.state,
        started_at=tx.started_at, stopped_at=tx.stopped_at, energy_wh=tx.energy_wh,
        power_w=tx.power_last_w, soc_pct=tx.soc_last_pct, cost=cost,
        cdr_id=cdr.id if cdr else None,
        need=NeedOut(energy_kwh=need.energy_kwh, departure_at=need.departure_at,
                     source=need.source) if need else None,
    )  # fmt: skip


@router.get("/me/sessions", response_model=list[DriverSessionOut], responses=SIGNED_IN)
async def my_sessions(
    driver: CurrentDriver, session: ReadSessionDep, clock: ClockDep, active: bool = False
) -> list[DriverSessionOut]:
    """Newest first, the last 50 (`active=true`: the running ones)."""
    uids = await _uids(session, driver.driver_id)
    rows = await driver_sessions.sessions_of(session, uids, active_only=active)
    return [await _session_out(session, driver.driver_id, tx, clock.now()) for tx in rows]


@router.get(
    "/me/sessions/{transaction_id}",
    response_model=DriverSessionOut,
    responses=error_responses(401, 403, 404),
)
async def my_session(
    transaction_id: DbId, driver: CurrentDriver, session: ReadSessionDep, clock: ClockDep
) -> DriverSessionOut:
    """The session with its cost so far (404: none of the driver's)."""
    uids = await _uids(session, driver.driver_id)
    tx = await driver_sessions.session_of(session, uids, transaction_id)
    return await _session_out(session, driver.driver_id, tx, clock.now())


@router.post(
    "/me/sessions/{transaction_id}/stop",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 504),
)
async def stop(
    transaction_id: DbId, driver: CurrentDriver, services: ServicesDep, control: ControlDep
) -> dict[str, str]:
    """Ask the station to stop; the session ends when the station reports it."""
    await driver_charging.stop_charge(
        services.read_sessions, control, driver.driver_id, transaction_id
    )
    return {"status": "Accepted"}


@router.put(
    "/me/sessions/{transaction_id}/need",
    response_model=NeedOut,
    responses=error_responses(401, 403, 404, 409),
)
async def declare_need(
    transaction_id: DbId, body: NeedIn, driver: CurrentDriver, session: SessionDep, clock: ClockDep
) -> NeedOut:
    """What the driver wants of a running session: the planner re-plans the site at once.
    409: the session has ended; 422: a departure in the past."""
    uids = await _uids(session, driver.driver_id)
    tx = await driver_sessions.session_of(session, uids, transaction_id)
    need = await driver_needs.declare_by_driver(
        session, tx, clock.now(), body.energy_kwh, body.departure
    )
    return NeedOut(energy_kwh=need.energy_kwh, departure_at=need.departure_at, source=need.source)
