"""REST routes: the fleet (admin writes, viewer reads), members, search, bookings, maintenance
blocks, condition reports with photos, and trips. A driver acts through an operator key on
their behalf, as for charging bookings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from evhub.assets import service as assets
from evhub.auth.deps import ADMIN, OPERATOR, VIEWER
from evhub.carsharing import bookings, fleet, members, positions, reports, return_fees, trips, v2x
from evhub.carsharing.bookings import CarRequest, CarSearch
from evhub.carsharing.control import VehicleControl
from evhub.carsharing.fleet import VehicleSpec
from evhub.carsharing.models import CarBooking, Trip
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.reports import Photo, ReportIn
from evhub.carsharing.return_fees import FeeRequest
from evhub.carsharing.schemas import (
    BlockIn,
    BookingFeeOut,
    CancelIn,
    CarBookingIn,
    CarBookingOut,
    CarPositionOut,
    FeeIn,
    FeeOut,
    HubV2xIn,
    HubV2xOut,
    MemberIn,
    MemberOut,
    PhotoOut,
    ReportOut,
    TripOut,
    VehicleIn,
    VehicleOut,
    VehiclePatch,
)
from evhub.carsharing.state import CarBookingState, Propulsion
from evhub.deps import ClockDep, ServicesDep, SessionDep
from evhub.errors import InvalidInput
from evhub.params import DbId

router = APIRouter(tags=["carsharing"])


def _policy(request: Request) -> CarsharingPolicy:
    policy: CarsharingPolicy = request.app.state.carsharing_policy
    return policy


def _control(request: Request) -> VehicleControl:
    control: VehicleControl = request.app.state.vehicle_control
    return control


def _var_dir(request: Request) -> Path:
    return Path(request.app.state.settings.var_dir)


PolicyDep = Annotated[CarsharingPolicy, Depends(_policy)]
VehicleControlDep = Annotated[VehicleControl, Depends(_control)]
VarDirDep = Annotated[Path, Depends(_var_dir)]


@router.post(
    "/fleet/vehicles",
    status_code=status.HTTP_201_CREATED,
    response_model=VehicleOut,
    dependencies=[ADMIN],
)
async def create_vehicle(body: VehicleIn, services: ServicesDep) -> object:
    fields = body.model_dump()
    fields["documents"] = [d.model_dump(mode="json") for d in body.documents]
    async with services.uow() as session:
        return await fleet.create_vehicle(session, VehicleSpec(**fields), services.clock.now())


@router.get("/fleet/vehicles", response_model=list[VehicleOut], dependencies=[VIEWER])
async def list_vehicles(
    session: SessionDep, site_id: DbId | None = None, state: str | None = None
) -> object:
    return await fleet.list_vehicles(session, site_id, state)


@router.get("/fleet/positions", response_model=list[CarPositionOut], dependencies=[VIEWER])
async def fleet_positions(
    session: SessionDep, clock: ClockDep, site_id: DbId | None = None
) -> object:
    """Each car at its last known position, for the console's fleet map."""
    return await positions.fleet_positions(session, site_id, clock.now())


@router.get("/fleet/vehicles/{vehicle_id}", response_model=VehicleOut, dependencies=[VIEWER])
async def get_vehicle(vehicle_id: DbId, session: SessionDep) -> object:
    return await fleet.get_vehicle(session, vehicle_id)


@router.patch("/fleet/vehicles/{vehicle_id}", response_model=VehicleOut, dependencies=[ADMIN])
async def patch_vehicle(vehicle_id: DbId, body: VehiclePatch, services: ServicesDep) -> object:
    changes = body.model_dump(exclude_unset=True, mode="json")
    if "next_inspection_on" in changes and body.next_inspection_on is not None:
        changes["next_inspection_on"] = body.next_inspection_on
    async with services.uow() as session:
        return await fleet.update_vehicle(session, vehicle_id, changes, services.clock.now())


@router.post(
    "/fleet/vehicles/{vehicle_id}/blocks",
    status_code=status.HTTP_201_CREATED,
    response_model=CarBookingOut,
    dependencies=[ADMIN],
)
async def block_vehicle(vehicle_id: DbId, body: BlockIn, services: ServicesDep) -> object:
    """A maintenance block: no booking may overlap it."""
    async with services.uow() as session:
        return await bookings.block(
            session, vehicle_id, body.starts_at, body.ends_at, body.note, services.clock.now()
        )


@router.post(
    "/fleet/bookings/{booking_id}/fees",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingFeeOut,
    responses={
        409: {"description": "The booking has a fee of that kind already, or is not returned."},
        422: {"description": "Not a trip, a franchise over the cap or without a damage report."},
    },
    dependencies=[OPERATOR],
)
async def charge_fee(
    booking_id: DbId, body: FeeIn, services: ServicesDep, policy: PolicyDep
) -> object:
    """Charge a cleaning fee (the fixed price) or a damage franchise (the amount stated, for
    the trip's report of the damage) on a returned trip; it goes on the driver's invoice."""
    request = FeeRequest(booking_id, body.kind, body.reason, body.amount, body.report_id)
    async with services.uow() as session:
        return await return_fees.charge_fee(session, request, services.clock.now(), policy)


@router.put("/carsharing/members", response_model=MemberOut, dependencies=[ADMIN])
async def put_member(body: MemberIn, services: ServicesDep) -> object:
    """A driver's licence on file: the right to car-share."""
    async with services.uow() as session:
        return await members.register(
            session, body.driver_id, body.licence_number, body.licence_expires_on,
            services.clock.now(),
        )  # fmt: skip


@router.get("/carsharing/members/{driver_id}", response_model=MemberOut, dependencies=[VIEWER])
async def get_member(driver_id: DbId, session: SessionDep) -> object:
    return await members.get_member(session, driver_id)


@router.get(
    "/carsharing/available-vehicles", response_model=list[VehicleOut], dependencies=[VIEWER]
)
async def search(
    site_id: DbId,
    ends_at: AwareDatetime,
    session: SessionDep,
    services: ServicesDep,
    starts_at: AwareDatetime | None = None,
    propulsion: Propulsion | None = None,
    min_seats: int | None = None,
) -> object:
    """Cars of a hub free for the window (from now when `starts_at` is left out)."""
    now = services.clock.now()
    query = CarSearch(site_id, starts_at or now, ends_at, propulsion, min_seats)
    return await bookings.search(session, query, now)


@router.post(
    "/carsharing/bookings",
    status_code=status.HTTP_201_CREATED,
    response_model=CarBookingOut,
    responses={
        409: {
            "description": "The car is taken, blocked or off the fleet, or no car of the hub "
            "can have the range in time (a booking may be moved to another car of the hub)."
        }
    },
    dependencies=[OPERATOR],
)
async def book(body: CarBookingIn, services: ServicesDep, policy: PolicyDep) -> object:
    request = CarRequest(
        body.driver_id, body.vehicle_id, body.ends_at, body.starts_at, body.planned_km
    )
    async with services.uow() as session:
        booking = await bookings.book(session, request, services.clock.now(), policy)
        return await _booking_out(session, booking)


@router.get("/carsharing/bookings", response_model=list[CarBookingOut], dependencies=[VIEWER])
async def list_bookings(
    session: SessionDep,
    vehicle_id: DbId | None = None,
    driver_id: DbId | None = None,
    state: CarBookingState | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> object:
    rows = await bookings.list_bookings(
        session, vehicle_id, driver_id, [state] if state else [], min(limit, 5000)
    )
    return [await _booking_out(session, b) for b in rows]


@router.get(
    "/carsharing/bookings/{booking_id}", response_model=CarBookingOut, dependencies=[VIEWER]
)
async def get_booking(booking_id: DbId, session: SessionDep) -> object:
    return await _booking_out(session, await bookings.get_booking(session, booking_id))


@router.post(
    "/carsharing/bookings/{booking_id}/cancel",
    response_model=CarBookingOut,
    dependencies=[OPERATOR],
)
async def cancel(booking_id: DbId, body: CancelIn, services: ServicesDep) -> object:
    async with services.uow() as session:
        booking = await bookings.cancel(
            session, booking_id, services.clock.now(), "driver", body.note
        )
        return await _booking_out(session, booking)


REPORT_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["phase", "damage", "cleanliness"],
                    "properties": {
                        "phase": {"enum": list(reports.PHASES)},
                        "damage": {"enum": list(reports.DAMAGE)},
                        "cleanliness": {"type": "integer", "minimum": 1, "maximum": 5},
                        "note": {"type": "string"},
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            }
        },
    }
}
FORM_OVERHEAD_BYTES = 64 * 1024


@router.post(
    "/carsharing/bookings/{booking_id}/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportOut,
    dependencies=[OPERATOR],
    openapi_extra=REPORT_FORM,
)
async def report(
    booking_id: DbId, request: Request, services: ServicesDep, policy: PolicyDep, var_dir: VarDirDep
) -> object:
    """A damage and cleanliness report with photos (multipart), before or after the trip.
    The body's size is checked from its Content-Length before anything is read."""
    limit = policy.photos_per_report * policy.photo_max_bytes + FORM_OVERHEAD_BYTES
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(status.HTTP_411_LENGTH_REQUIRED, "a Content-Length is required")
    if int(length) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"a report is at most {limit} bytes")
    async with request.form(max_files=policy.photos_per_report + 1, max_fields=8) as form:
        fields = _report_fields(form)
        uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
        files = [await _read_photo(f, policy.photo_max_bytes) for f in uploads]
    reports.check_photos(files, policy)
    stored = await asyncio.to_thread(reports.store_photos, var_dir, files)
    async with services.uow() as session:
        row = await reports.add_report(session, booking_id, fields, stored, services.clock.now())
        out = ReportOut.model_validate(row)
        out.photos = [
            PhotoOut.model_validate(p) for p in await reports.photos_of(session, [row.id])
        ]
        return out


def _report_fields(form: FormData) -> ReportIn:
    values = {k: form.get(k) for k in ("phase", "damage", "cleanliness", "note")}
    if not all(isinstance(values[k], str) for k in ("phase", "damage", "cleanliness")):
        raise InvalidInput("phase, damage and cleanliness are required form fields")
    cleanliness = str(values["cleanliness"])
    if not cleanliness.isdigit():
        raise InvalidInput("cleanliness is a number 1 .. 5")
    note = values["note"] if isinstance(values["note"], str) else ""
    return ReportIn(str(values["phase"]), str(values["damage"]), int(cleanliness), note)


@router.post(
    "/carsharing/bookings/{booking_id}/start", response_model=TripOut, dependencies=[OPERATOR]
)
async def start_trip(
    booking_id: DbId, services: ServicesDep, policy: PolicyDep, control: VehicleControlDep
) -> object:
    """Unlock the car and start the trip (a report comes first)."""
    trip = await trips.start_trip(services.uow, control, services.clock, policy, booking_id)
    async with services.uow() as session:
        return await _trip_out(session, trip)


@router.post(
    "/carsharing/bookings/{booking_id}/end", response_model=TripOut, dependencies=[OPERATOR]
)
async def end_trip(
    booking_id: DbId, services: ServicesDep, policy: PolicyDep, control: VehicleControlDep
) -> object:
    """Lock the car at its hub and end the trip; a late return adds its fee line."""
    trip = await trips.end_trip(services.uow, control, services.clock, policy, booking_id)
    async with services.uow() as session:
        return await _trip_out(session, trip)


@router.get("/carsharing/bookings/{booking_id}/trip", response_model=TripOut, dependencies=[VIEWER])
async def get_trip(booking_id: DbId, session: SessionDep) -> object:
    return await _trip_out(session, await trips.get_trip(session, booking_id))


@router.get("/carsharing/photos/{photo_id}", dependencies=[VIEWER])
async def get_photo(photo_id: DbId, session: SessionDep, var_dir: VarDirDep) -> FileResponse:
    """A report's photo, as it was sent."""
    photo = await reports.get_photo(session, photo_id)
    return FileResponse(var_dir / photo.stored_as, media_type=photo.content_type)


async def _read_photo(upload: UploadFile, max_bytes: int) -> Photo:
    """Read at most one byte past the cap, so that a huge upload is refused early."""
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise InvalidInput(f"photo {upload.filename!r} is over {max_bytes} bytes")
    return Photo(content, upload.content_type or "", upload.filename or "")


async def _booking_out(session: AsyncSession, booking: CarBooking) -> CarBookingOut:
    out = CarBookingOut.model_validate(booking)
    out.fees = [FeeOut.model_validate(f) for f in await trips.fees_of(session, booking.id)]
    return out


async def _trip_out(session: AsyncSession, trip: Trip) -> TripOut:
    out = TripOut.model_validate(trip)
    if trip.end_odometer_km is not None:
        out.distance_km = round(trip.end_odometer_km - trip.start_odometer_km, 3)
    out.booking = await _booking_out(session, await bookings.get_booking(session, trip.booking_id))
    rows = await reports.reports_of(session, trip.booking_id)
    photos: dict[int, list[Any]] = {}
    for p in await reports.photos_of(session, [r.id for r in rows]):
        photos.setdefault(p.report_id, []).append(PhotoOut.model_validate(p))
    out.reports = [ReportOut.model_validate(r) for r in rows]
    for r in out.reports:
        r.photos = photos.get(r.id, [])
    return out


def _hub_out(hub: v2x.HubV2x) -> HubV2xOut:
    return HubV2xOut(site_id=hub.site_id, consent=hub.consent, min_soc_pct=hub.min_soc_pct,
                     default_floor=not hub.own_floor)  # fmt: skip


@router.get("/carsharing/hubs/{site_id}/v2g", response_model=HubV2xOut, dependencies=[VIEWER])
async def hub_v2g(site_id: DbId, session: SessionDep, policy: PolicyDep) -> HubV2xOut:
    """Whether the hub's shared cars may feed the grid between bookings, and their floor."""
    await assets.get_site(session, site_id)
    return _hub_out(await v2x.hub_v2x(session, site_id, policy))


@router.put("/carsharing/hubs/{site_id}/v2g", response_model=HubV2xOut, dependencies=[OPERATOR])
async def set_hub_v2g(
    site_id: DbId, body: HubV2xIn, session: SessionDep, clock: ClockDep, policy: PolicyDep
) -> HubV2xOut:
    """The operator's choice; the hub is re-planned at once. 422: a floor outside 0-100 %."""
    hub = await v2x.save_hub_v2x(
        session, site_id, body.consent, body.min_soc_pct, clock.now(), policy
    )
    return _hub_out(hub)
