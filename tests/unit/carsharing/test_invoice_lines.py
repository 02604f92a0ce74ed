"""Trips on the monthly invoice: each finished trip's time, distance and fees as lines priced
by the car-sharing rules, VAT per line, billed once however invoice runs overlap, a trip ended
after the month on the next month's invoice; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.billing.models import InvoiceLineRecord, InvoiceRecord
from evhub.carsharing import bookings, reports, trips
from evhub.carsharing.bookings import CarRequest
from evhub.carsharing.fees import minutes_late, time_price
from evhub.carsharing.invoice_lines import trip_charges
from evhub.carsharing.reports import ReportIn
from evhub.carsharing.wiring import simulated_telematics
from evhub.clock import FrozenClock
from evhub.sim.telematics import SimulatedTelematics
from tests.unit.billing.test_invoices import ISSUER, SETTINGS
from tests.unit.carsharing.conftest import NOW, POLICY, Fleet

H = timedelta(hours=1)
CENT = Decimal("0.01")
NOVEMBER, DECEMBER = invoices.Month(2026, 11), invoices.Month(2026, 12)
ISSUED = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JANUARY_ISSUE = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def unit(cars: Fleet, clock: FrozenClock) -> SimulatedTelematics:
    return simulated_telematics(cars.uow, clock)


async def drive(
    cars: Fleet,
    unit: SimulatedTelematics,
    clock: FrozenClock,
    driver: int,
    vehicle: int,
    start: datetime,
    booked: timedelta,
    driven: timedelta,
    km: float,
) -> int:
    """Book `vehicle` for `booked` from `start`, drive `km` and return it after `driven`."""
    clock.current = start
    async with cars.uow() as s:
        request = CarRequest(driver, vehicle, start + booked, planned_km=min(km, 100.0))
        booking = await bookings.book(s, request, start, POLICY)
    async with cars.uow() as s:
        await reports.add_report(s, booking.id, ReportIn("before", "none", 5), [], start)
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking.id)
    (await unit.car(vehicle)).drive(km)
    clock.current = start + driven
    trip = await trips.end_trip(cars.uow, unit, clock, POLICY, booking.id)
    return trip.id


def expected_lines(booked: timedelta, driven: timedelta, km: float) -> dict[str, Decimal]:
    """What the policy's rules charge for a trip, excl. VAT, by kind."""
    minutes = minutes_late(NOW, NOW + driven)
    amounts = {
        "time": time_price(POLICY.price_per_hour, minutes, POLICY.daily_cap),
        "distance": POLICY.price_per_km * math.ceil(km),
    }
    rule = POLICY.late_fee
    if driven - booked > rule.grace:
        late = minutes_late(NOW + booked, NOW + driven)
        amounts["late_return"] = min(rule.base + rule.per_minute * late, rule.cap)
    return {k: v.quantize(CENT, ROUND_HALF_UP) for k, v in amounts.items()}


async def invoice_lines(cars: Fleet, number: str) -> list[InvoiceLineRecord]:
    async with cars.uow() as s:
        invoice = (
            await s.scalars(select(InvoiceRecord).where(InvoiceRecord.number == number))
        ).one()
        return await invoices.lines_of(s, invoice.id)


async def test_a_late_trip_goes_on_the_month_invoice_with_its_fee(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booked, driven, km = 2 * H, 2 * H + timedelta(minutes=42, seconds=5), 87.4
    trip_id = await drive(cars, unit, clock, cars.ada, cars.ev_id, NOW, booked, driven, km)

    (number,) = await invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    lines = await invoice_lines(cars, number)
    want = expected_lines(booked, driven, km)
    assert [(x.source, x.source_ref) for x in lines] == [
        ("carsharing", f"trip:{trip_id}:time"),
        ("carsharing", f"trip:{trip_id}:distance"),
        ("carsharing", f"trip-fee:{trip_id}:late_return"),
    ]
    assert [x.amount_excl_vat for x in lines] == list(want.values())
    vat_pct = POLICY.vat_rate * 100
    for line in lines:
        assert line.vat_rate == vat_pct
        assert line.vat_amount == (line.amount_excl_vat * vat_pct / 100).quantize(CENT)
        assert line.amount_incl_vat == line.amount_excl_vat + line.vat_amount
    late = minutes_late(NOW + booked, NOW + driven)
    assert [(x.quantity, x.unit) for x in lines] == [
        (minutes_late(NOW, NOW + driven), "min"), (math.ceil(km), "km"), (late, "min"),
    ]  # fmt: skip
    assert "EV-001-AA" in lines[0].description and "late return" in lines[2].description
    async with cars.uow() as s:
        invoice = (await s.scalars(select(InvoiceRecord))).one()
    assert invoice.driver_id == cars.ada
    assert invoice.total_excl_vat == sum(want.values())
    assert invoice.total_incl_vat == sum(x.amount_incl_vat for x in lines)


async def test_a_trip_is_billed_once_however_runs_overlap(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    await drive(cars, unit, clock, cars.ada, cars.ev_id, NOW, 2 * H, H, 20.0)
    await drive(cars, unit, clock, cars.bo, cars.van_id, NOW + 3 * H, H, H, 35.0)

    runs = await asyncio.gather(
        *(invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
          for _ in range(3)),
        return_exceptions=True,
    )  # fmt: skip
    assert any(isinstance(run, list) for run in runs)
    assert await invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []
    assert await invoices.run_month(cars.uow, ISSUED, ISSUER, DECEMBER, sources(SETTINGS)) == []
    async with cars.uow() as s:
        drivers = sorted(await s.scalars(select(InvoiceRecord.driver_id)))
        refs = list(await s.scalars(select(InvoiceLineRecord.source_ref)))
    assert drivers == sorted([cars.ada, cars.bo])  # one invoice each, whichever run issued it
    assert len(refs) == len(set(refs)) == 4  # time and distance of each trip, both on time


async def test_a_trip_returned_after_the_month_goes_on_the_next_invoice(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    # Monday 30 November, 22:00 in Paris, returned at 01:30 on 1 December (Paris time).
    start = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    trip_id = await drive(cars, unit, clock, cars.ada, cars.ev_id, start, 4 * H, 3.5 * H, 12.0)
    november = await invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    assert november == []
    (number,) = await invoices.run_month(
        cars.uow, JANUARY_ISSUE, ISSUER, DECEMBER, sources(SETTINGS)
    )
    refs = [x.source_ref for x in await invoice_lines(cars, number)]
    assert refs == [f"trip:{trip_id}:time", f"trip:{trip_id}:distance"]


async def test_charges_are_those_of_the_driver_asked_for(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    await drive(cars, unit, clock, cars.ada, cars.ev_id, NOW, 2 * H, H, 20.0)
    async with cars.uow() as s:
        assert await trip_charges(s, NOW + 24 * H, cars.bo) == []
        assert await trip_charges(s, NOW + H - timedelta(seconds=1)) == []  # not returned yet
        mine = await trip_charges(s, NOW + 24 * H, cars.ada)
    assert [c.kind for c in mine] == ["time", "distance"]
    assert {c.driver_id for c in mine} == {cars.ada}
    assert all(c.currency == POLICY.late_fee.currency for c in mine)


async def test_a_no_show_goes_on_the_invoice_with_its_fee(cars: Fleet) -> None:
    async with cars.uow() as s:
        request = CarRequest(cars.bo, cars.van_id, NOW + 3 * H, NOW + H)
        booking = await bookings.book(s, request, NOW, POLICY)
    async with cars.uow() as s:
        closed = await bookings.sweep_no_shows(s, NOW + H + POLICY.no_show_grace + H, POLICY)
    assert closed == [booking.id]
    (event,) = [e for e in await cars.published() if e.kind == "carsharing.no_show"]
    assert event.data["fees"] == [
        {"kind": "no_show", "amount": str(POLICY.no_show_fee.quantize(CENT)), "currency": "EUR"}
    ]
    (number,) = await invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    (line,) = await invoice_lines(cars, number)
    assert (line.source_ref, line.quantity, line.unit) == (
        f"booking-fee:{booking.id}:no_show",
        1,
        "unit",
    )
    assert line.amount_excl_vat == POLICY.no_show_fee.quantize(CENT)
    assert line.vat_rate == POLICY.vat_rate * 100 and "no-show" in line.description
    assert await invoices.run_month(cars.uow, ISSUED, ISSUER, DECEMBER, sources(SETTINGS)) == []
