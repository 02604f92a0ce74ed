"""Charging-profile evaluation: which limit a station applies to an EVSE at a given moment.

Pure functions over version-neutral value objects, so both protocol versions share one rule set:

* a station-wide cap (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile and
  ChargingStationExternalConstraints) limits the whole station (OCPP 1.6 §3.13.3, 2.0.1 K01);
* a TxProfile of the running transaction overrides the TxDefaultProfile (1.6 §3.13.1, 2.0.1 K01);
* within one purpose, the valid profile with the highest stackLevel whose schedule has a period
  at that moment wins; an EVSE-specific TxDefaultProfile beats one set on EVSE 0 (1.6 §3.13.2);
* amperes become kilowatts through phases x voltage (1.6 ChargingSchedulePeriod.numberPhases
  defaults to 3);
* a 2.1 V2X period in operationMode CentralSetpoint is its setpoint, negative to discharge
  (OCPP 2.1 §Q); a period without a setpoint or limit (2.1 makes `limit` optional) does not
  bound the EVSE.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from ocpp.charge_point import camel_to_snake_case


class Purpose(StrEnum):
    STATION_MAX = "ChargingStationMaxProfile"
    EXTERNAL_CONSTRAINTS = "ChargingStationExternalConstraints"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


_PURPOSE_ALIASES = {"ChargePointMaxProfile": Purpose.STATION_MAX}  # OCPP 1.6 name


def purpose_from(name: str) -> Purpose:
    """Profile purpose from its 1.6 or 2.0.1 name."""
    return _PURPOSE_ALIASES.get(name) or Purpose(name)


STATION_PURPOSES = (Purpose.STATION_MAX, Purpose.EXTERNAL_CONSTRAINTS)


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RateUnit(StrEnum):
    AMPERE = "A"
    WATT = "W"


_RECURRENCE_S = {"Daily": 86_400, "Weekly": 7 * 86_400}
DEFAULT_NUMBER_PHASES = 3


@dataclass(frozen=True)
class SchedulePeriod:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class ChargingProfile:
    """One installed profile; `evse_id` 0 means the whole station (1.6 connectorId 0)."""

    profile_id: int
    evse_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    start_schedule: datetime | None = None
    duration_s: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    recurrency: str | None = None


@dataclass(frozen=True)
class EvseContext:
    """What the evaluation needs to know about an EVSE and its running transaction."""

    evse_id: int
    max_kw: float
    phases: int = 3
    voltage: float = 230.0
    transaction_id: str | None = None
    transaction_start: datetime | None = None


def parse_time(value: str | datetime | None) -> datetime | None:
    """OCPP dateTime (RFC 3339) to an aware datetime; naive values are taken as UTC."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_snake_dict(payload: Mapping[str, Any] | object) -> dict[str, Any]:
    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        return dataclasses.asdict(payload)
    return cast(dict[str, Any], camel_to_snake_case(dict(cast(Mapping[str, Any], payload))))


def _schedule_from(
    schedule: Mapping[str, Any], kind: Kind, received_at: datetime
) -> dict[str, Any]:
    start = parse_time(schedule.get("start_schedule"))
    if start is None and kind is Kind.ABSOLUTE:
        start = received_at  # an absolute schedule without a start begins when it arrives
    periods = tuple(
        SchedulePeriod(int(p["start_period"]), _period_limit(p), p.get("number_phases"))
        for p in schedule["charging_schedule_period"]
    )
    return {
        "unit": RateUnit(schedule["charging_rate_unit"]),
        "periods": tuple(sorted(periods, key=lambda p: p.start_s)),
        "start_schedule": start,
        "duration_s": schedule.get("duration"),
    }


def _period_limit(period: Mapping[str, Any]) -> float:
    if period.get("operation_mode") == "CentralSetpoint" and period.get("setpoint") is not None:
        return float(period["setpoint"])
    return float(period["limit"]) if period.get("limit") is not None else float("inf")


def _profile_from(
    evse_id: int,
    raw: dict[str, Any],
    schedule: Mapping[str, Any],
    profile_id: int,
    received_at: datetime,
) -> ChargingProfile:
    kind = Kind(raw["charging_profile_kind"])
    tx_id = raw.get("transaction_id")
    return ChargingProfile(
        profile_id=profile_id,
        evse_id=evse_id,
        stack_level=int(raw["stack_level"]),
        purpose=purpose_from(str(raw["charging_profile_purpose"])),
        kind=kind,
        valid_from=parse_time(raw.get("valid_from")),
        valid_to=parse_time(raw.get("valid_to")),
        transaction_id=None if tx_id is None else str(tx_id),
        recurrency=raw.get("recurrency_kind"),
        **_schedule_from(schedule, kind, received_at),
    )


def profile_from_v16(
    connector_id: int, cs_charging_profiles: Mapping[str, Any] | object, received_at: datetime
) -> ChargingProfile:
    """OCPP 1.6 SetChargingProfile.req `csChargingProfiles` (dict or library dataclass)."""
    raw = _as_snake_dict(cs_charging_profiles)
    return _profile_from(
        connector_id, raw, raw["charging_schedule"], int(raw["charging_profile_id"]), received_at
    )


def profile_from_v201(
    evse_id: int, charging_profile: Mapping[str, Any] | object, received_at: datetime
) -> ChargingProfile:
    """OCPP 2.0.1 SetChargingProfileRequest `chargingProfile`; the first schedule is used."""
    raw = _as_snake_dict(charging_profile)
    return _profile_from(evse_id, raw, raw["charging_schedule"][0], int(raw["id"]), received_at)


def is_valid_at(profile: ChargingProfile, at: datetime) -> bool:
    if profile.valid_from is not None and at < profile.valid_from:
        return False
    return profile.valid_to is None or at < profile.valid_to


def schedule_period_at(
    profile: ChargingProfile, at: datetime, transaction_start: datetime | None = None
) -> SchedulePeriod | None:
    """The period in force at `at`, or None when the schedule has not begun or has ended."""
    if not is_valid_at(profile, at):
        return None
    if profile.kind is Kind.RELATIVE:
        start = transaction_start or at  # no session yet: the first period applies
    else:
        start = profile.start_schedule or transaction_start or at
    elapsed = (at - start).total_seconds()
    if profile.kind is Kind.RECURRING and profile.recurrency in _RECURRENCE_S:
        elapsed %= _RECURRENCE_S[profile.recurrency]
    if elapsed < 0 or (profile.duration_s is not None and elapsed >= profile.duration_s):
        return None
    current: SchedulePeriod | None = None
    for period in profile.periods:
        if period.start_s <= elapsed:
            current = period
    return current


def limit_to_kw(
    limit: float, unit: RateUnit, number_phases: int | None, phases: int, voltage: float
) -> float:
    """Convert a schedule limit to kW; an ampere limit applies per phase in use."""
    if unit is RateUnit.WATT:
        return limit / 1000.0
    used = min(number_phases or DEFAULT_NUMBER_PHASES, phases)
    return limit * used * voltage / 1000.0


def _winning_limit_kw(
    candidates: Iterable[ChargingProfile], at: datetime, evse: EvseContext
) -> float | None:
    """Highest stack level first; an EVSE-specific profile beats a station-wide one on a tie."""
    ranked = sorted(candidates, key=lambda p: (p.stack_level, p.evse_id != 0), reverse=True)
    for profile in ranked:
        period = schedule_period_at(profile, at, evse.transaction_start)
        if period is not None:
            return limit_to_kw(
                period.limit, profile.unit, period.number_phases, evse.phases, evse.voltage
            )
    return None


def _applies_as_tx(profile: ChargingProfile, evse: EvseContext) -> bool:
    if profile.purpose is not Purpose.TX or profile.evse_id != evse.evse_id:
        return False
    if evse.transaction_id is None:
        return False
    return profile.transaction_id is None or profile.transaction_id == evse.transaction_id


def evse_limit_kw(
    profiles: Iterable[ChargingProfile], evse: EvseContext, at: datetime
) -> float | None:
    """Limit set for this EVSE by TxProfile, else TxDefaultProfile; None when neither applies."""
    profiles = list(profiles)
    tx = _winning_limit_kw((p for p in profiles if _applies_as_tx(p, evse)), at, evse)
    if tx is not None:
        return tx
    defaults = (
        p for p in profiles if p.purpose is Purpose.TX_DEFAULT and p.evse_id in (0, evse.evse_id)
    )
    return _winning_limit_kw(defaults, at, evse)


def station_limit_kw(
    profiles: Iterable[ChargingProfile], at: datetime, phases: int = 3, voltage: float = 230.0
) -> float | None:
    """Cap on the whole station's power; None when no station-wide profile applies."""
    profiles = list(profiles)
    context = EvseContext(evse_id=0, max_kw=0.0, phases=phases, voltage=voltage)
    limits = [
        _winning_limit_kw((p for p in profiles if p.purpose is purpose), at, context)
        for purpose in STATION_PURPOSES
    ]
    found = [limit for limit in limits if limit is not None]
    return min(found) if found else None


def effective_limit_kw(
    profiles: Iterable[ChargingProfile], evse: EvseContext, at: datetime
) -> float:
    """The limit an EVSE obeys alone: its rating, its own profiles and the station cap."""
    profiles = list(profiles)
    limit = evse.max_kw
    for candidate in (
        evse_limit_kw(profiles, evse, at),
        station_limit_kw(profiles, at, evse.phases, evse.voltage),
    ):
        if candidate is not None:
            limit = min(limit, candidate)
    return limit
