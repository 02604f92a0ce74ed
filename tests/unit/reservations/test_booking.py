"""Booking rules: free EVSEs, no double booking (also in the database), access windows and
quotas at booking time, modification and cancellation rules, planning's declared needs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from evhub.accounts import service as accounts
from evhub.errors import Conflict, InvalidInput
from evhub.reservations import access, service
from evhub.reservations.access import WindowSpec
from evhub.reservations.errors import (
    OutsideAccessWindow,
    QuotaReached,
    ReservationConflict,
    TooLate,
)
from evhub.reservations.models import Booking
from evhub.reservations.service import BookingChange, BookingRequest, Slot
from evhub.reservations.state import BookingState, FeeRule
from tests.unit.reservations.conftest import NOW, POLICY, Hub

H = timedelta(hours=1)


def request(
    hub: Hub,
    start: datetime,
    end: datetime,
    driver_id: int | None = None,
    where: tuple[str, int] | None = None,
    **slot: object,
) -> BookingRequest:
    return BookingRequest(
        driver_id or hub.visitor_id,
        Slot(hub.site_id, start, end, **slot),  # type: ignore[arg-type]
        energy_kwh=18.0,
        station_id=where[0] if where else None,
        evse_id=where[1] if where else None,
    )


async def book(hub: Hub, req: BookingRequest, now: datetime = NOW) -> Booking:
    async with hub.uow() as s:
        return await service.book(s, req, now, POLICY)


async def place_of(hub: Hub, booking: Booking) -> tuple[str, int]:
    async with hub.uow() as s:
        return (await service.views.places(s, [booking]))[booking.evse_pk or 0]


async def test_booking_takes_the_smallest_suitable_free_evse(hub: Hub) -> None:
    ac = await book(hub, request(hub, NOW + H, NOW + 3 * H, current_type="AC"))
    assert await place_of(hub, ac) == ("CP-A", 2)  # 11 kW is enough when nothing is asked
    fast = await book(hub, request(hub, NOW + H, NOW + 3 * H, hub.resident_id, min_power_kw=50))
    assert await place_of(hub, fast) == ("CP-D", 1)
    assert ac.state == BookingState.BOOKED
    assert ac.id_token == "BO-1" and ac.departure_at == NOW + 3 * H
    assert [e.kind for e in await hub.published()] == ["reservation.booked"] * 2


async def test_an_overlapping_slot_on_the_same_evse_is_refused_with_the_slot(hub: Hub) -> None:
    await book(hub, request(hub, NOW + H, NOW + 3 * H, where=("CP-A", 1)))
    with pytest.raises(ReservationConflict) as caught:
        await book(hub, request(hub, NOW + 2 * H, NOW + 4 * H, hub.resident_id, ("CP-A", 1)))
    assert caught.value.status_code == 409
    assert caught.value.detail["conflicting"] == {
        "starts_at": (NOW + H).isoformat(),
        "ends_at": (NOW + 3 * H).isoformat(),
        "station_id": "CP-A",
        "evse_id": 1,
    }
    # Back to back is fine.
    await book(hub, request(hub, NOW + 3 * H, NOW + 4 * H, hub.resident_id, ("CP-A", 1)))


async def test_searching_skips_taken_evses_and_runs_out(hub: Hub) -> None:
    slot = Slot(hub.site_id, NOW + H, NOW + 2 * H, "AC")
    async with hub.uow() as s:
        assert len(await service.search_free_evses(s, slot)) == 3
    async with hub.uow() as s:
        await accounts.create_driver(s, "Cy", None, "visitor", NOW)
    for driver in (hub.visitor_id, hub.resident_id):
        await book(hub, request(hub, NOW + H, NOW + 2 * H, driver, current_type="AC"))
    async with hub.uow() as s:
        [left] = await service.search_free_evses(s, slot)
    assert (left.station_id, left.evse_id) == ("CP-B", 1)


async def test_the_database_itself_refuses_overlapping_holds(hub: Hub) -> None:
    first = await book(hub, request(hub, NOW + H, NOW + 3 * H, where=("CP-A", 1)))

    def twin(state: BookingState) -> Booking:
        return Booking(
            site_id=hub.site_id, evse_pk=first.evse_pk, driver_id=hub.resident_id,
            id_token="ADA-1", user_group="resident", starts_at=NOW + 2 * H,
            ends_at=NOW + 4 * H, energy_kwh=5.0, departure_at=NOW + 4 * H, state=state,
            reassignments=0, idle_minutes=0, note="", created_at=NOW, updated_at=NOW,
        )  # fmt: skip

    with pytest.raises(IntegrityError):
        async with hub.uow() as s:
            s.add(twin(BookingState.BOOKED))
    async with hub.uow() as s:  # bookings that hold nothing may overlap
        s.add(twin(BookingState.CANCELLED))
    with pytest.raises(IntegrityError):  # and cannot be revived into a double booking
        async with hub.uow() as s:
            cancelled = (await service.list_bookings(s, hub.resident_id))[0]
            cancelled.state = BookingState.BOOKED


async def test_a_driver_cannot_hold_two_overlapping_bookings(hub: Hub) -> None:
    await book(hub, request(hub, NOW + H, NOW + 3 * H))
    with pytest.raises(ReservationConflict, match="already holds booking"):
        await book(hub, request(hub, NOW + 2 * H, NOW + 4 * H))


async def _resident_rules(hub: Hub, quota: int | None = 1) -> None:
    async with hub.uow() as s:
        await access.replace_windows(
            s,
            hub.site_id,
            [
                WindowSpec("resident", frozenset(range(5)), 19 * 60, 8 * 60, quota),
                WindowSpec("resident", frozenset({5, 6}), 0, 1440, quota),
            ],
            NOW,
        )


async def test_bookings_stay_within_the_group_windows(hub: Hub) -> None:
    await _resident_rules(hub)
    wednesday_noon = NOW + 3 * H  # 12:00 in Paris
    with pytest.raises(OutsideAccessWindow) as caught:
        await book(hub, request(hub, wednesday_noon, wednesday_noon + H, hub.resident_id))
    assert caught.value.status_code == 422
    assert caught.value.detail["open"] == ["Mon,Tue,Wed,Thu,Fri 19:00-08:00", "Sat,Sun 00:00-24:00"]
    night = NOW + 12 * H  # 21:00 to 07:00 across midnight
    await book(hub, request(hub, night, night + 10 * H, hub.resident_id))
    # Visitors have no window at this site: not restricted.
    await book(hub, request(hub, wednesday_noon, wednesday_noon + H))


async def test_the_group_quota_caps_concurrent_bookings(hub: Hub) -> None:
    await _resident_rules(hub, quota=1)
    async with hub.uow() as s:
        other = await accounts.create_driver(s, "Di", None, "resident", NOW)
        await accounts.create_token(s, "DI-1", "ISO14443", "Accepted", NOW, other.id)
    night = NOW + 12 * H
    await book(hub, request(hub, night, night + 2 * H, hub.resident_id))
    with pytest.raises(QuotaReached) as caught:
        await book(hub, request(hub, night + H, night + 3 * H, other.id))
    assert caught.value.detail == {"quota": 1}
    await book(hub, request(hub, night + 2 * H, night + 3 * H, other.id))  # after it: fine


async def test_cancelling_is_free_until_the_deadline_then_costs_a_fee(hub: Hub) -> None:
    early = await book(hub, request(hub, NOW + 2 * H, NOW + 3 * H))
    late = await book(hub, request(hub, NOW + 20 * timedelta(minutes=1), NOW + H, hub.resident_id))
    async with hub.uow() as s:
        cancelled, release = await service.cancel(s, early.id, NOW, POLICY)
        assert (cancelled.state, cancelled.fee_rule, release) == ("cancelled", None, None)
        cancelled, _ = await service.cancel(s, late.id, NOW, POLICY)
        assert cancelled.fee_rule == FeeRule.LATE_CANCELLATION
        assert cancelled.cancelled_by == "driver"
    async with hub.uow() as s:
        with pytest.raises(Conflict):  # cancelled is final
            await service.cancel(s, late.id, NOW, POLICY)


async def test_an_operator_cancels_without_a_fee(hub: Hub) -> None:
    soon = await book(hub, request(hub, NOW + timedelta(minutes=5), NOW + H))
    async with hub.uow() as s:
        cancelled, _ = await service.cancel(s, soon.id, NOW, POLICY, by="operator")
    assert (cancelled.fee_rule, cancelled.cancelled_by) == (None, "operator")


async def test_modifying_moves_the_slot_until_the_deadline(hub: Hub) -> None:
    mine = await book(hub, request(hub, NOW + 2 * H, NOW + 3 * H, where=("CP-A", 1)))
    other = await book(hub, request(hub, NOW + 5 * H, NOW + 6 * H, hub.resident_id, ("CP-A", 1)))
    async with hub.uow() as s:
        moved = await service.modify(
            s, mine.id, BookingChange(NOW + 3 * H, NOW + 5 * H, 30.0), NOW, POLICY
        )
    assert (moved.starts_at, moved.ends_at, moved.energy_kwh) == (NOW + 3 * H, NOW + 5 * H, 30.0)
    assert moved.departure_at == NOW + 5 * H
    with pytest.raises(ReservationConflict) as caught:
        async with hub.uow() as s:
            await service.modify(s, mine.id, BookingChange(ends_at=NOW + 6 * H), NOW, POLICY)
    assert caught.value.detail["conflicting"]["starts_at"] == other.starts_at.isoformat()
    with pytest.raises(TooLate):
        async with hub.uow() as s:
            late = NOW + 3 * H - timedelta(minutes=10)
            await service.modify(s, mine.id, BookingChange(energy_kwh=5.0), late, POLICY)


async def test_slots_are_checked(hub: Hub) -> None:
    with pytest.raises(InvalidInput, match="past"):
        await book(hub, request(hub, NOW - 2 * H, NOW - H))
    with pytest.raises(InvalidInput, match="end after"):
        await book(hub, request(hub, NOW + 2 * H, NOW + H))
    with pytest.raises(InvalidInput, match="at most"):
        await book(hub, request(hub, NOW + H, NOW + 30 * H))


async def test_declared_needs_list_upcoming_and_running_bookings(hub: Hub) -> None:
    b = await book(hub, request(hub, NOW + H, NOW + 3 * H, where=("CP-B", 1)))
    gone = await book(hub, request(hub, NOW + 4 * H, NOW + 5 * H, hub.resident_id))
    async with hub.uow() as s:
        await service.cancel(s, gone.id, NOW, POLICY)
        needs = await service.declared_needs(s, hub.site_id, NOW)
    assert [(n.booking_id, n.station_id, n.evse_id, n.energy_kwh) for n in needs] == [
        (b.id, "CP-B", 1, 18.0)
    ]
    assert (needs[0].arrival_at, needs[0].departure_at) == (NOW + H, NOW + 3 * H)
    async with hub.uow() as s:
        assert await service.declared_needs(s, hub.site_id, NOW + 4 * H) == []
