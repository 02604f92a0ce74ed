"""Vehicle and car-booking states: every allowed move passes, every other raises."""

from __future__ import annotations

import pytest

from evhub.carsharing.state import (
    CarBookingState,
    IllegalCarBookingTransition,
    IllegalVehicleTransition,
    VehicleState,
    check_booking_move,
    check_vehicle_move,
)

V = VehicleState
B = CarBookingState


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (V.AVAILABLE, V.BOOKED),
        (V.BOOKED, V.IN_TRIP),
        (V.IN_TRIP, V.CHARGING),
        (V.IN_TRIP, V.AVAILABLE),
        (V.CHARGING, V.BOOKED),
        (V.DAMAGED, V.MAINTENANCE),
        (V.MAINTENANCE, V.AVAILABLE),
    ],
)
def test_a_vehicle_follows_its_life(current: VehicleState, target: VehicleState) -> None:
    check_vehicle_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (V.MAINTENANCE, V.IN_TRIP),
        (V.DAMAGED, V.BOOKED),
        (V.IN_TRIP, V.BOOKED),
        (V.IN_TRIP, V.MAINTENANCE),
        (V.DAMAGED, V.IN_TRIP),
    ],
)
def test_a_vehicle_refuses_an_illegal_move(current: VehicleState, target: VehicleState) -> None:
    with pytest.raises(IllegalVehicleTransition) as caught:
        check_vehicle_move(current, target)
    assert caught.value.detail == {"state": current, "target": target}
    assert caught.value.status_code == 409


def test_no_vehicle_state_moves_to_itself() -> None:
    for state in VehicleState:
        with pytest.raises(IllegalVehicleTransition):
            check_vehicle_move(state, state)


def test_a_booking_is_started_then_completed_or_closed_before() -> None:
    check_booking_move(B.BOOKED, B.IN_TRIP)
    check_booking_move(B.IN_TRIP, B.COMPLETED)
    check_booking_move(B.BOOKED, B.CANCELLED)
    check_booking_move(B.BOOKED, B.NO_SHOW)


@pytest.mark.parametrize("final", [B.COMPLETED, B.CANCELLED, B.NO_SHOW])
def test_a_closed_booking_moves_no_more(final: CarBookingState) -> None:
    for target in CarBookingState:
        with pytest.raises(IllegalCarBookingTransition):
            check_booking_move(final, target)


def test_a_trip_in_progress_cannot_be_cancelled_nor_a_no_show() -> None:
    for target in (B.CANCELLED, B.NO_SHOW, B.BOOKED):
        with pytest.raises(IllegalCarBookingTransition):
            check_booking_move(B.IN_TRIP, target)
