"""CSMS-initiated OCPP 2.1 messages: 2.0.1's, and charging profiles that may discharge.

Every command 2.1 shares with 2.0.1 is built by `V201Payloads` (the same message in both
schemas; the library validates it against 2.1's). A charging limit is a 2.1 SetChargingProfile:
a period that feeds the grid (negative kW) is a V2X period (OCPP 2.1 Part 2 §Q, central V2X
control with a charging profile): operationMode CentralSetpoint, a negative `setpoint` and a
negative `dischargeLimit` (ChargingSchedulePeriodType, `dischargeLimit` <= 0), `limit` 0 so that
it never charges then; other periods stay ChargingOnly limits, as in 2.0.1.
"""

from __future__ import annotations

from typing import Any

from ocpp.v21 import call
from ocpp.v21.enums import OperationModeEnumType as OperationMode

from evhub.control import ChargingLimit
from evhub.ocpp.v201.commands import V201Payloads


def _period(limit: ChargingLimit, offset: int, kw: float) -> dict[str, Any]:
    fields: dict[str, Any] = {"start_period": offset, "number_phases": limit.phases}
    if kw >= 0:
        return fields | {"limit": limit.value_in_unit(kw)}
    # Rounded toward zero (value_in_unit rounds a magnitude down): never more than planned.
    feed = -limit.value_in_unit(-kw)
    return fields | {
        "operation_mode": OperationMode.central_setpoint,
        "limit": 0.0,
        "setpoint": feed,
        "discharge_limit": feed,
    }


class V21Payloads(V201Payloads):
    """OCPP 2.1 messages for the CSMS's commands; implements `CommandPayloads`."""

    def set_charging_limit(self, limit: ChargingLimit) -> call.SetChargingProfile:
        shared = super().set_charging_limit(limit)
        profile = dict(shared.charging_profile)
        if any(kw < 0 for _, kw in limit.periods):
            schedule = dict(profile["charging_schedule"][0])
            schedule["charging_schedule_period"] = [
                _period(limit, offset, kw) for offset, kw in limit.periods
            ]
            profile["charging_schedule"] = [schedule]
        return call.SetChargingProfile(evse_id=shared.evse_id, charging_profile=profile)
