"""OCPP 2.1 payload shapes to domain values; what 2.1 shares with 2.0.1 is 2.0.1's translation.

2.1 adds, for bidirectional power transfer (OCPP 2.1 Part 2 §Q), the car's V2X parameters in
NotifyEVChargingNeeds (`v2xChargingParameters`, `requestedEnergyTransfer`): they become a
`CarV2x` for the planner, beside the 2.0.1 need (energy, departure, battery size).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ocpp.v21.enums import EnergyTransferModeEnumType as Mode

from evhub.ocpp.timestamps import parse_time
from evhub.ocpp.v201 import translate as v201
from evhub.ocpp.v201.translate import TransactionEventValues, id_token_info, samples
from evhub.planning.v2x_needs import CarV2x
from evhub.planning.vehicle_needs import VehicleNeed

__all__ = [
    "PROTOCOL",
    "TransactionEventValues",
    "car_v2x",
    "ev_needs",
    "id_token_info",
    "samples",
    "transaction_event",
]

PROTOCOL = "2.1"
# EnergyTransferModeEnumType: the bidirectional modes (ISO 15118-20 BPT). A car requests one only
# when the EVSE offered it in service discovery, so the EVSE can discharge too (2.1 §Q).
BIDIRECTIONAL_MODES = frozenset({Mode.ac_bpt, Mode.ac_bpt_der, Mode.dc_bpt, Mode.dc_acdp_bpt})


def transaction_event(
    station_id: str,
    event_type: str,
    timestamp: str,
    trigger_reason: str,
    seq_no: int,
    transaction_info: dict[str, Any],
    kw: dict[str, Any],
) -> TransactionEventValues:
    """2.0.1's translation, the transaction recorded as one of protocol 2.1."""
    values = v201.transaction_event(
        station_id, event_type, timestamp, trigger_reason, seq_no, transaction_info, kw
    )
    return TransactionEventValues(
        replace(values.start, protocol=PROTOCOL), values.update, values.stop
    )


def ev_needs(charging_needs: dict[str, Any]) -> VehicleNeed:
    """Energy, departure and battery size: 2.0.1's fields, or the V2X target when only it is
    given (a BPT session may carry v2xChargingParameters without AC/DC parameters)."""
    need = v201.ev_needs(charging_needs)
    v2x = charging_needs.get("v2x_charging_parameters") or {}
    target_wh = v2x.get("ev_target_energy_request")
    if need.energy_kwh is None and target_wh is not None:
        return VehicleNeed(max(0.0, target_wh / 1000), need.departure_at, need.battery_kwh)
    return need


def car_v2x(charging_needs: dict[str, Any]) -> CarV2x | None:
    """The car's V2X bounds (V2XChargingParametersType, energies in Wh relative to now), or
    None when the session is not bidirectional."""
    mode = charging_needs.get("requested_energy_transfer")
    v2x = charging_needs.get("v2x_charging_parameters")
    if mode not in BIDIRECTIONAL_MODES or not v2x:
        return None
    dc = charging_needs.get("dc_charging_parameters") or {}
    departure = charging_needs.get("departure_time")

    def kwh(name: str) -> float | None:
        value = v2x.get(name)
        return None if value is None else float(value) / 1000

    max_discharge_w = v2x.get("max_discharge_power")
    capacity_wh = dc.get("ev_energy_capacity")
    return CarV2x(
        max_discharge_kw=abs(float(max_discharge_w)) / 1000 if max_discharge_w else 0.0,
        min_v2x_kwh=kwh("ev_min_v2x_energy_request"),
        max_v2x_kwh=kwh("ev_max_v2x_energy_request"),
        target_kwh=kwh("ev_target_energy_request"),
        soc_pct=dc.get("state_of_charge"),
        battery_kwh=float(capacity_wh) / 1000 if capacity_wh else None,
        departure_at=parse_time(departure) if departure else None,
    )
