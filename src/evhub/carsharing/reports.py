"""Damage and cleanliness reports with photos, made before a trip starts (and after it).

Photos are checked (type by their first bytes, size, count), then written under var_dir by
their SHA-256 before the report's transaction: a report never names a missing file, and a
photo sent twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.carsharing import bookings, fleet
from evhub.carsharing.errors import TooEarlyOrLate
from evhub.carsharing.models import ConditionReport, ReportPhoto
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import BookingKind, CarBookingState, VehicleState
from evhub.errors import InvalidInput, NotFound
from evhub.events import emit

# Content types accepted, with the first bytes their files start with.
PHOTO_TYPES: dict[str, tuple[str, bytes]] = {
    "image/jpeg": ("jpg", b"\xff\xd8\xff"),
    "image/png": ("png", b"\x89PNG\r\n\x1a\n"),
    "image/webp": ("webp", b"RIFF"),
}
DAMAGE = ("none", "minor", "major")
PHASES = ("before", "after")


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    filename: str = ""


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    content_type: str
    size_bytes: int
    filename: str
    stored_as: str  # relative to var_dir


@dataclass(frozen=True)
class ReportIn:
    phase: str
    damage: str
    cleanliness: int
    note: str = ""


def check_photos(photos: list[Photo], policy: CarsharingPolicy) -> None:
    if len(photos) > policy.photos_per_report:
        raise InvalidInput(f"at most {policy.photos_per_report} photos per report")
    for photo in photos:
        if len(photo.content) > policy.photo_max_bytes:
            raise InvalidInput(
                f"photo {photo.filename!r} is over {policy.photo_max_bytes} bytes",
                max_bytes=policy.photo_max_bytes,
            )
        kind = PHOTO_TYPES.get(photo.content_type)
        if kind is None:
            raise InvalidInput(
                f"photo {photo.filename!r} is {photo.content_type}", allowed=sorted(PHOTO_TYPES)
            )
        if not photo.content.startswith(kind[1]) or (
            kind[0] == "webp" and photo.content[8:12] != b"WEBP"
        ):
            raise InvalidInput(f"photo {photo.filename!r} is not a {photo.content_type} file")


def store_photos(var_dir: Path, photos: list[Photo]) -> list[StoredPhoto]:
    """Write the photos under var_dir/carsharing/photos (blocking: run it in a thread)."""
    folder = var_dir / "carsharing" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for photo in photos:
        digest = hashlib.sha256(photo.content).hexdigest()
        relative = f"carsharing/photos/{digest}.{PHOTO_TYPES[photo.content_type][0]}"
        target = var_dir / relative
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(photo.content)
            os.replace(tmp, target)
        stored.append(
            StoredPhoto(
                digest, photo.content_type, len(photo.content), photo.filename[:200], relative
            )
        )
    return stored


async def add_report(
    session: AsyncSession,
    booking_id: int,
    report: ReportIn,
    photos: list[StoredPhoto],
    now: datetime,
) -> ConditionReport:
    """Record a report; a major damage seen before the start takes the car off the fleet."""
    if report.phase not in PHASES or report.damage not in DAMAGE:
        raise InvalidInput("phase is before/after, damage none/minor/major")
    if not 1 <= report.cleanliness <= 5:
        raise InvalidInput("cleanliness is 1 (dirty) .. 5 (spotless)")
    booking = await bookings.get_booking(session, booking_id, lock=True)
    if booking.kind != BookingKind.TRIP:
        raise InvalidInput("reports are made on drivers' bookings")
    allowed = (
        (CarBookingState.BOOKED,)
        if report.phase == "before"
        else (CarBookingState.IN_TRIP, CarBookingState.COMPLETED)
    )
    if booking.state not in allowed:
        raise TooEarlyOrLate(f"a {report.phase} report on a booking that is {booking.state}")
    row = ConditionReport(
        booking_id=booking.id,
        vehicle_id=booking.vehicle_id,
        phase=report.phase,
        damage=report.damage,
        cleanliness=report.cleanliness,
        note=report.note[:1000],
        created_at=now,
    )
    session.add(row)
    await session.flush()
    for p in photos:
        session.add(
            ReportPhoto(
                report_id=row.id, sha256=p.sha256, content_type=p.content_type,
                size_bytes=p.size_bytes, filename=p.filename, stored_as=p.stored_as,
            )
        )  # fmt: skip
    data = {"report_id": row.id, "booking_id": booking.id, "vehicle_id": booking.vehicle_id}
    emit(session, "carsharing.condition_reported", now, **data, phase=row.phase,
         damage=row.damage, cleanliness=row.cleanliness, photos=len(photos))  # fmt: skip
    if report.damage == "major":
        vehicle = await fleet.get_vehicle(session, booking.vehicle_id, lock=True)
        if vehicle.state != VehicleState.DAMAGED:
            fleet.set_state(session, vehicle, VehicleState.DAMAGED, now, f"report {row.id}")
    return row


async def reports_of(session: AsyncSession, booking_id: int) -> list[ConditionReport]:
    query = select(ConditionReport).where(ConditionReport.booking_id == booking_id)
    return list((await session.execute(query.order_by(ConditionReport.id))).scalars())


async def photos_of(session: AsyncSession, report_ids: list[int]) -> list[ReportPhoto]:
    if not report_ids:
        return []
    query = select(ReportPhoto).where(ReportPhoto.report_id.in_(report_ids))
    return list((await session.execute(query.order_by(ReportPhoto.id))).scalars())


async def get_photo(session: AsyncSession, photo_id: int) -> ReportPhoto:
    photo = await session.get(ReportPhoto, photo_id)
    if photo is None:
        raise NotFound(f"photo {photo_id} not found")
    return photo
