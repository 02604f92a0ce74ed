"""Booking states: the allowed moves, and illegal ones raising."""

from __future__ import annotations

import pytest

from evhub.errors import Conflict
from evhub.reservations.state import BookingState, IllegalBookingTransition, check_transition

S = BookingState


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.BOOKED, S.RESERVED),
        (S.BOOKED, S.UNASSIGNED),
        (S.BOOKED, S.CANCELLED),
        (S.RESERVED, S.IN_USE),
        (S.RESERVED, S.NO_SHOW),
        (S.RESERVED, S.BOOKED),
        (S.UNASSIGNED, S.BOOKED),
        (S.IN_USE, S.COMPLETED),
    ],
)
def test_allowed_moves(current: BookingState, target: BookingState) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.IN_USE, S.CANCELLED),
        (S.IN_USE, S.NO_SHOW),
        (S.COMPLETED, S.IN_USE),
        (S.CANCELLED, S.BOOKED),
        (S.NO_SHOW, S.RESERVED),
        (S.UNASSIGNED, S.RESERVED),
    ],
)
def test_illegal_moves_raise_a_conflict(current: BookingState, target: BookingState) -> None:
    with pytest.raises(IllegalBookingTransition) as caught:
        check_transition(current, target)
    assert isinstance(caught.value, Conflict)
