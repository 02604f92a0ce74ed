"""Charging-profile evaluation, fed with the shapes the ocpp library's dataclasses produce."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import datatypes as dt16
from ocpp.v201 import datatypes as dt201

from evhub.sim.profiles import (
    EvseContext,
    Kind,
    Purpose,
    RateUnit,
    effective_limit_kw,
    evse_limit_kw,
    limit_to_kw,
    profile_from_v16,
    profile_from_v201,
    schedule_period_at,
    station_limit_kw,
)

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
AC = EvseContext(evse_id=1, max_kw=22.0, phases=3, voltage=230.0)


def v16_profile(
    purpose: str,
    periods: list[tuple[int, float]],
    *,
    profile_id: int = 1,
    stack_level: int = 0,
    unit: str = "W",
    kind: str = "Absolute",
    start: datetime | None = T0,
    duration: int | None = None,
    transaction_id: int | None = None,
    **extra: Any,
) -> dt16.ChargingProfile:
    return dt16.ChargingProfile(
        charging_profile_id=profile_id,
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        charging_schedule=dt16.ChargingSchedule(
            charging_rate_unit=unit,
            charging_schedule_period=[
                dt16.ChargingSchedulePeriod(start_period=s, limit=limit) for s, limit in periods
            ],
            duration=duration,
            start_schedule=start.isoformat() if start else None,
        ),
        transaction_id=transaction_id,
        **extra,
    )


def test_v16_dataclass_is_parsed_to_a_neutral_profile() -> None:
    profile = profile_from_v16(
        0, v16_profile("ChargePointMaxProfile", [(0, 32), (3600, 16)], unit="A"), T0
    )
    assert profile.purpose is Purpose.STATION_MAX
    assert profile.unit is RateUnit.AMPERE
    assert profile.kind is Kind.ABSOLUTE
    assert [p.start_s for p in profile.periods] == [0, 3600]
    assert profile.start_schedule == T0


def test_v16_snake_case_dict_as_handlers_receive_it() -> None:
    raw = asdict(v16_profile("TxProfile", [(0, 7400)], transaction_id=42))
    profile = profile_from_v16(1, raw, T0)
    assert profile.transaction_id == "42"
    assert profile.evse_id == 1


def test_v201_dataclass_uses_first_schedule() -> None:
    charging_profile = dt201.ChargingProfileType(
        id=7,
        stack_level=2,
        charging_profile_purpose="ChargingStationMaxProfile",
        charging_profile_kind="Relative",
        charging_schedule=[
            dt201.ChargingScheduleType(
                id=1,
                charging_rate_unit="W",
                charging_schedule_period=[
                    dt201.ChargingSchedulePeriodType(start_period=0, limit=50_000)
                ],
            )
        ],
    )
    profile = profile_from_v201(0, charging_profile, T0)
    assert (profile.profile_id, profile.stack_level) == (7, 2)
    assert profile.purpose is Purpose.STATION_MAX
    assert station_limit_kw([profile], T0) == 50


def test_camel_case_wire_payload_is_accepted_too() -> None:
    wire = {
        "chargingProfileId": 3,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10, "numberPhases": 1}],
        },
    }
    profile = profile_from_v16(0, wire, T0)
    assert evse_limit_kw([profile], AC, T0) == pytest.approx(2.3)


@pytest.mark.parametrize(
    ("limit", "unit", "number_phases", "phases", "kw"),
    [
        (16, RateUnit.AMPERE, None, 3, 11.04),
        (16, RateUnit.AMPERE, 1, 3, 3.68),
        (32, RateUnit.AMPERE, 3, 1, 7.36),
        (7400, RateUnit.WATT, None, 1, 7.4),
    ],
)
def test_amperes_convert_through_phases_and_voltage(
    limit: float, unit: RateUnit, number_phases: int | None, phases: int, kw: float
) -> None:
    assert limit_to_kw(limit, unit, number_phases, phases, 230.0) == pytest.approx(kw)


def test_absolute_schedule_steps_through_periods_and_ends_with_duration() -> None:
    profile = profile_from_v16(
        1, v16_profile("TxDefaultProfile", [(0, 11000), (1800, 3700)], duration=3600), T0
    )
    assert evse_limit_kw([profile], AC, T0 - timedelta(seconds=1)) is None
    assert evse_limit_kw([profile], AC, T0) == 11
    assert evse_limit_kw([profile], AC, T0 + timedelta(minutes=45)) == 3.7
    assert evse_limit_kw([profile], AC, T0 + timedelta(hours=1)) is None


def test_relative_schedule_starts_with_the_transaction() -> None:
    profile = profile_from_v16(
        1, v16_profile("TxDefaultProfile", [(0, 11000), (600, 2000)], kind="Relative"), T0
    )
    in_session = EvseContext(1, 22.0, transaction_id="1", transaction_start=T0)
    assert evse_limit_kw([profile], in_session, T0 + timedelta(minutes=5)) == 11
    assert evse_limit_kw([profile], in_session, T0 + timedelta(minutes=15)) == 2
    # without a session the first period applies
    assert evse_limit_kw([profile], AC, T0 + timedelta(hours=5)) == 11


def test_daily_recurring_schedule_repeats() -> None:
    midnight = datetime(2025, 3, 1, tzinfo=UTC)
    raw = v16_profile(
        "TxDefaultProfile",
        [(0, 3000), (8 * 3600, 11000), (18 * 3600, 3000)],
        kind="Recurring",
        start=midnight,
        recurrency_kind="Daily",
    )
    profile = profile_from_v16(0, raw, T0)
    assert evse_limit_kw([profile], AC, datetime(2025, 3, 3, 9, tzinfo=UTC)) == 11
    assert evse_limit_kw([profile], AC, datetime(2025, 3, 3, 20, tzinfo=UTC)) == 3


def test_validity_window_is_respected() -> None:
    raw = v16_profile(
        "TxDefaultProfile",
        [(0, 5000)],
        valid_from=(T0 + timedelta(hours=1)).isoformat(),
        valid_to=(T0 + timedelta(hours=2)).isoformat(),
    )
    profile = profile_from_v16(0, raw, T0)
    assert schedule_period_at(profile, T0) is None
    assert evse_limit_kw([profile], AC, T0 + timedelta(minutes=90)) == 5
    assert evse_limit_kw([profile], AC, T0 + timedelta(hours=2)) is None


def test_highest_stack_level_wins_and_lower_takes_over_when_it_ends() -> None:
    low = profile_from_v16(0, v16_profile("TxDefaultProfile", [(0, 11000)]), T0)
    high = profile_from_v16(
        0,
        v16_profile("TxDefaultProfile", [(0, 4000)], profile_id=2, stack_level=3, duration=600),
        T0,
    )
    assert evse_limit_kw([low, high], AC, T0) == 4
    assert evse_limit_kw([low, high], AC, T0 + timedelta(minutes=11)) == 11


def test_evse_specific_default_beats_station_wide_default_on_equal_stack_level() -> None:
    everywhere = profile_from_v16(0, v16_profile("TxDefaultProfile", [(0, 11000)]), T0)
    here = profile_from_v16(1, v16_profile("TxDefaultProfile", [(0, 6000)], profile_id=2), T0)
    assert evse_limit_kw([everywhere, here], AC, T0) == 6
    other = EvseContext(evse_id=2, max_kw=22.0)
    assert evse_limit_kw([everywhere, here], other, T0) == 11


def test_tx_profile_overrides_default_only_for_its_transaction() -> None:
    default = profile_from_v16(0, v16_profile("TxDefaultProfile", [(0, 3000)], stack_level=5), T0)
    tx = profile_from_v16(
        1, v16_profile("TxProfile", [(0, 9000)], profile_id=2, transaction_id=42), T0
    )
    running = EvseContext(1, 22.0, transaction_id="42", transaction_start=T0)
    assert evse_limit_kw([default, tx], running, T0) == 9
    other_tx = EvseContext(1, 22.0, transaction_id="43", transaction_start=T0)
    assert evse_limit_kw([default, tx], other_tx, T0) == 3
    assert evse_limit_kw([default, tx], AC, T0) == 3


def test_station_cap_limits_the_effective_limit() -> None:
    cap = profile_from_v16(0, v16_profile("ChargePointMaxProfile", [(0, 16)], unit="A"), T0)
    tx = profile_from_v16(1, v16_profile("TxProfile", [(0, 20000)], profile_id=2), T0)
    running = EvseContext(1, 22.0, transaction_id="1", transaction_start=T0)
    assert evse_limit_kw([cap, tx], running, T0) == 20
    assert effective_limit_kw([cap, tx], running, T0) == pytest.approx(11.04)


def test_external_constraints_combine_with_station_max() -> None:
    station_max = profile_from_v16(0, v16_profile("ChargePointMaxProfile", [(0, 40000)]), T0)
    external = profile_from_v201(
        0,
        dt201.ChargingProfileType(
            id=9,
            stack_level=0,
            charging_profile_purpose="ChargingStationExternalConstraints",
            charging_profile_kind="Absolute",
            charging_schedule=[
                dt201.ChargingScheduleType(
                    id=1,
                    charging_rate_unit="W",
                    start_schedule=T0.isoformat(),
                    charging_schedule_period=[
                        dt201.ChargingSchedulePeriodType(start_period=0, limit=25000)
                    ],
                )
            ],
        ),
        T0,
    )
    assert station_limit_kw([station_max, external], T0) == 25


def test_without_profiles_the_evse_rating_applies() -> None:
    assert effective_limit_kw([], AC, T0) == 22
    assert station_limit_kw([], T0) is None


def test_absolute_profile_without_start_begins_on_receipt() -> None:
    profile = profile_from_v16(
        1, v16_profile("TxDefaultProfile", [(0, 1000), (60, 2000)], start=None), T0
    )
    assert profile.start_schedule == T0
    assert evse_limit_kw([profile], AC, T0 + timedelta(seconds=61)) == 2
