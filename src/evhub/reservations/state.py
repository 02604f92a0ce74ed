"""Booking states, the moves allowed between them, and the fee rules recorded for billing."""

from __future__ import annotations

from enum import StrEnum

from evhub.errors import Conflict


class BookingState(StrEnum):
    BOOKED = "booked"  # confirmed, an EVSE is held for the slot
    RESERVED = "reserved"  # the station accepted ReserveNow for it
    UNASSIGNED = "unassigned"  # no EVSE of the site would take it; the driver was told
    IN_USE = "in_use"  # a transaction of the driver started on the EVSE
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class FeeRule(StrEnum):
    """Which fee billing applies to a booking (the amount is billing's business)."""

    LATE_CANCELLATION = "late_cancellation"
    NO_SHOW = "no_show"
    OVERSTAY = "overstay"


# States that hold their EVSE for the slot: the database refuses two of them overlapping.
HOLDING = (BookingState.BOOKED, BookingState.RESERVED, BookingState.IN_USE)
# States the driver or the scheduler can still act upon.
OPEN = (*HOLDING, BookingState.UNASSIGNED)


class IllegalBookingTransition(Conflict):
    pass


_ALLOWED: dict[BookingState, frozenset[BookingState]] = {
    BookingState.BOOKED: frozenset(
        {
            BookingState.RESERVED,
            BookingState.UNASSIGNED,
            BookingState.IN_USE,
            BookingState.CANCELLED,
            BookingState.NO_SHOW,
        }
    ),
    BookingState.RESERVED: frozenset(
        {
            BookingState.BOOKED,  # the station dropped the reservation; it is sent again
            BookingState.IN_USE,
            BookingState.CANCELLED,
            BookingState.NO_SHOW,
        }
    ),
    BookingState.UNASSIGNED: frozenset({BookingState.BOOKED, BookingState.CANCELLED}),
    BookingState.IN_USE: frozenset({BookingState.COMPLETED}),
    BookingState.COMPLETED: frozenset(),
    BookingState.CANCELLED: frozenset(),
    BookingState.NO_SHOW: frozenset(),
}


def check_transition(current: str, target: BookingState) -> None:
    """Raise IllegalBookingTransition unless a booking may move from `current` to `target`."""
    if target not in _ALLOWED[BookingState(current)]:
        raise IllegalBookingTransition(
            f"a booking cannot go from {current} to {target}", state=current, target=str(target)
        )
