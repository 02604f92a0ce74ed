"""What a trip costs in Decimal: its time and distance, the late return fee (grace, one-off
amount, rate per minute begun, cap), the cleaning fee (a fixed price) and the damage franchise
(the amount stated, capped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from evhub.carsharing.fees import (
    DESCRIPTION_MAX,
    LateFeeRule,
    cleaning_fee,
    damage_franchise,
    late_return_fee,
    minutes_late,
    usage_lines,
)
from evhub.errors import InvalidInput

END = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RULE = LateFeeRule(
    timedelta(minutes=10), Decimal("15.00"), Decimal("0.35"), Decimal("60.00"), "EUR"
)


def test_a_return_within_the_grace_period_costs_nothing() -> None:
    assert late_return_fee(RULE, END, END - timedelta(minutes=5)) is None
    assert late_return_fee(RULE, END, END + timedelta(minutes=10)) is None


def test_past_the_grace_every_minute_after_the_end_counts() -> None:
    fee = late_return_fee(RULE, END, END + timedelta(minutes=10, seconds=1))
    assert fee is not None
    assert fee.quantity == 11  # the eleventh minute has begun
    assert fee.amount == Decimal("15.00") + 11 * Decimal("0.35")
    assert str(fee.amount) == "18.85"
    assert fee.currency == "EUR" and fee.kind == "late_return"


def test_the_fee_is_capped() -> None:
    fee = late_return_fee(RULE, END, END + timedelta(hours=5))
    assert fee is not None
    assert fee.quantity == 300
    assert fee.amount == Decimal("60.00")
    assert "capped" in fee.description


def test_amounts_are_exact_decimals_rounded_to_the_cent() -> None:
    rule = LateFeeRule(timedelta(0), Decimal("0"), Decimal("0.125"), Decimal("100"), "CHF")
    fee = late_return_fee(rule, END, END + timedelta(minutes=3))
    assert fee is not None
    assert fee.amount == Decimal("0.38")  # 0.375 rounded half up
    assert fee.amount.as_tuple().exponent == -2


def test_minutes_late_counts_minutes_begun() -> None:
    assert minutes_late(END, END) == 0
    assert minutes_late(END, END - timedelta(hours=1)) == 0
    assert minutes_late(END, END + timedelta(seconds=1)) == 1
    assert minutes_late(END, END + timedelta(minutes=2)) == 2


def test_a_trip_costs_each_minute_and_each_kilometre_begun() -> None:
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    time, distance = usage_lines(
        Decimal("9.00"), Decimal("0.25"), "EUR", start, start + timedelta(minutes=90, seconds=1),
        41.2,
    )  # fmt: skip
    assert (time.kind, time.quantity, time.amount) == ("time", 91, Decimal("13.65"))
    assert (distance.kind, distance.quantity, distance.amount) == ("distance", 42, Decimal("10.50"))
    assert time.currency == distance.currency == "EUR"


def test_each_day_of_a_long_trip_costs_at_most_the_daily_cap() -> None:
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    per_hour, cap = Decimal("9.00"), Decimal("59.00")
    # Two whole days and 3 h 20 min: each whole day at the cap, the rest at the hourly price.
    time, _ = usage_lines(
        per_hour, Decimal("0.25"), "EUR", start, start + timedelta(days=2, minutes=200), 10.0, cap
    )
    assert time.quantity == 2 * 24 * 60 + 200
    assert time.amount == 2 * cap + (per_hour * 200 / 60).quantize(Decimal("0.01"))
    assert "daily cap" in time.description
    # Ten hours of one day: 90.00 at the hourly price, so the cap applies.
    time, _ = usage_lines(
        per_hour, Decimal("0.25"), "EUR", start, start + timedelta(hours=10), 0.0, cap
    )
    assert time.amount == cap
    # A short trip stays under the cap.
    time, _ = usage_lines(per_hour, Decimal("0.25"), "EUR", start, start + timedelta(hours=2),
                          0.0, cap)  # fmt: skip
    assert time.amount == 2 * per_hour and "cap" not in time.description


def test_the_cleaning_fee_is_the_fixed_price() -> None:
    fee = cleaning_fee(Decimal("30"), "EUR", "  sand on  the seats ", None)
    assert (fee.kind, fee.quantity, fee.amount, fee.currency) == (
        "cleaning", 1, Decimal("30.00"), "EUR",
    )  # fmt: skip
    assert fee.description == "cleaning: sand on the seats"
    assert cleaning_fee(Decimal("30"), "EUR", "mud", Decimal("30.00")).amount == Decimal("30.00")
    with pytest.raises(InvalidInput, match="fixed price of 30.00 EUR"):
        cleaning_fee(Decimal("30"), "EUR", "mud", Decimal("45.00"))


def test_no_cleaning_fee_without_a_price_or_a_reason() -> None:
    with pytest.raises(InvalidInput, match="no cleaning fee"):
        cleaning_fee(Decimal("0"), "EUR", "mud", None)
    with pytest.raises(InvalidInput, match="reason"):
        cleaning_fee(Decimal("30"), "EUR", " \n ", None)


def test_a_damage_franchise_is_the_amount_stated_up_to_the_cap() -> None:
    fee = damage_franchise(Decimal("800.00"), Decimal("800"), "EUR", "dented door", 7)
    assert (fee.kind, fee.amount) == ("damage_franchise", Decimal("800.00"))
    assert fee.description == "damage franchise (report 7): dented door"
    with pytest.raises(InvalidInput, match="at most 800.00 EUR"):
        damage_franchise(Decimal("800.01"), Decimal("800"), "EUR", "dented door", 7)
    for amount in (None, Decimal("0"), Decimal("-5"), Decimal("12.345")):
        with pytest.raises(InvalidInput):
            damage_franchise(amount, Decimal("800"), "EUR", "dented door", 7)


def test_a_long_reason_is_cut_to_the_line() -> None:
    fee = damage_franchise(Decimal("10"), Decimal("800"), "EUR", "x" * 400, 123456)
    assert len(fee.description) == DESCRIPTION_MAX
