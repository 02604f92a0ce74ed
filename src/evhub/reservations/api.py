"""REST routes: drivers search, book, change and cancel; operators see a site's calendar,
override bookings, and set access windows and holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.schemas import AuthorizationOut
from evhub.assets import service as assets
from evhub.auth.deps import ADMIN, OPERATOR, VIEWER
from evhub.deps import ClockDep, ControlDep, ReadSessionDep, ServicesDep
from evhub.errors import InvalidInput
from evhub.params import DbId
from evhub.reservations import access, charger, service, views
from evhub.reservations.access import HolidaySpec, WindowSpec
from evhub.reservations.models import AccessWindow, Booking
from evhub.reservations.policy import BookingPolicy
from evhub.reservations.schemas import (
    AccessWindowIn,
    AccessWindowOut,
    BookingIn,
    BookingOut,
    BookingPatch,
    CalendarEvseOut,
    CalendarOut,
    CancelIn,
    CurrentType,
    FreeEvseOut,
    HolidayIn,
    HolidayOut,
    OverrideIn,
)
from evhub.reservations.service import BookingChange, BookingRequest, Slot
from evhub.reservations.state import BookingState
from evhub.reservations.windows import format_hhmm, local_day, parse_hhmm
from evhub.services import Services

router = APIRouter(tags=["reservations"])


def _policy(request: Request) -> BookingPolicy:
    policy: BookingPolicy = request.app.state.booking_policy
    return policy


PolicyDep = Annotated[BookingPolicy, Depends(_policy)]


async def _out(session: AsyncSession, bookings: Sequence[Booking]) -> list[BookingOut]:
    places = await views.places(session, bookings)
    return [BookingOut.of(b, places) for b in bookings]


async def _one(services: Services, booking: Booking) -> BookingOut:
    async with services.uow() as session:
        return (await _out(session, [booking]))[0]


@router.get(
    "/sites/{site_id}/bookable-evses", response_model=list[FreeEvseOut], dependencies=[VIEWER]
)
async def search(
    site_id: DbId,
    starts_at: AwareDatetime,
    ends_at: AwareDatetime,
    session: ReadSessionDep,
    current_type: CurrentType | None = None,
    min_power_kw: float | None = None,
) -> object:
    """EVSEs of the site free for the whole slot, connected stations first."""
    await assets.get_site(session, site_id)
    slot = Slot(site_id, starts_at, ends_at, current_type, min_power_kw)
    return await service.search_free_evses(session, slot)


@router.post(
    "/bookings",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    responses={409: {"description": "The EVSE is taken for the slot (see `conflicting`)."}},
    dependencies=[OPERATOR],
)
async def book(body: BookingIn, services: ServicesDep, policy: PolicyDep) -> object:
    slot = Slot(body.site_id, body.starts_at, body.ends_at, body.current_type, body.min_power_kw)
    request = BookingRequest(
        body.driver_id, slot, body.energy_kwh, body.departure_at, body.id_token,
        body.station_id, body.evse_id,
    )  # fmt: skip
    async with services.uow() as session:
        booking = await service.book(session, request, services.clock.now(), policy)
        return (await _out(session, [booking]))[0]


@router.get("/bookings", response_model=list[BookingOut], dependencies=[VIEWER])
async def list_bookings(
    session: ReadSessionDep,
    driver_id: DbId | None = None,
    site_id: DbId | None = None,
    state: Annotated[list[BookingState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> object:
    bookings = await service.list_bookings(session, driver_id, site_id, state or (), limit=limit)
    return await _out(session, bookings)


@router.get("/bookings/{booking_id}", response_model=BookingOut, dependencies=[VIEWER])
async def get_booking(booking_id: DbId, session: ReadSessionDep) -> object:
    return (await _out(session, [await service.get_booking(session, booking_id)]))[0]


@router.patch("/bookings/{booking_id}", response_model=BookingOut, dependencies=[OPERATOR])
async def modify(
    booking_id: DbId, body: BookingPatch, services: ServicesDep, policy: PolicyDep
) -> object:
    change = BookingChange(body.starts_at, body.ends_at, body.energy_kwh, body.departure_at)
    async with services.uow() as session:
        booking = await service.modify(session, booking_id, change, services.clock.now(), policy)
        return (await _out(session, [booking]))[0]


@router.post("/bookings/{booking_id}/cancel", response_model=BookingOut, dependencies=[OPERATOR])
async def cancel(
    booking_id: DbId,
    body: CancelIn,
    services: ServicesDep,
    control: ControlDep,
    policy: PolicyDep,
) -> object:
    """Free until the free cancellation deadline; later, the fee rule is recorded."""
    booking = await charger.cancel(
        services.uow, control, services.clock, policy, booking_id, "driver", body.note
    )
    return await _one(services, booking)


@router.post("/bookings/{booking_id}/override", response_model=BookingOut, dependencies=[OPERATOR])
async def override(
    booking_id: DbId,
    body: OverrideIn,
    services: ServicesDep,
    control: ControlDep,
    policy: PolicyDep,
) -> object:
    """Operator: cancel without a fee, or force the booking onto an EVSE."""
    if body.action == "cancel":
        booking = await charger.cancel(
            services.uow, control, services.clock, policy, booking_id, "operator", body.note
        )
    else:
        if body.station_id is None or body.evse_id is None:
            raise InvalidInput("assign needs station_id and evse_id")
        booking = await charger.force_assign(
            services.uow, control, services.clock, booking_id, body.station_id, body.evse_id,
            body.note,
        )  # fmt: skip
    return await _one(services, booking)


@router.get("/sites/{site_id}/calendar", response_model=CalendarOut, dependencies=[VIEWER])
async def calendar(
    site_id: DbId,
    session: ReadSessionDep,
    day: dt.date | None = None,
    starts_at: AwareDatetime | None = None,
    ends_at: AwareDatetime | None = None,
    include_cancelled: bool = False,
) -> object:
    """A site's bookings per EVSE for a local day (`day`) or a range (`starts_at`, `ends_at`)."""
    site = await assets.get_site(session, site_id)
    if day is not None:
        starts_at, ends_at = local_day(ZoneInfo(site.timezone), day)
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise InvalidInput("give a day, or starts_at before ends_at")
    lines, unassigned = await views.site_calendar(
        session, site_id, starts_at, ends_at, include_cancelled
    )
    places = await views.places(session, [b for line in lines for b in line.bookings])
    return CalendarOut(
        site_id=site_id,
        timezone=site.timezone,
        starts_at=starts_at,
        ends_at=ends_at,
        evses=[
            CalendarEvseOut(
                station_id=line.evse.station_id,
                evse_id=line.evse.evse_id,
                current_type=line.evse.current_type,
                max_power_kw=line.evse.max_power_kw,
                bookings=[BookingOut.of(b, places) for b in line.bookings],
            )
            for line in lines
        ],
        unassigned=[BookingOut.of(b, {}) for b in unassigned],
    )


def _window_out(row: AccessWindow) -> AccessWindowOut:
    return AccessWindowOut.model_validate(
        {
            "id": row.id,
            "user_group": row.user_group,
            "days": [int(d) for d in row.days],
            "start": format_hhmm(row.start_minute),
            "end": format_hhmm(row.end_minute),
            "quota": row.quota,
        }
    )


@router.get(
    "/sites/{site_id}/access-windows", response_model=list[AccessWindowOut], dependencies=[VIEWER]
)
async def list_windows(site_id: DbId, session: ReadSessionDep) -> object:
    await assets.get_site(session, site_id)
    return [_window_out(w) for w in await access.list_windows(session, site_id)]


@router.put(
    "/sites/{site_id}/access-windows", response_model=list[AccessWindowOut], dependencies=[ADMIN]
)
async def put_windows(site_id: DbId, body: list[AccessWindowIn], services: ServicesDep) -> object:
    """Replace the site's windows. A user group with no window is not restricted here; one
    with windows charges and books only inside them (site local time, DST-aware)."""
    specs = [_window_spec(w) for w in body]
    async with services.uow() as session:
        rows = await access.replace_windows(session, site_id, specs, services.clock.now())
        return [_window_out(w) for w in rows]


def _window_spec(body: AccessWindowIn) -> WindowSpec:
    start, end = parse_hhmm(body.start), parse_hhmm(body.end)
    if start == 1440:
        raise InvalidInput("a window cannot open at 24:00")
    if any(not 0 <= d <= 6 for d in body.days):
        raise InvalidInput("days are 0 (Monday) .. 6 (Sunday)")
    return WindowSpec(body.user_group, frozenset(body.days), start, end or 1440, body.quota)


@router.get("/sites/{site_id}/holidays", response_model=list[HolidayOut], dependencies=[VIEWER])
async def list_holidays(site_id: DbId, session: ReadSessionDep) -> object:
    await assets.get_site(session, site_id)
    return await access.list_holidays(session, site_id)


@router.put("/sites/{site_id}/holidays", response_model=list[HolidayOut], dependencies=[ADMIN])
async def put_holidays(site_id: DbId, body: list[HolidayIn], services: ServicesDep) -> object:
    """Replace the site's holidays: local dates whose windows follow another weekday's."""
    specs = [HolidaySpec(h.day, h.treat_as, h.name) for h in body]
    async with services.uow() as session:
        return await access.replace_holidays(session, site_id, specs)


@router.get("/tokens/{uid}/authorization", response_model=AuthorizationOut, dependencies=[VIEWER])
async def check_token(
    uid: str, session: ReadSessionDep, clock: ClockDep, station_id: str | None = None
) -> object:
    """What a station would be told for this token now, with the reason; with `station_id`,
    the access windows and quota of the driver's user group at that station's site apply
    (here, as those are this domain's rules)."""
    auth = await access.authorize(session, uid, clock.now(), station_id=station_id)
    return AuthorizationOut(status=auth.status, reason=auth.reason)
