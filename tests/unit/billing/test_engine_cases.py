"""Pricing cases beyond the specification's examples: windows across midnight, daylight-saving
days in Paris, periods cut at restriction edges, steps, bounds and reservations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from evhub.billing.pricing import CdrPeriods, price, price_cdr
from evhub.billing.tariff import CdrDraft, Tariff
from tests.unit.billing.sessions import Session, at

D = Decimal


def make(*elements: dict[str, Any], **fields: Any) -> Tariff:
    return Tariff.model_validate(
        {
            "country_code": "FR",
            "party_id": "EVH",
            "id": "case",
            "currency": "EUR",
            "last_updated": "2026-01-01T00:00:00Z",
            "elements": list(elements),
        }
        | fields
    )


def component(kind: str, price: str, step: int = 1, vat: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "price": price, "step_size": step}
    return out if vat is None else out | {"vat": vat}


def element(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"price_components": list(components)}
    return out | {"restrictions": restrictions} if restrictions else out


NIGHT_ENERGY = make(
    element(component("ENERGY", "0.10"), start_time="22:00", end_time="06:00"),
    element(component("ENERGY", "0.30")),
)


def excl(t: Tariff, session: Session, tz: str = "Europe/Paris") -> Decimal:
    return price(t, session.cdr_periods(), tz).total_cost.excl_vat


@pytest.mark.parametrize(
    ("start", "minutes", "kwh", "expected"),
    [
        ("2026-06-10T21:00:00+02:00", 120, 20, "4.00"),  # 10 kWh by day, 10 by night
        ("2026-06-10T23:00:00+02:00", 360, 30, "3.00"),  # all night, across midnight
        ("2026-06-11T05:00:00+02:00", 120, 20, "4.00"),  # the night ends at 06:00
        ("2026-06-11T12:00:00+02:00", 60, 20, "6.00"),
    ],
)
def test_a_night_window_across_midnight_cuts_one_period(
    start: str, minutes: int, kwh: float, expected: str
) -> None:
    assert excl(NIGHT_ENERGY, Session(at(start)).charge(minutes, kwh)) == D(expected)


def test_restrictions_are_read_in_the_given_time_zone() -> None:
    session = Session(at("2026-06-10T21:00:00Z")).charge(60, 10)  # 23:00 in Paris
    assert excl(NIGHT_ENERGY, session, "UTC") == D("3.00")
    assert excl(NIGHT_ENERGY, session, "Europe/Paris") == D("1.00")


NIGHT_TIME = make(
    element(component("TIME", "1.00"), start_time="00:00", end_time="03:00"),
    element(component("TIME", "2.00")),
)


def test_spring_forward_in_paris_shortens_the_night() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST; 00:00-04:00 local lasts 3 hours, 2 at night.
    session = Session(at("2026-03-29T00:00:00+01:00")).charge(180)
    assert excl(NIGHT_TIME, session) == D("4.00")
    assert price(NIGHT_TIME, session.cdr_periods(), "Europe/Paris").total_time == D(3)


def test_fall_back_in_paris_lengthens_the_night() -> None:
    # 25 October 2026: 03:00 CEST becomes 02:00 CET; 00:00-04:00 local lasts 5 hours, 4 at night.
    session = Session(at("2026-10-25T00:00:00+02:00")).charge(300)
    assert excl(NIGHT_TIME, session) == D("6.00")


def test_a_window_starting_at_a_skipped_local_time_starts_at_the_shift() -> None:
    # 02:30 does not exist on 29 March in Paris: from 03:00 CEST, local time is past it.
    t = make(
        element(component("TIME", "5.00"), start_time="02:30", end_time="12:00"),
        element(component("TIME", "1.00")),
    )
    assert excl(t, Session(at("2026-03-29T00:00:00+01:00")).charge(180)) == D("7.00")


def test_a_weekday_restriction_cuts_at_local_midnight() -> None:
    t = make(
        element(component("TIME", "3.00"), day_of_week=["SATURDAY", "SUNDAY"]),
        element(component("TIME", "1.00")),
    )
    session = Session(at("2026-06-05T23:00:00+02:00")).charge(120)  # Friday 23:00 to 01:00
    assert excl(t, session) == D("4.00")


def test_start_and_end_dates_are_local_days() -> None:
    t = make(
        element(component("ENERGY", "0.50"), start_date="2026-06-11", end_date="2026-06-12"),
        element(component("ENERGY", "0.20")),
    )
    session = Session(at("2026-06-10T23:00:00+02:00")).charge(120, 20)
    assert excl(t, session) == D("7.00")  # 10 kWh on the 10th, 10 on the 11th


def test_energy_tiers_cut_a_period_where_the_energy_crosses_them() -> None:
    t = make(element(component("ENERGY", "0.50"), max_kwh=10), element(component("ENERGY", "0.30")))
    assert excl(t, Session(at("2026-06-10T10:00:00Z")).charge(60, 20)) == D("8.00")
    assert excl(t, Session(at("2026-06-10T10:00:00Z")).charge(30, 8).charge(30, 12)) == D("8.00")


def test_a_duration_threshold_cuts_a_period() -> None:
    t = make(
        element(component("TIME", "5.00"), min_duration=3600), element(component("TIME", "1.00"))
    )
    assert excl(t, Session(at("2026-06-10T10:00:00Z")).charge(120)) == D("6.00")


def test_the_session_starts_when_the_cdr_does() -> None:
    t = make(element(component("TIME", "5.00"), min_duration=3600), element(component("TIME", "1")))
    session = Session(at("2026-06-10T10:30:00Z")).charge(60)  # from 10:30 to 11:30
    late = CdrPeriods(session.cdr_periods().periods, session.end, at("2026-06-10T10:00:00Z"))
    costs = price(t, late, "UTC")
    assert costs.total_time == D("1.5")
    assert costs.total_time_cost.excl_vat == D("3.00")  # 30 minutes at 1, then 30 at 5


def test_flat_is_billed_once_and_may_start_late() -> None:
    t = make(
        element(component("FLAT", "1.00")),
        element(component("TIME", "2.00")),
    )
    many = Session(at("2026-06-10T10:00:00Z")).charge(30).charge(30).park(30).charge(30)
    assert price(t, many.cdr_periods(), "UTC").total_fixed_cost.excl_vat == D("1.00")
    overstay = make(
        element(component("FLAT", "10.00"), min_duration=7200), element(component("TIME", "0"))
    )
    short = Session(at("2026-06-10T10:00:00Z")).charge(60).park(59)
    long = Session(at("2026-06-10T10:00:00Z")).charge(60).park(61)
    assert excl(overstay, short) == 0
    assert excl(overstay, long) == D("10.00")


def test_energy_step_is_billed_at_the_last_energy_price() -> None:
    t = make(
        element(component("ENERGY", "0.20", step=1000), end_time="12:00"),
        element(component("ENERGY", "0.40", step=500)),
    )
    session = Session(at("2026-06-10T11:00:00Z")).charge(60, 3.3).charge(60, 0.1)
    # 3.4 kWh billed as 3.5: 3.3 x 0.20 + (0.1 + 0.1) x 0.40
    assert excl(t, session, "UTC") == D("0.74")


def test_step_size_zero_bills_the_exact_amount() -> None:
    t = make(element(component("TIME", "3.60", step=0)))
    assert excl(t, Session(at("2026-06-10T11:00:00Z")).charge(1 / 60), "UTC") == D("0.001")


def test_time_step_without_priced_parking() -> None:
    t = make(element(component("TIME", "6.00", step=600)))  # parking is free here
    costs = price(t, Session(at("2026-06-10T11:00:00Z")).charge(21).park(30).cdr_periods(), "UTC")
    assert costs.total_time_cost.excl_vat == D("3.00")  # 21 minutes billed as 30
    assert costs.total_parking_time == D("0.5")


@pytest.mark.parametrize(
    ("kwh", "expected_excl", "expected_incl"),
    [(1, "2.00", "2.30"), (10, "2.50", "3.00"), (100, "15.00", "17.00")],
)
def test_min_and_max_price_bound_excl_and_incl_vat_each(
    kwh: float, expected_excl: str, expected_incl: str
) -> None:
    t = make(
        element(component("ENERGY", "0.25", vat="20")),
        min_price={"excl_vat": 2, "incl_vat": "2.30"},
        max_price={"excl_vat": 15, "incl_vat": 17},
    )
    costs = price(t, Session(at("2026-06-10T11:00:00Z")).charge(60, kwh).cdr_periods(), "UTC")
    assert (costs.total_cost.excl_vat, costs.total_cost.incl_vat) == (
        D(expected_excl),
        D(expected_incl),
    )
    assert costs.total_energy_cost.excl_vat == D("0.25") * D(kwh)  # the part is not bounded


def test_reservation_time_is_priced_by_reservation_elements_only() -> None:
    t = make(
        element(component("TIME", "1.00", step=900), reservation="RESERVATION"),
        element(component("TIME", "4.00", step=60)),
    )
    session = Session(at("2026-06-10T10:00:00Z")).reserve(20).charge(45)
    costs = price(t, session.cdr_periods(), "UTC")
    assert costs.total_reservation_cost.excl_vat == D("0.50")  # 20 minutes billed as 30
    assert costs.total_time_cost.excl_vat == D("3.00")
    assert costs.total_time == D("0.75")


def test_a_reservation_without_reservation_prices_is_free() -> None:
    t = make(element(component("TIME", "4.00")))
    costs = price(t, Session(at("2026-06-10T10:00:00Z")).reserve(30).cdr_periods(), "UTC")
    assert costs.total_cost.excl_vat == 0


def test_an_expiry_price_listed_after_the_reservation_price_still_wins() -> None:
    t = make(
        element(component("TIME", "1.00"), reservation="RESERVATION"),
        element(component("TIME", "3.00"), reservation="RESERVATION_EXPIRES"),
    )
    lapsed = Session(at("2026-06-10T10:00:00Z")).reserve(60)
    used = Session(at("2026-06-10T10:00:00Z")).reserve(60).charge(10)
    assert excl(t, lapsed, "UTC") == D("3.00")
    assert excl(t, used, "UTC") == D("1.00")


def test_current_restrictions_need_the_current_to_be_known() -> None:
    t = make(element(component("TIME", "1.00"), max_current=32), element(component("TIME", "2.00")))
    start = at("2026-06-10T10:00:00Z")
    assert excl(t, Session(start).charge(60, 7, max_current=16)) == D("1.00")
    assert excl(t, Session(start).charge(60, 7, min_current=40)) == D("2.00")
    assert excl(t, Session(start).charge(60, 7)) == D("2.00")


def test_a_period_without_time_dimensions_is_charging_time() -> None:
    t = make(element(component("TIME", "2.00")))
    costs = price(t, Session(at("2026-06-10T10:00:00Z")).raw(90, energy=5).cdr_periods(), "UTC")
    assert costs.total_time_cost.excl_vat == D("3.00")


def test_vat_absent_is_no_vat() -> None:
    t = make(element(component("ENERGY", "0.25")), element(component("FLAT", "1", vat="0")))
    costs = price(t, Session(at("2026-06-10T10:00:00Z")).charge(60, 4).cdr_periods(), "UTC")
    assert costs.total_cost.incl_vat == costs.total_cost.excl_vat == D("2.00")


def _draft(session: Session, **changes: Any) -> dict[str, Any]:
    return session.cdr_json() | changes


def _period(start: str, *dims: tuple[str, float]) -> dict[str, Any]:
    return {
        "start_date_time": f"2026-06-10T{start}:00Z",
        "dimensions": [{"type": k, "volume": v} for k, v in dims],
    }


@pytest.mark.parametrize(
    "change",
    [
        {"charging_periods": []},
        {"end_date_time": "2026-06-10T09:00:00Z"},
        {"currency": "eur"},
        {"charging_periods": [_period("10:30", ("TIME", 0.5)), _period("10:00", ("TIME", 0.5))]},
        {"charging_periods": [_period("09:00", ("TIME", 1))]},
        {"charging_periods": [_period("10:00", ("ENERGY", -1))]},
        {"charging_periods": [_period("10:00", ("ENERGY", 1), ("ENERGY", 2))]},
    ],
)
def test_invalid_cdrs_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CdrDraft.model_validate(_draft(Session(at("2026-06-10T10:00:00Z")).charge(60, 5), **change))


def test_a_cdr_in_another_currency_is_refused() -> None:
    draft = Session(at("2026-06-10T10:00:00Z")).charge(60, 10).cdr_json("CHF")
    with pytest.raises(ValueError, match="CHF"):
        price_cdr(NIGHT_ENERGY, CdrDraft.model_validate(draft), "UTC")
    unsaid = CdrDraft.model_validate({k: v for k, v in draft.items() if k != "currency"})
    assert price_cdr(NIGHT_ENERGY, unsaid, "UTC").total_cost.excl_vat == D("3.00")


def test_naive_timestamps_are_utc() -> None:
    draft = Session(at("2026-06-10T10:00:00Z")).charge(60, 5).cdr_json()
    naive = draft | {
        "start_date_time": "2026-06-10T10:00:00",
        "end_date_time": "2026-06-10T11:00:00",
        "charging_periods": [
            draft["charging_periods"][0] | {"start_date_time": "2026-06-10T10:00:00"}
        ],
    }
    assert CdrDraft.model_validate(naive) == CdrDraft.model_validate(draft)


def test_a_period_cut_in_uneven_shares_is_billed_whole_steps_of_its_length() -> None:
    # 660 s cut at 240 s and 360 s: the three shares are 28-digit decimals that add up to a hair
    # over 660 s; the step of 60 s bills 660 s.
    t = make(
        element(component("TIME", "6.00", step=60), start_time="10:06"),
        element(component("TIME", "6.00", step=60), start_time="10:04"),
        element(component("TIME", "6.00", step=60)),
    )
    costs = price(t, Session(at("2026-06-10T10:00:00Z")).charge(11).cdr_periods(), "UTC")
    assert costs.total_time_cost.excl_vat == D("1.10")
