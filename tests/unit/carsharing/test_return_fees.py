"""Fees the operator charges on a returned trip: cleaning at the fixed price, a damage
franchise for a damage reported after the start, one of each kind per booking, each written
with its event and billed once, on the invoice of the month it was charged in."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.carsharing import bookings, reports
from evhub.carsharing.bookings import CarRequest
from evhub.carsharing.errors import TooEarlyOrLate
from evhub.carsharing.models import CarBookingFee, Trip
from evhub.carsharing.reports import ReportIn
from evhub.carsharing.return_fees import FeeCharged, FeeRequest, charge_fee
from evhub.carsharing.wiring import simulated_telematics
from evhub.clock import FrozenClock
from evhub.errors import InvalidInput, NotFound
from evhub.sim.telematics import SimulatedTelematics
from tests.unit.billing.test_invoices import ISSUER, SETTINGS
from tests.unit.carsharing.conftest import NOW, POLICY, Fleet
from tests.unit.carsharing.test_invoice_lines import (
    DECEMBER,
    ISSUED,
    JANUARY_ISSUE,
    NOVEMBER,
    drive,
    invoice_lines,
)

H = timedelta(hours=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def unit(cars: Fleet, clock: FrozenClock) -> SimulatedTelematics:
    return simulated_telematics(cars.uow, clock)


async def returned(cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock) -> int:
    """Ada's booking of the EV, driven an hour and returned on time."""
    trip_id = await drive(cars, unit, clock, cars.ada, cars.ev_id, NOW, 2 * H, H, 20.0)
    async with cars.uow() as s:
        trip = await s.get(Trip, trip_id)
        assert trip is not None
        return trip.booking_id


async def report(cars: Fleet, booking_id: int, phase: str, damage: str, at: datetime) -> int:
    async with cars.uow() as s:
        row = await reports.add_report(s, booking_id, ReportIn(phase, damage, 3), [], at)
        return row.id


async def charge(cars: Fleet, request: FeeRequest, at: datetime) -> CarBookingFee:
    async with cars.uow() as s:
        return await charge_fee(s, request, at, POLICY)


async def test_a_cleaning_fee_is_charged_once_with_its_event(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await returned(cars, unit, clock)
    await cars.published()
    fee = await charge(cars, FeeRequest(booking_id, "cleaning", "sand everywhere"), NOW + 2 * H)
    assert (fee.kind, fee.amount, fee.currency, fee.vat_rate) == (
        "cleaning", POLICY.cleaning_fee, POLICY.late_fee.currency, POLICY.vat_rate,
    )  # fmt: skip
    (event,) = await cars.published()
    assert event.kind == "carsharing.fee_charged"
    assert (event.data["booking_id"], event.data["fee_kind"], event.data["amount"]) == (
        booking_id, "cleaning", str(POLICY.cleaning_fee),
    )  # fmt: skip
    with pytest.raises(FeeCharged, match="already has a cleaning fee"):
        await charge(cars, FeeRequest(booking_id, "cleaning", "again"), NOW + 3 * H)
    assert await cars.published() == []  # nothing written by the refusal
    async with cars.uow() as s:
        kinds = list(await s.scalars(select(CarBookingFee.kind).order_by(CarBookingFee.id)))
    assert kinds == ["time", "distance", "cleaning"]


async def test_a_damage_franchise_answers_for_a_damage_reported_after_the_start(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await returned(cars, unit, clock)
    after = await report(cars, booking_id, "after", "minor", NOW + H)
    clean = await report(cars, booking_id, "after", "none", NOW + H)
    ask = FeeRequest(booking_id, "damage_franchise", "scratched bumper", Decimal("250.00"))
    with pytest.raises(InvalidInput, match="report_id"):
        await charge(cars, ask, NOW + 2 * H)
    with pytest.raises(InvalidInput, match="no damage after the start"):
        await charge(cars, FeeRequest(**{**ask.__dict__, "report_id": clean}), NOW + 2 * H)
    with pytest.raises(NotFound):
        await charge(cars, FeeRequest(**{**ask.__dict__, "report_id": after + 99}), NOW + 2 * H)
    over = FeeRequest(**{**ask.__dict__, "report_id": after, "amount": POLICY.franchise_cap + 1})
    with pytest.raises(InvalidInput, match="at most"):
        await charge(cars, over, NOW + 2 * H)
    fee = await charge(cars, FeeRequest(**{**ask.__dict__, "report_id": after}), NOW + 2 * H)
    assert (fee.kind, fee.amount) == ("damage_franchise", Decimal("250.00"))
    assert f"report {after}" in fee.description and "scratched bumper" in fee.description


async def test_a_damage_seen_before_the_start_is_not_this_driver_s(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    async with cars.uow() as s:
        booking = await bookings.book(s, CarRequest(cars.bo, cars.van_id, NOW + 2 * H), NOW, POLICY)
    seen = await report(cars, booking.id, "before", "minor", NOW)
    ask = FeeRequest(booking.id, "damage_franchise", "dent", Decimal("90"), seen)
    with pytest.raises(TooEarlyOrLate, match="returned trip"):  # booked, not returned
        await charge(cars, ask, NOW)


async def test_only_a_returned_trip_is_charged(cars: Fleet) -> None:
    async with cars.uow() as s:
        trip = await bookings.book(s, CarRequest(cars.ada, cars.ev_id, NOW + 2 * H), NOW, POLICY)
        block = await bookings.block(s, cars.van_id, NOW + H, NOW + 3 * H, "tyres", NOW)
    with pytest.raises(TooEarlyOrLate, match="is booked"):
        await charge(cars, FeeRequest(trip.id, "cleaning", "mud"), NOW)
    with pytest.raises(InvalidInput, match="maintenance block"):
        await charge(cars, FeeRequest(block.id, "cleaning", "mud"), NOW)
    with pytest.raises(NotFound):
        await charge(cars, FeeRequest(block.id + 99, "cleaning", "mud"), NOW)


async def test_a_fee_charged_after_the_month_s_invoice_goes_on_the_next(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await returned(cars, unit, clock)
    await charge(cars, FeeRequest(booking_id, "cleaning", "muddy mats"), NOW + 2 * H)
    (number,) = await invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
    november = await invoice_lines(cars, number)
    assert [x.source_ref.split(":")[-1] for x in november] == ["time", "distance", "cleaning"]
    (cleaning,) = [x for x in november if x.source_ref.endswith(":cleaning")]
    assert (cleaning.quantity, cleaning.unit, cleaning.amount_excl_vat) == (
        1, "unit", POLICY.cleaning_fee,
    )  # fmt: skip
    assert cleaning.vat_rate == POLICY.vat_rate * 100
    assert cleaning.amount_incl_vat == POLICY.cleaning_fee * (1 + POLICY.vat_rate)

    # In December the operator finds a damage the driver reported: on December's invoice.
    damage = await report(cars, booking_id, "after", "major", NOW + 2 * H)
    charged_at = datetime.fromisoformat("2026-12-03T10:00:00+00:00")
    ask = FeeRequest(booking_id, "damage_franchise", "broken mirror", Decimal("300"), damage)
    await charge(cars, ask, charged_at)
    assert await invoices.run_month(cars.uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS)) == []
    (number,) = await invoices.run_month(
        cars.uow, JANUARY_ISSUE, ISSUER, DECEMBER, sources(SETTINGS)
    )
    (line,) = await invoice_lines(cars, number)
    assert line.source_ref.endswith(":damage_franchise") and line.amount_excl_vat == 300
    assert "broken mirror" in line.description
