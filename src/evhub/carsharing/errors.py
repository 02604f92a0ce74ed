"""Car-sharing's domain errors (mapped to HTTP once, at the edge)."""

from __future__ import annotations

from evhub.errors import Conflict


class CarUnavailable(Conflict):
    """The car is booked, blocked, off the fleet or due for inspection for the interval."""


class QuotaReached(Conflict):
    pass


class NotAMember(Conflict):
    """The driver has no right to car-share (no licence on file, or it has expired)."""


class PlanWithoutCarsharing(NotAMember):
    """The driver's plan does not include car-sharing."""


class TooEarlyOrLate(Conflict):
    pass


class NotAtHub(Conflict):
    """A car is returned to its home hub (round trips only)."""


class CarDamaged(Conflict):
    pass


class RangeUnavailable(Conflict):
    """No car of the hub can be charged for the booking's distance by its start."""
