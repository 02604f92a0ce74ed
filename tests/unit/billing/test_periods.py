"""Charging periods from meter readings: a new period where the EV stops or resumes drawing
energy, and where a restriction of the tariff can change (time of day in local time, DST
included; duration; kWh); volumes add up to the session's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from evhub.billing.periods import Reading, charging_periods
from evhub.billing.tariff import TariffElement

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)  # 17:00 in Paris


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def element(**restrictions: object) -> TariffElement:
    return TariffElement.model_validate(
        {
            "price_components": [{"type": "ENERGY", "price": "0.3", "step_size": 1}],
            "restrictions": restrictions or None,
        }
    )


def shape(periods: list) -> list[tuple[datetime, dict[str, Decimal]]]:  # type: ignore[type-arg]
    return [(p.start_date_time, {d.type.value: d.volume for d in p.dimensions}) for p in periods]


def test_charging_then_parking_are_two_periods() -> None:
    readings = [Reading(at(0), 1000), Reading(at(30), 6000), Reading(at(60), 11000),
                Reading(at(90), 11000)]  # fmt: skip
    periods = charging_periods(at(0), at(90), readings, [element()], PARIS)
    assert shape(periods) == [
        (at(0), {"ENERGY": Decimal(10), "TIME": Decimal(1)}),
        (at(60), {"ENERGY": Decimal(0), "PARKING_TIME": Decimal("0.5")}),
    ]


def test_resuming_after_a_pause_starts_a_new_charging_period() -> None:
    readings = [Reading(at(0), 0), Reading(at(15), 3000), Reading(at(30), 3000),
                Reading(at(45), 6000)]  # fmt: skip
    periods = charging_periods(at(0), at(45), readings, [], PARIS)
    kinds = [next(k for k in d if k != "ENERGY") for _, d in shape(periods)]
    assert kinds == ["TIME", "PARKING_TIME", "TIME"]
    assert [p.start_date_time for p in periods] == [at(0), at(15), at(30)]


def test_a_time_of_day_edge_in_local_time_cuts_a_period_sharing_its_energy() -> None:
    # 18:00 in Paris is 17:00 UTC in November: an hour into the charge.
    evening = element(start_time="18:00", end_time="22:00")
    readings = [Reading(at(0), 0), Reading(at(120), 20000)]
    periods = charging_periods(at(0), at(120), readings, [evening, element()], PARIS)
    assert shape(periods) == [
        (at(0), {"ENERGY": Decimal(10), "TIME": Decimal(1)}),
        (at(60), {"ENERGY": Decimal(10), "TIME": Decimal(1)}),
    ]


def test_duration_and_energy_limits_cut_periods() -> None:
    limits = [element(max_duration=1800), element(min_kwh=5), element()]
    readings = [Reading(at(0), 0), Reading(at(60), 8000)]
    periods = charging_periods(at(0), at(60), readings, limits, PARIS)
    assert [p.start_date_time for p in periods] == [at(0), at(30), at(37.5)]
    assert sum(d.volume for p in periods for d in p.dimensions if d.type == "ENERGY") == 8


def test_a_register_going_back_bills_nothing_negative_and_a_void_session_has_one_period() -> None:
    readings = [Reading(at(0), 5000), Reading(at(10), 4000), Reading(at(20), 6000)]
    periods = charging_periods(at(0), at(20), readings, [], PARIS)
    assert sum(d.volume for p in periods for d in p.dimensions if d.type == "ENERGY") == 1
    (only,) = charging_periods(at(0), at(0), [Reading(at(0), 5000)], [], PARIS)
    assert shape([only]) == [(at(0), {"ENERGY": Decimal(0), "PARKING_TIME": Decimal(0)})]


def test_a_rise_stamped_at_the_start_or_in_one_instant_is_never_lost() -> None:
    """Stations stamp in whole seconds: the start, a reading and the stop can share one."""
    t0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    t1 = t0 + timedelta(seconds=1)
    readings = [Reading(t0, 0), Reading(t0, 1800), Reading(t1, 4200)]
    periods = charging_periods(t0, t1, readings, [element()], ZoneInfo("UTC"))
    assert sum(v.get("ENERGY", Decimal(0)) for _, v in shape(periods)) == Decimal("4.2")
    instant = [Reading(t0, 100), Reading(t0, 600)]
    (only,) = charging_periods(t0, t0, instant, [element()], ZoneInfo("UTC"))
    assert shape([only])[0][1]["ENERGY"] == Decimal("0.5")
