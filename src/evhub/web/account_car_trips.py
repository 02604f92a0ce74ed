"""A driver's car booking, on the phone: report the car's damage and cleanliness with photos,
start the trip (the car unlocks), end it at the hub (the car locks), report a damage, cancel;
what the trip cost once it ended. Only the driver's own bookings are shown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from evhub.accounts.driver_deps import SignedInDriver, signed_in_driver
from evhub.assets import service as assets
from evhub.carsharing import bookings, fleet, reports, trips, views
from evhub.carsharing.control import VehicleControl
from evhub.carsharing.models import CarBooking
from evhub.carsharing.reports import Photo, ReportIn
from evhub.carsharing.state import CarBookingState
from evhub.errors import DomainError, InvalidInput, NotFound
from evhub.web.account_cars import EXPIRED_FORM, genuine, page, policy_of, see_other, services_of
from evhub.web.console import read_form

router = APIRouter(prefix="/account/cars/bookings", include_in_schema=False)
FORM_OVERHEAD_BYTES = 64 * 1024


async def own_booking(session: AsyncSession, driver: SignedInDriver, booking_id: int) -> CarBooking:
    booking = await bookings.get_booking(session, booking_id)
    if booking.driver_id != driver.driver_id:
        raise NotFound(f"car booking {booking_id} not found")
    return booking


@router.get("/{booking_id}", response_class=HTMLResponse)
async def booking_page(request: Request, booking_id: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    return await render_booking(request, driver, booking_id)


async def render_booking(
    request: Request, driver: SignedInDriver, booking_id: int, error: str = "", code: int = 200
) -> Response:
    services = services_of(request)
    async with services.read_sessions() as session, session.begin():
        try:
            booking = await own_booking(session, driver, booking_id)
        except NotFound as exc:
            return page(request, "account_cars_booking.html", 404, booking=None, error=exc.message)
        vehicle = await fleet.get_vehicle(session, booking.vehicle_id)
        context: dict[str, Any] = {
            "booking": booking, "vehicle": vehicle,
            "site": await assets.get_site(session, vehicle.home_site_id),
            "reports": await reports.reports_of(session, booking.id),
            "charges": await views.charges_of(session, booking.id),
            "range_km": round(fleet.current_range_km(vehicle), 1),
        }  # fmt: skip
        try:
            context["trip"] = await trips.get_trip(session, booking.id)
        except NotFound:
            context["trip"] = None
    context["total"] = sum((c.amount for c in context["charges"]), 0)
    context["reported_before"] = any(r.phase == "before" for r in context["reports"])
    return page(request, "account_cars_booking.html", code, csrf=driver.csrf, error=error,
                states=CarBookingState, **context)  # fmt: skip


@router.post("/{booking_id}/start")
async def start(request: Request, booking_id: int) -> Response:
    """Unlock the car and start the trip (the report before comes first)."""
    return await _trip_action(request, booking_id, trips.start_trip)


@router.post("/{booking_id}/end")
async def end(request: Request, booking_id: int) -> Response:
    """Lock the car back at its hub and end the trip."""
    return await _trip_action(request, booking_id, trips.end_trip)


@router.post("/{booking_id}/cancel")
async def cancel(request: Request, booking_id: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    if not genuine(await read_form(request), driver):
        return await render_booking(request, driver, booking_id, EXPIRED_FORM, 403)
    services = services_of(request)
    try:
        async with services.uow() as session:
            await own_booking(session, driver, booking_id)
            await bookings.cancel(session, booking_id, services.clock.now(), "driver")
    except DomainError as exc:
        return await render_booking(request, driver, booking_id, exc.message, exc.status_code)
    return see_other(f"/account/cars/bookings/{booking_id}")


async def _trip_action(request: Request, booking_id: int, action: Any) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    if not genuine(await read_form(request), driver):
        return await render_booking(request, driver, booking_id, EXPIRED_FORM, 403)
    services = services_of(request)
    control: VehicleControl = request.app.state.vehicle_control
    try:
        async with services.read_sessions() as session, session.begin():
            await own_booking(session, driver, booking_id)
        await action(services.uow, control, services.clock, policy_of(request), booking_id)
    except DomainError as exc:
        return await render_booking(request, driver, booking_id, exc.message, exc.status_code)
    return see_other(f"/account/cars/bookings/{booking_id}")


@router.post("/{booking_id}/report")
async def report(request: Request, booking_id: int) -> Response:
    """A damage and cleanliness report with photos (multipart), before or after the trip; the
    body's size is checked from its Content-Length before anything is read."""
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    policy, services = policy_of(request), services_of(request)
    limit = policy.photos_per_report * policy.photo_max_bytes + FORM_OVERHEAD_BYTES
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > limit:
        return await render_booking(request, driver, booking_id, "the photos are too big", 413)
    try:
        async with services.read_sessions() as session, session.begin():
            await own_booking(session, driver, booking_id)  # before any photo is stored
        async with request.form(max_files=policy.photos_per_report + 1, max_fields=8) as form:
            if not genuine({"csrf": str(form.get("csrf") or "")}, driver):
                return await render_booking(request, driver, booking_id, EXPIRED_FORM, 403)
            fields = _report_fields(form)
            photos = [await _read(f, policy.photo_max_bytes) for f in _uploads(form)]
        reports.check_photos(photos, policy)
        var_dir = Path(request.app.state.settings.var_dir)
        stored = await asyncio.to_thread(reports.store_photos, var_dir, photos)
        async with services.uow() as session:
            await own_booking(session, driver, booking_id)
            await reports.add_report(session, booking_id, fields, stored, services.clock.now())
    except DomainError as exc:
        return await render_booking(request, driver, booking_id, exc.message, exc.status_code)
    return see_other(f"/account/cars/bookings/{booking_id}")


def _report_fields(form: FormData) -> ReportIn:
    values = {k: form.get(k) for k in ("phase", "damage", "cleanliness", "note")}
    cleanliness = values["cleanliness"]
    if not isinstance(cleanliness, str) or not cleanliness.isdigit() or len(cleanliness) > 1:
        raise InvalidInput("cleanliness is a number 1 .. 5")
    note = values["note"] if isinstance(values["note"], str) else ""
    return ReportIn(str(values["phase"] or ""), str(values["damage"] or ""), int(cleanliness), note)


def _uploads(form: FormData) -> list[UploadFile]:
    """The photos chosen (a file input left empty sends one nameless, empty part)."""
    files = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
    return [f for f in files if f.filename]


async def _read(upload: UploadFile, max_bytes: int) -> Photo:
    """Read at most one byte past the cap, so that a huge upload is refused early."""
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise InvalidInput(f"photo {upload.filename!r} is over {max_bytes} bytes")
    return Photo(content, upload.content_type or "", upload.filename or "")
