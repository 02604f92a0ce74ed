"""Car bookings: search by hub, window and type; durations; members; inspection; quotas;
maintenance blocks; no double booking, also in the database itself; no-show close-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.accounts.models import Plan
from evhub.carsharing import bookings, fleet, members
from evhub.carsharing.bookings import CarRequest, CarSearch
from evhub.carsharing.errors import (
    CarUnavailable,
    NotAMember,
    PlanWithoutCarsharing,
    QuotaReached,
)
from evhub.carsharing.models import CarBooking
from evhub.carsharing.quotas import period_bounds
from evhub.carsharing.state import CarBookingState, VehicleState
from evhub.errors import InvalidInput
from tests.unit.carsharing.conftest import NOW, POLICY, Fleet

H = timedelta(hours=1)


async def book(cars: Fleet, driver: int, vehicle: int, start: datetime | None, end: datetime):
    async with cars.uow() as s:
        return await bookings.book(s, CarRequest(driver, vehicle, end, start), NOW, POLICY)


async def found(cars: Fleet, start: datetime, end: datetime, **kw: object) -> list[int]:
    async with cars.uow() as s:
        query = CarSearch(cars.site_id, start, end, **kw)  # type: ignore[arg-type]
        return [v.id for v in await bookings.search(s, query, NOW)]


async def state_of(cars: Fleet, vehicle_id: int) -> str:
    async with cars.uow() as s:
        return (await fleet.get_vehicle(s, vehicle_id)).state


async def test_search_finds_the_cars_of_the_hub_matching_type_and_seats(cars: Fleet) -> None:
    assert set(await found(cars, NOW + H, NOW + 3 * H)) == {cars.ev_id, cars.van_id}
    assert await found(cars, NOW + H, NOW + 3 * H, propulsion="electric") == [cars.ev_id]
    assert await found(cars, NOW + H, NOW + 3 * H, min_seats=6) == [cars.van_id]
    async with cars.uow() as s:
        other = CarSearch(cars.other_site_id, NOW + H, NOW + 3 * H)
        assert await bookings.search(s, other, NOW) == []


async def test_a_booked_car_is_not_found_for_an_overlapping_window(cars: Fleet) -> None:
    await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 3 * H)
    assert await found(cars, NOW + 2 * H, NOW + 4 * H) == [cars.van_id]
    # Back to back: the interval is half-open.
    assert cars.ev_id in await found(cars, NOW + 3 * H, NOW + 5 * H)


async def test_a_scheduled_booking_leaves_the_car_available_an_immediate_one_keeps_it(
    cars: Fleet,
) -> None:
    await book(cars, cars.ada, cars.ev_id, NOW + 2 * H, NOW + 3 * H)
    assert await state_of(cars, cars.ev_id) == VehicleState.AVAILABLE
    immediate = await book(cars, cars.bo, cars.van_id, None, NOW + H)
    assert immediate.starts_at == NOW
    assert await state_of(cars, cars.van_id) == VehicleState.BOOKED
    kinds = [e.kind for e in await cars.published()]
    assert kinds.count("carsharing.booked") == 2
    assert "carsharing.vehicle_state_changed" in kinds


async def test_the_second_booking_of_a_car_for_an_overlapping_window_is_refused(
    cars: Fleet,
) -> None:
    await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 3 * H)
    with pytest.raises(CarUnavailable):
        await book(cars, cars.bo, cars.ev_id, NOW + 2 * H, NOW + 4 * H)


async def test_the_database_itself_refuses_overlapping_holds(cars: Fleet) -> None:
    """Written past the service's check: the exclusion constraint or trigger stops it."""
    await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 3 * H)
    row = CarBooking(
        vehicle_id=cars.ev_id, driver_id=cars.bo, kind="trip", state="booked",
        starts_at=NOW + 2 * H, ends_at=NOW + 4 * H, note="", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        async with cars.uow() as s:
            s.add(row)
            await s.flush()


async def test_the_database_refuses_reopening_a_cancelled_booking_over_another(
    cars: Fleet,
) -> None:
    first = await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 3 * H)
    async with cars.uow() as s:
        await bookings.cancel(s, first.id, NOW, "driver")
    await book(cars, cars.bo, cars.ev_id, NOW + H, NOW + 2 * H)
    with pytest.raises(IntegrityError):
        async with cars.uow() as s:
            row = await bookings.get_booking(s, first.id)
            row.state = CarBookingState.BOOKED
            await s.flush()


async def test_a_maintenance_block_excludes_bookings(cars: Fleet) -> None:
    async with cars.uow() as s:
        await bookings.block(s, cars.van_id, NOW + 4 * H, NOW + 8 * H, "tyres", NOW)
    assert cars.van_id not in await found(cars, NOW + 5 * H, NOW + 6 * H)
    with pytest.raises(CarUnavailable):
        await book(cars, cars.ada, cars.van_id, NOW + 3 * H, NOW + 5 * H)
    with pytest.raises(CarUnavailable):  # and a block does not land on a booking either
        await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 2 * H)
        async with cars.uow() as s:
            await bookings.block(s, cars.ev_id, NOW, NOW + 6 * H, "recall", NOW)


async def test_a_car_past_its_inspection_date_cannot_be_booked(cars: Fleet) -> None:
    async with cars.uow() as s:
        await fleet.update_vehicle(s, cars.ev_id, {"next_inspection_on": date(2026, 11, 26)}, NOW)
    assert cars.ev_id in await found(cars, NOW + H, NOW + 2 * H)
    late = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert cars.ev_id not in await found(cars, late, late + H)
    with pytest.raises(CarUnavailable, match="inspection"):
        await book(cars, cars.ada, cars.ev_id, late, late + H)


async def test_cars_in_maintenance_or_damaged_are_not_offered(cars: Fleet) -> None:
    async with cars.uow() as s:
        await fleet.update_vehicle(s, cars.ev_id, {"state": "maintenance"}, NOW)
        await fleet.update_vehicle(s, cars.van_id, {"state": "damaged"}, NOW)
    assert await found(cars, NOW + H, NOW + 2 * H) == []
    with pytest.raises(CarUnavailable):
        await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 2 * H)


async def test_durations_are_bounded(cars: Fleet) -> None:
    with pytest.raises(InvalidInput, match="at least"):
        await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + H + timedelta(minutes=20))
    with pytest.raises(InvalidInput, match="at most"):
        await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 100 * H)
    with pytest.raises(InvalidInput, match="past"):
        await book(cars, cars.ada, cars.ev_id, NOW - H, NOW + H)


async def test_only_members_with_a_valid_licence_book(cars: Fleet) -> None:
    with pytest.raises(NotAMember, match="no driving licence"):
        await book(cars, cars.cy, cars.ev_id, NOW + H, NOW + 2 * H)
    async with cars.uow() as s:
        await members.register(s, cars.cy, "lic-cy", date(2026, 11, 30), NOW)
    with pytest.raises(NotAMember, match="expires"):
        await book(cars, cars.cy, cars.ev_id, NOW + 200 * H, NOW + 201 * H)
    booking = await book(cars, cars.cy, cars.ev_id, NOW + H, NOW + 2 * H)
    assert booking.driver_id == cars.cy


async def test_a_driver_books_only_when_the_plan_includes_car_sharing(cars: Fleet) -> None:
    async with cars.uow() as s:
        ada = await accounts.get_driver(s, cars.ada)
        payg = await plans.assign_plan(s, ada, plans.DEFAULT_PLAN)
        assert payg.carsharing  # the plans of before migration 0029 keep car-sharing
        fee, vat = Decimal("5.00"), Decimal("0.2")
        s.add(Plan(code="charge-only", name="Charge only", user_group="resident",
                   monthly_fee=fee, currency="EUR", vat_rate=vat))  # fmt: skip
        await s.flush()
        charge_only = await plans.assign_plan(
            s, await accounts.get_driver(s, cars.bo), "charge-only"
        )
        assert charge_only.carsharing is False  # a new plan includes none unless it says so
    assert (await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 2 * H)).driver_id == cars.ada
    with pytest.raises(PlanWithoutCarsharing, match="'Charge only'.*does not include car-sharing"):
        await book(cars, cars.bo, cars.van_id, NOW + H, NOW + 2 * H)
    async with cars.uow() as s:
        assert await members.plan_refusal(s, cars.bo) is not None
        await plans.update_plan(s, "charge-only", {"carsharing": True})
    assert (await book(cars, cars.bo, cars.van_id, NOW + H, NOW + 2 * H)).driver_id == cars.bo


async def test_a_driver_holds_one_car_at_a_time(cars: Fleet) -> None:
    await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 3 * H)
    with pytest.raises(CarUnavailable, match="already holds"):
        await book(cars, cars.ada, cars.van_id, NOW + 2 * H, NOW + 4 * H)


async def test_the_quota_counts_bookings_per_local_week(cars: Fleet) -> None:
    policy = replace(POLICY, quota_bookings=2, quota_period="week")
    wednesday = NOW
    for day in (0, 1):
        start = wednesday + timedelta(days=day, hours=1)
        async with cars.uow() as s:
            await bookings.book(s, CarRequest(cars.ada, cars.ev_id, start + H, start), NOW, policy)
    friday = wednesday + timedelta(days=2, hours=1)
    with pytest.raises(QuotaReached) as caught:
        async with cars.uow() as s:
            await bookings.book(
                s, CarRequest(cars.ada, cars.ev_id, friday + H, friday), NOW, policy
            )
    assert caught.value.detail == {"period": "week", "quota": 2, "reason": "quota"}
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # next week: counted afresh
    async with cars.uow() as s:
        await bookings.book(s, CarRequest(cars.ada, cars.ev_id, monday + H, monday), NOW, policy)
    async with cars.uow() as s:  # another driver has their own quota
        await bookings.book(s, CarRequest(cars.bo, cars.van_id, friday + H, friday), NOW, policy)


def test_quota_periods_follow_the_hubs_local_calendar() -> None:
    at = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # Sunday of the spring DST change in Paris
    day = period_bounds(at, "day", "Europe/Paris")
    assert day == (
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )
    week = period_bounds(at, "week", "Europe/Paris")
    assert week == (
        datetime(2026, 3, 22, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )
    month = period_bounds(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "month", "Europe/Paris")
    assert month == (
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2027, 1, 31, 23, 0, tzinfo=UTC),
    )


async def test_a_booking_not_started_within_the_grace_period_is_a_no_show(cars: Fleet) -> None:
    booking = await book(cars, cars.ada, cars.ev_id, None, NOW + 2 * H)
    assert await state_of(cars, cars.ev_id) == VehicleState.BOOKED
    async with cars.uow() as s:
        assert await bookings.sweep_no_shows(s, NOW + POLICY.no_show_grace, POLICY) == []
    await cars.published()
    later = NOW + POLICY.no_show_grace + timedelta(seconds=1)
    async with cars.uow() as s:
        assert await bookings.sweep_no_shows(s, later, POLICY) == [booking.id]
    async with cars.uow() as s:
        assert (await bookings.get_booking(s, booking.id)).state == CarBookingState.NO_SHOW
    assert await state_of(cars, cars.ev_id) == VehicleState.AVAILABLE
    assert "carsharing.no_show" in [e.kind for e in await cars.published()]
    # The car is free again for the rest of the window.
    assert cars.ev_id in await found(cars, later, NOW + 2 * H)


async def test_a_scheduled_booking_keeps_its_car_when_due(cars: Fleet) -> None:
    await book(cars, cars.ada, cars.ev_id, NOW + H, NOW + 2 * H)
    async with cars.uow() as s:
        assert await bookings.mark_due(s, NOW, POLICY) == []
    async with cars.uow() as s:
        assert await bookings.mark_due(s, NOW + H - POLICY.early_start, POLICY) == [cars.ev_id]
    assert await state_of(cars, cars.ev_id) == VehicleState.BOOKED


async def test_the_next_booking_start_is_told_for_planning(cars: Fleet) -> None:
    await book(cars, cars.ada, cars.ev_id, NOW + 5 * H, NOW + 6 * H)
    await book(cars, cars.bo, cars.ev_id, NOW + 2 * H, NOW + 3 * H)
    async with cars.uow() as s:
        assert await bookings.next_booking_start(s, cars.ev_id, NOW) == NOW + 2 * H
        assert await bookings.next_booking_start(s, cars.ev_id, NOW + 3 * H) == NOW + 5 * H
        assert await bookings.next_booking_start(s, cars.van_id, NOW) is None
