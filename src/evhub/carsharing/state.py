"""Vehicle and car-booking states, and the moves allowed between them (each raises on an
illegal move, like the reservations' booking states)."""

from __future__ import annotations

from enum import StrEnum

from evhub.errors import Conflict


class Propulsion(StrEnum):
    ELECTRIC = "electric"
    COMBUSTION = "combustion"


class VehicleState(StrEnum):
    AVAILABLE = "available"
    BOOKED = "booked"  # a booking's window has begun; the car waits for its driver
    IN_TRIP = "in_trip"
    CHARGING = "charging"  # returned with a low charge at its hub
    MAINTENANCE = "maintenance"
    DAMAGED = "damaged"


class CarBookingState(StrEnum):
    BOOKED = "booked"
    IN_TRIP = "in_trip"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class BookingKind(StrEnum):
    TRIP = "trip"  # a driver's booking
    MAINTENANCE = "maintenance"  # a block: the car is kept off bookings for the interval


# States that hold the car for their interval: the database refuses two of them overlapping.
HOLDING = (CarBookingState.BOOKED, CarBookingState.IN_TRIP)
# A car in these states is not offered, whatever its calendar says.
OFF_FLEET = (VehicleState.MAINTENANCE, VehicleState.DAMAGED)


class IllegalVehicleTransition(Conflict):
    pass


class IllegalCarBookingTransition(Conflict):
    pass


_V = VehicleState
_VEHICLE_MOVES: dict[VehicleState, frozenset[VehicleState]] = {
    _V.AVAILABLE: frozenset({_V.BOOKED, _V.IN_TRIP, _V.CHARGING, _V.MAINTENANCE, _V.DAMAGED}),
    _V.BOOKED: frozenset({_V.AVAILABLE, _V.IN_TRIP, _V.CHARGING, _V.MAINTENANCE, _V.DAMAGED}),
    _V.IN_TRIP: frozenset({_V.AVAILABLE, _V.CHARGING, _V.DAMAGED}),
    _V.CHARGING: frozenset({_V.AVAILABLE, _V.BOOKED, _V.IN_TRIP, _V.MAINTENANCE, _V.DAMAGED}),
    _V.MAINTENANCE: frozenset({_V.AVAILABLE, _V.DAMAGED}),
    _V.DAMAGED: frozenset({_V.MAINTENANCE, _V.AVAILABLE}),
}

_B = CarBookingState
_BOOKING_MOVES: dict[CarBookingState, frozenset[CarBookingState]] = {
    _B.BOOKED: frozenset({_B.IN_TRIP, _B.CANCELLED, _B.NO_SHOW}),
    _B.IN_TRIP: frozenset({_B.COMPLETED}),
    _B.COMPLETED: frozenset(),
    _B.CANCELLED: frozenset(),
    _B.NO_SHOW: frozenset(),
}


def check_vehicle_move(current: str, target: VehicleState) -> None:
    """Raise IllegalVehicleTransition unless a car may go from `current` to `target`."""
    if target not in _VEHICLE_MOVES[VehicleState(current)]:
        raise IllegalVehicleTransition(
            f"a vehicle cannot go from {current} to {target}", state=current, target=str(target)
        )


def check_booking_move(current: str, target: CarBookingState) -> None:
    """Raise IllegalCarBookingTransition unless a car booking may go from `current` to
    `target`."""
    if target not in _BOOKING_MOVES[CarBookingState(current)]:
        raise IllegalCarBookingTransition(
            f"a car booking cannot go from {current} to {target}",
            state=current,
            target=str(target),
        )
