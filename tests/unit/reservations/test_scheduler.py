"""The reservation timer against a fake charger port: ReserveNow at lead time, re-assignment
on refusal, CancelReservation on cancel and no-show, linking transactions, overstays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.charging.service import Step, TransactionStart, TransactionStop
from evhub.clock import FrozenClock
from evhub.control import CommandResult
from evhub.errors import StationUnavailable
from evhub.reservations import charger, lifecycle, service
from evhub.reservations.models import Booking
from evhub.reservations.scheduler import ReservationScheduler
from evhub.reservations.service import BookingRequest, Slot
from evhub.reservations.state import BookingState, FeeRule
from tests.unit.reservations.conftest import NOW, POLICY, Hub

MIN = timedelta(minutes=1)
START = NOW + 60 * MIN
END = START + 120 * MIN


@dataclass
class FakeChargers:
    """Answers ReserveNow per (station, evse); records every reservation call."""

    answers: dict[tuple[str, int], str] = field(default_factory=dict)
    offline: set[str] = field(default_factory=set)
    reserved: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[tuple[str, int]] = field(default_factory=list)

    def is_connected(self, station_id: str) -> bool:
        return station_id not in self.offline

    async def reserve_now(
        self,
        station_id: str,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> CommandResult:
        if station_id in self.offline:
            raise StationUnavailable(f"station {station_id!r} is not connected")
        self.reserved.append(
            {"station": station_id, "evse": evse_id, "id": reservation_id, "token": id_token,
             "expires_at": expires_at, "group": group_id}
        )  # fmt: skip
        return CommandResult(self.answers.get((station_id, evse_id), "Accepted"))

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CommandResult:
        self.cancelled.append((station_id, reservation_id))
        return CommandResult("Accepted")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def chargers() -> FakeChargers:
    return FakeChargers()


@pytest.fixture
def scheduler(hub: Hub, clock: FrozenClock, chargers: FakeChargers) -> ReservationScheduler:
    return ReservationScheduler(hub.uow, clock, chargers, POLICY)  # type: ignore[arg-type]


async def _book(hub: Hub, where: tuple[str, int] = ("CP-A", 1)) -> Booking:
    req = BookingRequest(
        hub.resident_id, Slot(hub.site_id, START, END), 20.0, station_id=where[0], evse_id=where[1]
    )
    async with hub.uow() as s:
        return await service.book(s, req, NOW, POLICY)


async def _get(hub: Hub, booking_id: int) -> Booking:
    async with hub.uow() as s:
        return await service.get_booking(s, booking_id)


async def _kinds(hub: Hub) -> list[str]:
    return [e.kind for e in await hub.published()]


async def test_reserve_now_goes_out_at_lead_time(
    hub: Hub, clock: FrozenClock, chargers: FakeChargers, scheduler: ReservationScheduler
) -> None:
    booking = await _book(hub)
    await hub.published()
    await scheduler.tick()
    assert chargers.reserved == []
    clock.current = START - 10 * MIN
    await scheduler.tick()
    assert chargers.reserved == [
        {"station": "CP-A", "evse": 1, "id": booking.id, "token": "ADA-1",
         "expires_at": START + 15 * MIN, "group": "FLAT-3"}
    ]  # fmt: skip
    reserved = await _get(hub, booking.id)
    assert (reserved.state, reserved.reserved_at) == (BookingState.RESERVED, clock.current)
    assert await _kinds(hub) == ["reservation.reserved"]
    await scheduler.tick()  # once only
    assert len(chargers.reserved) == 1


async def test_an_occupied_evse_hands_the_booking_to_another_one(
    hub: Hub, clock: FrozenClock, chargers: FakeChargers, scheduler: ReservationScheduler
) -> None:
    booking = await _book(hub)
    await hub.published()
    chargers.answers[("CP-A", 1)] = "Occupied"
    clock.current = START - 10 * MIN
    await scheduler.tick()
    assert [(r["station"], r["evse"]) for r in chargers.reserved] == [("CP-A", 1), ("CP-A", 2)]
    moved = await _get(hub, booking.id)
    assert (moved.state, moved.reassignments) == (BookingState.RESERVED, 1)
    events = await hub.published()
    assert [e.kind for e in events] == ["reservation.reassigned", "reservation.reserved"]
    assert events[0].data["refused"] == {"station_id": "CP-A", "evse_id": 1, "answer": "Occupied"}
    assert (events[0].data["station_id"], events[0].data["evse_id"]) == ("CP-A", 2)


async def test_with_no_evse_left_the_booking_is_unassigned_and_the_driver_told(
    hub: Hub, clock: FrozenClock, chargers: FakeChargers, scheduler: ReservationScheduler
) -> None:
    booking = await _book(hub)
    await hub.published()
    chargers.answers.update({("CP-A", 1): "Occupied", ("CP-A", 2): "Faulted"})
    chargers.offline.add("CP-B")
    clock.current = START - 10 * MIN
    await scheduler.tick()
    # The DC charger is not an AC booking's place.
    assert [(r["station"], r["evse"]) for r in chargers.reserved] == [("CP-A", 1), ("CP-A", 2)]
    failed = await _get(hub, booking.id)
    assert (failed.state, failed.evse_pk) == (BookingState.UNASSIGNED, None)
    events = await hub.published()
    assert [e.kind for e in events][-1] == "reservation.failed"
    assert events[-1].data["driver_id"] == hub.resident_id
    clock.current = END
    await scheduler.tick()  # its slot over, it is closed without a fee
    closed = await _get(hub, booking.id)
    assert (closed.state, closed.cancelled_by, closed.fee_rule) == ("cancelled", "system", None)


async def test_cancelling_a_reserved_booking_cancels_the_station_reservation(
    hub: Hub, clock: FrozenClock, chargers: FakeChargers, scheduler: ReservationScheduler
) -> None:
    booking = await _book(hub)
    clock.current = START - 10 * MIN
    await scheduler.tick()
    cancelled = await charger.cancel(hub.uow, chargers, clock, POLICY, booking.id, "driver")  # type: ignore[arg-type]
    assert chargers.cancelled == [("CP-A", booking.id)]
    assert (cancelled.state, cancelled.fee_rule) == ("cancelled", FeeRule.LATE_CANCELLATION)


async def test_a_booking_not_started_after_the_grace_period_is_a_no_show(
    hub: Hub, clock: FrozenClock, chargers: FakeChargers, scheduler: ReservationScheduler
) -> None:
    booking = await _book(hub)
    clock.current = START - 10 * MIN
    await scheduler.tick()
    clock.current = START + 14 * MIN
    await scheduler.tick()
    assert (await _get(hub, booking.id)).state == BookingState.RESERVED
    await hub.published()
    clock.current = START + 15 * MIN
    await scheduler.tick()
    gone = await _get(hub, booking.id)
    assert (gone.state, gone.fee_rule) == (BookingState.NO_SHOW, FeeRule.NO_SHOW)
    assert chargers.cancelled == [("CP-A", booking.id)]  # the EVSE is freed
    assert await _kinds(hub) == ["reservation.no_show"]


async def test_a_1_6_start_with_the_reservation_id_puts_the_booking_in_use(
    hub: Hub, clock: FrozenClock, scheduler: ReservationScheduler
) -> None:
    booking = await _book(hub)
    clock.current = START - 10 * MIN
    await scheduler.tick()
    async with hub.uow() as s:
        opened = await charging.open_transaction(
            s, START, _start("ADA-1", 1000, START, reservation_id=booking.id)
        )
        linked = await lifecycle.link_transaction(s, opened.transaction, START, booking.id)
    assert linked is not None and linked.id == booking.id
    in_use = await _get(hub, booking.id)
    assert (in_use.state, in_use.transaction_pk) == (BookingState.IN_USE, opened.transaction.id)
    clock.current = START + 30 * MIN
    await scheduler.tick()
    assert (await _get(hub, booking.id)).state == BookingState.IN_USE  # not a no-show


async def test_a_2_0_1_start_with_the_driver_token_on_the_evse_is_recognised(hub: Hub) -> None:
    booking = await _book(hub)
    async with hub.uow() as s:
        start = TransactionStart(
            "CP-A", 1, 1, START - 5 * MIN, None, "ADA-1", "2.0.1",
            station_transaction_id="tx-1", charging_state="Charging",
        )  # fmt: skip
        outcome = await charging.open_transaction(s, START, start)
        assert await lifecycle.link_transaction(s, outcome.transaction, START) is not None
    assert (await _get(hub, booking.id)).state == BookingState.IN_USE


async def test_someone_else_on_the_booked_evse_does_not_start_the_booking(hub: Hub) -> None:
    booking = await _book(hub)
    async with hub.uow() as s:
        opened = await charging.open_transaction(s, START, _start("BO-1", 0, START))
        assert await lifecycle.link_transaction(s, opened.transaction, START) is None
    assert (await _get(hub, booking.id)).state == BookingState.BOOKED


def _start(
    token: str, meter_wh: int, at: datetime, reservation_id: int | None = None
) -> TransactionStart:
    return TransactionStart("CP-A", 1, 1, at, meter_wh, token, "1.6", reservation_id=reservation_id)


def _stop(tx_id: int, meter_wh: int, at: datetime) -> TransactionStop:
    return TransactionStop("CP-A", str(tx_id), Step(1, "Ended", "Local", at), meter_wh, "Local")


async def _in_use(hub: Hub) -> tuple[Booking, int]:
    booking = await _book(hub)
    async with hub.uow() as s:
        opened = await charging.open_transaction(s, START, _start("ADA-1", 0, START))
        await lifecycle.link_transaction(s, opened.transaction, START)
        await assets.record_status(s, "CP-A", 1, 1, "Charging", START, START)
    return booking, opened.transaction.id


async def _status(hub: Hub, status: str, at: datetime) -> None:
    async with hub.uow() as s:
        await assets.record_status(s, "CP-A", 1, 1, status, at, at)


async def test_a_car_left_plugged_in_after_its_slot_accrues_idle_minutes(
    hub: Hub, clock: FrozenClock, scheduler: ReservationScheduler
) -> None:
    booking, tx_id = await _in_use(hub)
    await _status(hub, "SuspendedEV", END - 20 * MIN)  # full before the end of the slot
    clock.current = END - 5 * MIN
    await scheduler.tick()
    assert (await _get(hub, booking.id)).idle_since is None  # the slot is not over
    await hub.published()
    clock.current = END + 5 * MIN
    await scheduler.tick()
    idle = await _get(hub, booking.id)
    assert (idle.idle_since, idle.idle_minutes, idle.fee_rule) == (END, 5, FeeRule.OVERSTAY)
    clock.current = END + 16 * MIN
    await scheduler.tick()
    clock.current = END + 20 * MIN
    await scheduler.tick()
    events = await hub.published()
    assert [(e.kind, e.data["idle_minutes"]) for e in events] == [
        ("reservation.overstay", 5),
        ("reservation.overstay", 16),  # a reminder every 15 minutes
    ]
    async with hub.uow() as s:
        await charging.close_transaction(s, END + 30 * MIN, _stop(tx_id, 20000, END + 30 * MIN))
        await assets.record_status(s, "CP-A", 1, 1, "Available", END + 40 * MIN, END + 40 * MIN)
    clock.current = END + 45 * MIN
    await scheduler.tick()
    done = await _get(hub, booking.id)
    assert (done.state, done.idle_minutes, done.fee_rule) == ("completed", 40, FeeRule.OVERSTAY)
    assert await _kinds(hub) == ["reservation.completed"]


async def test_a_car_still_charging_after_its_slot_is_not_idle(
    hub: Hub, clock: FrozenClock, scheduler: ReservationScheduler
) -> None:
    booking, _ = await _in_use(hub)
    clock.current = END + 30 * MIN
    await scheduler.tick()
    still = await _get(hub, booking.id)
    assert (still.state, still.idle_minutes, still.fee_rule) == ("in_use", 0, None)


async def test_a_driver_leaving_in_time_completes_the_booking_without_a_fee(
    hub: Hub, clock: FrozenClock, scheduler: ReservationScheduler
) -> None:
    booking, tx_id = await _in_use(hub)
    async with hub.uow() as s:
        at = START + 60 * MIN
        await charging.close_transaction(s, at, _stop(tx_id, 9000, at))
        await assets.record_status(s, "CP-A", 1, 1, "Available", at + MIN, at + MIN)
    clock.current = START + 65 * MIN
    await scheduler.tick()
    done = await _get(hub, booking.id)
    assert (done.state, done.idle_minutes, done.fee_rule) == ("completed", 0, None)
