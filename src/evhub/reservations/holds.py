"""Holding an EVSE for a slot: the one write that must never double-book.

Each write that makes a booking hold an EVSE goes through `hold`, and the database refuses an
overlap (exclusion constraint on PostgreSQL, triggers on SQLite); `conflict_for` tells the
loser which slot it lost to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.reservations import views
from evhub.reservations.errors import ReservationConflict
from evhub.reservations.models import Booking
from evhub.reservations.state import HOLDING

# The first keys of PostgreSQL's two-key advisory locks that queue one driver's booking writes
# and the writes that claim one EVSE.
_DRIVER_LOCKS = 0x626B  # "bk"
_EVSE_LOCKS = 0x6265  # "be"


async def hold(
    session: AsyncSession,
    booking: Booking,
    changes: dict[str, object] | None = None,
    add: bool = False,
) -> bool:
    """Write the booking (new with `add`, or with `changes`); False, with nothing changed,
    when its EVSE is held by another booking for an overlapping slot.

    PostgreSQL: in a savepoint, which the exclusion constraint makes fail, after a lock on the
    driver that lasts until commit and, within the savepoint, one on the EVSE. SQLite: its one
    pooled connection serialises this process's writers, so a check within this transaction
    holds until commit, and the triggers stop other processes. (pysqlite opens its transaction
    at the first write, so a SAVEPOINT before it would commit on release: none is used.)"""
    if session.get_bind().dialect.name != "postgresql":
        _apply(booking, changes)
        if booking.evse_pk is not None and await _overlaps(session, booking):
            if not add:
                session.expire(booking)  # drop the refused change, as a rollback would
                await session.refresh(booking)
            return False
        if add:
            session.add(booking)
        try:
            await session.flush()
        except IntegrityError as exc:
            if _is_driver_overlap(exc):
                raise _driver_conflict(booking) from exc
            if _is_overlap(exc):
                raise ReservationConflict("the EVSE was booked by another writer") from exc
            raise
        return True
    if booking.driver_id is not None:
        # One driver's writers queue here, before either constraint is touched: two of them
        # would otherwise each wait on the other (one on the EVSE's constraint, one on the
        # driver's) until PostgreSQL aborts one as a deadlock.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :driver)"),
            {"space": _DRIVER_LOCKS, "driver": booking.driver_id},
        )
    evse_pk = (changes or {}).get("evse_pk", booking.evse_pk)
    try:
        async with session.begin_nested():  # flushes what was pending before it
            if isinstance(evse_pk, int):
                # Two writers inserting rows that overlap on one EVSE would each find the
                # other's row in the exclusion constraint and wait on it: a deadlock that
                # PostgreSQL breaks by failing one. Queued here, the second one finds the
                # first's row committed. A lost savepoint releases the lock, so a writer that
                # goes on to the next EVSE holds only the one it may win.
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:space, :evse)"),
                    {"space": _EVSE_LOCKS, "evse": evse_pk},
                )
            _apply(booking, changes)
            if add:
                session.add(booking)
            await session.flush()
    except IntegrityError as exc:
        if _is_driver_overlap(exc):
            raise _driver_conflict(booking) from exc
        if not _is_overlap(exc):
            raise
        if not add:
            await session.refresh(booking)
        return False
    return True


def _apply(booking: Booking, changes: dict[str, object] | None) -> None:
    for name, value in (changes or {}).items():
        setattr(booking, name, value)


async def _overlaps(session: AsyncSession, booking: Booking) -> bool:
    query = holding(booking.starts_at, booking.ends_at).where(Booking.evse_pk == booking.evse_pk)
    if booking.id is not None:
        query = query.where(Booking.id != booking.id)
    with session.no_autoflush:  # the pending change would fire the trigger first
        return (await session.execute(query.limit(1))).first() is not None


def _is_overlap(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return (
        "ex_bookings_evse_slot" in text
        or "booking overlaps another booking of the same EVSE" in text
    )


def _is_driver_overlap(exc: IntegrityError) -> bool:
    """One driver's holding bookings may not overlap (migration 0008): the database says so
    when two of the driver's requests race past the check made before."""
    text = str(exc.orig)
    return "ex_bookings_driver_slot" in text or "the same driver" in text


def _driver_conflict(booking: Booking) -> ReservationConflict:
    return ReservationConflict(
        f"driver {booking.driver_id} already holds a booking for an overlapping slot",
        reason="driver_overlap",
    )


async def conflict_for(
    session: AsyncSession,
    evse_pk: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None,
) -> ReservationConflict:
    """The 409 to raise: with the slot that holds the EVSE, as far as it can be seen."""
    query = holding(starts_at, ends_at).where(Booking.evse_pk == evse_pk)
    if exclude_id is not None:
        query = query.where(Booking.id != exclude_id)
    other = (await session.execute(query.limit(1))).scalar_one_or_none()
    detail: dict[str, object] = {}
    if other is not None:
        detail["conflicting"] = {
            "starts_at": other.starts_at.isoformat(),
            "ends_at": other.ends_at.isoformat(),
            **await views.place(session, evse_pk),
        }
    return ReservationConflict("the EVSE is already booked for an overlapping slot", **detail)


def holding(starts_at: datetime, ends_at: datetime) -> Select[Booking]:
    return select(Booking).where(
        Booking.state.in_(HOLDING), Booking.starts_at < ends_at, Booking.ends_at > starts_at
    )
