"""Properties of the pricing engine over generated tariffs and sessions (hypothesis)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evhub.billing.pricing import CdrPeriods, Cost, Costs, price
from evhub.billing.tariff import ChargingPeriod, DayOfWeek, Tariff

D = Decimal
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"])
PARTS = ("energy", "time", "parking", "fixed", "reservation")

amounts = st.decimals(min_value=0, max_value=5, places=2)
vats = st.none() | st.sampled_from([D(0), D("5.5"), D(10), D(20)])
steps = st.sampled_from([0, 1, 60, 300, 500, 900])
times = st.sampled_from(["00:00", "06:00", "08:30", "12:00", "17:00", "20:00", "22:00", "23:59"])


def component(kinds: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.sampled_from(kinds), "price": amounts, "step_size": steps},
        optional={"vat": vats},
    )


restrictions = st.fixed_dictionaries(
    {},
    optional={
        "start_time": times,
        "end_time": times,
        "day_of_week": st.lists(st.sampled_from(list(DayOfWeek)), max_size=3, unique=True),
        "min_kwh": st.decimals(0, 40, places=1),
        "max_kwh": st.decimals(0, 40, places=1),
        "max_power": st.decimals(1, 60, places=0),
        "min_duration": st.integers(0, 4 * 3600),
        "max_duration": st.integers(0, 4 * 3600),
        "reservation": st.sampled_from(["RESERVATION", "RESERVATION_EXPIRES"]),
    },
)


def tariffs(
    kinds: list[str], restricted: st.SearchStrategy[dict[str, Any]] = restrictions
) -> st.SearchStrategy[Tariff]:
    element = st.fixed_dictionaries(
        {"price_components": st.lists(component(kinds), min_size=1, max_size=3)},
        optional={"restrictions": restricted},
    )
    return st.builds(
        lambda elements: Tariff.model_validate(
            {
                "country_code": "FR",
                "party_id": "EVH",
                "id": "generated",
                "currency": "EUR",
                "last_updated": "2026-01-01T00:00:00Z",
                "elements": elements,
            }
        ),
        st.lists(element, min_size=1, max_size=4),
    )


ALL_KINDS = ["ENERGY", "FLAT", "TIME", "PARKING_TIME"]
# (kind, seconds, kWh): reservations first, then charging and parking in any order.
period_specs = st.lists(
    st.tuples(st.just("reserve"), st.integers(1, 3 * 3600), st.just(D(0))), max_size=1
).flatmap(
    lambda reserved: st.lists(
        st.tuples(
            st.sampled_from(["charge", "park"]),
            st.integers(0, 4 * 3600),
            st.decimals(0, 30, places=3),
        ),
        min_size=0 if reserved else 1,
        max_size=5,
    ).map(lambda rest: reserved + rest)
)
starts = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))


def periods_of(start: datetime, specs: list[tuple[str, int, Decimal]]) -> CdrPeriods:
    periods, at = [], start
    for kind, seconds, kwh in specs:
        hours = D(seconds) / 3600
        dims: list[dict[str, Any]] = {
            "reserve": [{"type": "RESERVATION_TIME", "volume": hours}],
            "park": [{"type": "PARKING_TIME", "volume": hours}],
            "charge": [{"type": "TIME", "volume": hours}, {"type": "ENERGY", "volume": kwh}],
        }[kind]
        periods.append(ChargingPeriod.model_validate({"start_date_time": at, "dimensions": dims}))
        at += timedelta(seconds=seconds)
    return CdrPeriods(tuple(periods), at)


def costs_of(costs: Costs) -> list[Cost]:
    return [getattr(costs, f"total_{part}_cost") for part in PARTS]


@PROPERTY
@given(tariffs(ALL_KINDS), starts, period_specs, ZONES)
def test_the_total_is_the_sum_of_the_parts_and_vat_only_adds(
    tariff: Tariff, start: datetime, specs: list[tuple[str, int, Decimal]], zone: str
) -> None:
    costs = price(tariff, periods_of(start, specs), zone)
    parts = costs_of(costs)
    assert costs.total_cost == sum(parts, Cost(D(0), D(0)))
    for cost in [*parts, costs.total_cost]:
        assert 0 <= cost.excl_vat <= cost.incl_vat
        assert cost.excl_vat == cost.excl_vat.quantize(D("0.0001"))
    charged = [s for s in specs if s[0] != "reserve"]
    assert costs.total_energy == sum((s[2] for s in charged if s[0] == "charge"), D(0))
    assert costs.total_time == round(D(sum(s[1] for s in charged)) / 3600, 4)


@PROPERTY
@given(
    tariffs(ALL_KINDS),
    starts,
    period_specs,
    amounts,
    amounts,
    st.decimals(0, 1, places=2),
)
def test_min_and_max_price_are_respected(
    tariff: Tariff,
    start: datetime,
    specs: list[tuple[str, int, Decimal]],
    low: Decimal,
    spread: Decimal,
    vat: Decimal,
) -> None:
    bounded = Tariff.model_validate(
        tariff.model_dump()
        | {
            "min_price": {"excl_vat": low, "incl_vat": low * (1 + vat)},
            "max_price": {"excl_vat": low + spread, "incl_vat": (low + spread) * (1 + vat)},
        }
    )
    assert bounded.min_price is not None and bounded.max_price is not None
    total = price(bounded, periods_of(start, specs), "Europe/Paris").total_cost
    assert bounded.min_price.excl_vat <= total.excl_vat <= bounded.max_price.excl_vat
    assert bounded.min_price.incl_vat is not None and bounded.max_price.incl_vat is not None
    assert bounded.min_price.incl_vat <= total.incl_vat <= bounded.max_price.incl_vat


def _without_steps(tariff: Tariff) -> Tariff:
    body = tariff.model_dump()
    for element in body["elements"]:
        for c in element["price_components"]:
            c["step_size"] = 0
    return Tariff.model_validate(body)


unrestricted = st.just({})
energy_steps_free = st.fixed_dictionaries(
    {}, optional={"start_time": times, "end_time": times, "max_kwh": st.decimals(0, 40, places=1)}
)


@PROPERTY
@given(
    st.one_of(
        tariffs(["ENERGY"], unrestricted),
        tariffs(["ENERGY"], energy_steps_free).map(_without_steps),
    ),
    starts,
    period_specs,
    st.data(),
)
def test_more_energy_never_costs_less_under_an_energy_tariff(
    tariff: Tariff, start: datetime, specs: list[tuple[str, int, Decimal]], data: st.DataObject
) -> None:
    """Energy-only tariffs: unrestricted ones with any step, time-of-day and energy-tier ones
    with exact billing (a step billed at the last price may undercut an earlier, dearer one)."""
    charging = [i for i, s in enumerate(specs) if s[0] == "charge"]
    if not charging:
        return
    i = data.draw(st.sampled_from(charging))
    more = data.draw(st.decimals(0, 10, places=3))
    bigger = list(specs)
    bigger[i] = (specs[i][0], specs[i][1], specs[i][2] + more)
    before = price(tariff, periods_of(start, specs), "Europe/Paris").total_cost
    after = price(tariff, periods_of(start, bigger), "Europe/Paris").total_cost
    assert after.excl_vat >= before.excl_vat
    assert after.incl_vat >= before.incl_vat


@PROPERTY
@given(tariffs(ALL_KINDS), starts, period_specs, ZONES, st.data())
def test_cutting_a_period_in_two_changes_nothing(
    tariff: Tariff,
    start: datetime,
    specs: list[tuple[str, int, Decimal]],
    zone: str,
    data: st.DataObject,
) -> None:
    """Two periods with the conditions of one, its volumes shared in proportion to time, are
    priced as that one: steps apply to session totals, not to periods."""
    i = data.draw(st.integers(0, len(specs) - 1))
    kind, seconds, kwh = specs[i]
    if seconds < 2:
        return
    first = data.draw(st.integers(1, seconds - 1))
    share = kwh * first / seconds
    cut = [*specs[:i], (kind, first, share), (kind, seconds - first, kwh - share), *specs[i + 1 :]]
    whole = price(tariff, periods_of(start, specs), zone)
    halves = price(tariff, periods_of(start, cut), zone)
    assert [getattr(whole, f.name) for f in fields(Costs)] == [
        getattr(halves, f.name) for f in fields(Costs)
    ]
