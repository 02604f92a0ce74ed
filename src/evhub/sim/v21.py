"""OCPP 2.1 side of the simulated station: 2.0.1's messages, and a bidirectional car's needs.

The 2.0.1 client over the library's 2.1 schemas. A car that can feed the grid (`SimEV.v2g`)
reports its V2X parameters once its transaction has started (NotifyEVChargingNeeds with
requestedEnergyTransfer *_BPT and v2xChargingParameters, OCPP 2.1 §Q); V2X periods of the
charging profiles it receives (CentralSetpoint, a negative setpoint) make it discharge, down
to its minimum state of charge (`sim.profiles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.v21 import ChargePoint, call, call_result
from ocpp.v21.enums import ControlModeEnumType, EnergyTransferModeEnumType

from evhub.sim import v201
from evhub.sim.ev import SimEV

if TYPE_CHECKING:
    from evhub.sim.station import EvseRuntime

DC_VOLTAGE_V = 400.0


def charging_needs(ev: SimEV, evse: EvseRuntime) -> dict[str, Any]:
    """ChargingNeedsType of a bidirectional car (snake_case, as the library takes it)."""
    mode = EnergyTransferModeEnumType.dc_bpt if evse.spec.dc else EnergyTransferModeEnumType.ac_bpt
    max_kw = ev.max_rate_kw(evse.spec.dc, evse.phases_in_use)
    battery_wh = ev.battery_kwh * 1000.0
    needs: dict[str, Any] = {
        "requested_energy_transfer": mode,
        "available_energy_transfer": [mode],
        "control_mode": ControlModeEnumType.scheduled_control,
        "v2x_charging_parameters": {
            "max_charge_power": max_kw * 1000.0,
            "max_discharge_power": ev.max_discharge_kw * 1000.0,
            "ev_target_energy_request": round((ev.target_soc - ev.soc) * battery_wh),
            "ev_min_v2x_energy_request": round((ev.min_soc - ev.soc) * battery_wh),
            "ev_max_v2x_energy_request": round((1.0 - ev.soc) * battery_wh),
            "target_soc": round(ev.target_soc * 100),
        },
        "dc_charging_parameters": {
            "ev_max_current": round(max_kw * 1000.0 / DC_VOLTAGE_V, 1),
            "ev_max_voltage": DC_VOLTAGE_V,
            "ev_energy_capacity": battery_wh,
            "state_of_charge": round(ev.soc * 100),
        },
    }
    if ev.departure is not None:
        needs["departure_time"] = ev.departure.isoformat()
    return needs


class ChargePointClient(v201.ChargePointClient):
    """The station's end of an `ocpp2.1` connection."""

    _call = call
    _call_result = call_result
    _ocpp_version = ChargePoint._ocpp_version

    async def start_transaction(self, evse: EvseRuntime, remote: bool) -> tuple[str, bool] | None:
        started = await super().start_transaction(evse, remote)
        if started is not None and started[1] and evse.ev is not None and evse.ev.v2g:
            await self.call(
                call.NotifyEVChargingNeeds(
                    evse_id=evse.evse_id,
                    charging_needs=charging_needs(evse.ev, evse),
                    timestamp=self._now(),
                )
            )
        return started
