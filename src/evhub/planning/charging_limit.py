"""The one place where a charging limit for a station is built, for the planner and operators.

Units follow the EVSE (amperes per phase on AC, watts on DC) unless the station said which it
accepts (1.6 ChargingScheduleAllowedChargingRateUnit, §9.4); values are rounded down (§7.13),
so that rounding on many EVSEs never adds up past the site's limit; an operator's cap bounds
every limit; a TxProfile carries a validity after which the station falls back to its TxDefault.
A limit is never below zero unless the caller allows discharging (`min_kw`, a V2X transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from evhub.control import ChargingLimit, ProfilePurpose
from evhub.planning.live import EvseInfo


def rate_unit(evse: EvseInfo) -> str:
    """Amperes ("A") or watts ("W") for this EVSE; never a unit the station does not take."""
    preferred, other = ("A", "W") if evse.current_type == "AC" else ("W", "A")
    allowed = evse.allowed_units
    if allowed is None:
        return preferred
    accepts = {"A": "Current" in allowed, "W": "Power" in allowed}
    return preferred if accepts[preferred] or not accepts[other] else other


def build_limit(
    evse: EvseInfo,
    kw: float,
    now: datetime,
    transaction_id: str | None = None,
    validity_s: float | None = None,
    min_kw: float = 0.0,
) -> ChargingLimit:
    """A TxProfile when `transaction_id` is given, else the EVSE's TxDefaultProfile; `min_kw`
    below zero lets a TxProfile discharge the car (negative kW) down to it."""
    floor = min(0.0, min_kw) if transaction_id is not None else 0.0
    kw = max(floor, -evse.usable_kw, min(kw, evse.usable_kw))
    unit = rate_unit(evse)
    tx = transaction_id is not None
    return ChargingLimit(
        evse_id=evse.evse_id,
        start=now,
        periods=[(0, kw)],
        purpose=ProfilePurpose.TX if tx else ProfilePurpose.TX_DEFAULT,
        transaction_id=transaction_id,
        unit=unit,
        phases=evse.phases if unit == "A" else 3,
        stack_level=1 if tx else 0,
        valid_to=now + timedelta(seconds=validity_s) if tx and validity_s else None,
    )


def limit_kw(limit: ChargingLimit) -> float:
    """The power the station is actually told (its first period, after rounding down)."""
    return limit.kw_of(limit.value_in_unit(limit.periods[0][1]))
