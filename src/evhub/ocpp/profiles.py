"""Charging schedule fields that OCPP 1.6 and 2.0.1 share (§7.13 / 2.0.1 §2.10)."""

from __future__ import annotations

from evhub.control import ChargingLimit, ProfilePurpose
from evhub.ocpp.timestamps import format_time

_PROFILE_IDS = {ProfilePurpose.TX: 1, ProfilePurpose.TX_DEFAULT: 2, ProfilePurpose.STATION_MAX: 3}


def profile_id(evse_id: int, purpose: ProfilePurpose) -> int:
    """Stable per EVSE and purpose, so that a new plan replaces the previous profile."""
    return 1000 + evse_id * 10 + _PROFILE_IDS[purpose]


def schedule(limit: ChargingLimit) -> dict[str, object]:
    fields: dict[str, object] = {
        "charging_rate_unit": limit.unit,
        "start_schedule": format_time(limit.start),
        "charging_schedule_period": [
            {
                "start_period": offset,
                # 1.6 and 2.0.1 schedules only charge: a limit is never below zero.
                "limit": limit.value_in_unit(max(0.0, kw)),
                "number_phases": limit.phases,
            }
            for offset, kw in limit.periods
        ],
    }
    if limit.duration_s is not None:
        fields["duration"] = limit.duration_s
    return fields


def validity(limit: ChargingLimit) -> dict[str, object]:
    """ChargingProfile.validTo (1.6 §7.8, 2.0.1 §2.10 ChargingProfileType), when set."""
    return {} if limit.valid_to is None else {"valid_to": format_time(limit.valid_to)}


def station_wide(limit: ChargingLimit) -> bool:
    """A station maximum applies to the whole station: connector / EVSE 0."""
    return limit.purpose == ProfilePurpose.STATION_MAX
