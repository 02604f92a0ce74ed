"""Refusals of the reservations domain, mapped to HTTP by `evhub.errors`' status codes."""

from __future__ import annotations

from evhub.errors import Conflict, InvalidInput


class ReservationConflict(Conflict):
    """The EVSE is held by another booking for an overlapping slot (detail: `conflicting`)."""


class QuotaReached(Conflict):
    """The user group's quota of points at the site is used up for the slot."""


class OutsideAccessWindow(InvalidInput):
    """The slot is not within the access windows of the driver's user group."""


class TooLate(Conflict):
    """A change asked for after the booking's rules allow it."""
