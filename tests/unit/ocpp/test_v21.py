"""OCPP 2.1: negotiation beside 2.0.1, V2X charging profiles, the car's V2X needs; and the
charge-only versions, which never carry a negative limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import Call, validate_payload

from evhub.control import ChargingLimit, ProfilePurpose
from evhub.ocpp.endpoint import negotiate
from evhub.ocpp.payloads import CommandPayloads
from evhub.ocpp.v16.commands import V16Payloads
from evhub.ocpp.v21.commands import V21Payloads
from evhub.ocpp.v21.translate import car_v2x, ev_needs
from evhub.ocpp.v201.commands import V201Payloads

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _limit(*kw: float) -> ChargingLimit:
    periods = [(900 * n, value) for n, value in enumerate(kw)]
    return ChargingLimit(1, NOW, periods, ProfilePurpose.TX, "17", unit="W")


async def _valid(payload: Any, version: str) -> dict[str, Any]:
    """The payload as it goes on the wire, checked against the version's schema."""
    wire = remove_nones(snake_to_camel_case(serialize_as_dict(payload)))
    await validate_payload(Call("1", type(payload).__name__, wire), version)
    return dict(wire)


def _periods(wire: dict[str, Any]) -> list[dict[str, Any]]:
    profile = wire.get("chargingProfile") or wire["csChargingProfiles"]
    schedule = profile["chargingSchedule"]
    return list((schedule[0] if isinstance(schedule, list) else schedule)["chargingSchedulePeriod"])


def test_a_station_offering_21_and_201_gets_the_one_it_prefers() -> None:
    assert negotiate(["ocpp2.1", "ocpp2.0.1"]) == "ocpp2.1"
    assert negotiate(["ocpp2.0.1", "ocpp2.1"]) == "ocpp2.0.1"
    assert negotiate(["ocpp2.1"]) == "ocpp2.1"


async def test_a_discharging_period_is_a_v2x_central_setpoint() -> None:
    wire = await _valid(V21Payloads().set_charging_limit(_limit(-11.00005, 7.0)), "2.1")
    discharge, charge = _periods(wire)
    assert discharge["operationMode"] == "CentralSetpoint"
    # Rounded toward zero: never more discharge than planned.
    assert discharge["setpoint"] == discharge["dischargeLimit"] == -11000.0
    assert discharge["limit"] == 0.0
    assert charge == {"startPeriod": 900, "limit": 7000.0, "numberPhases": 3}


async def test_a_charge_only_21_profile_is_2_0_1_shaped() -> None:
    wire = await _valid(V21Payloads().set_charging_limit(_limit(7.0)), "2.1")
    assert _periods(wire) == [{"startPeriod": 0, "limit": 7000.0, "numberPhases": 3}]


@pytest.mark.parametrize(
    ("payloads", "version"), [(V16Payloads(), "1.6"), (V201Payloads(), "2.0.1")]
)
async def test_16_and_201_stations_never_get_a_negative_limit(
    payloads: CommandPayloads, version: str
) -> None:
    wire = await _valid(payloads.set_charging_limit(_limit(-11.0, 7.0)), version)
    limits = [p["limit"] for p in _periods(wire)]
    assert limits == [0.0, 7000.0]
    assert all("setpoint" not in p and "operationMode" not in p for p in _periods(wire))


NEEDS = {
    "requested_energy_transfer": "DC_BPT",
    "departure_time": "2026-11-23T15:00:00Z",
    "v2x_charging_parameters": {
        "max_discharge_power": 20000,
        "ev_target_energy_request": 12000,
        "ev_min_v2x_energy_request": -18000,
        "ev_max_v2x_energy_request": 24000,
    },
    "dc_charging_parameters": {
        "ev_max_current": 125,
        "ev_max_voltage": 400,
        "ev_energy_capacity": 60000,
        "state_of_charge": 60,
    },
}


def test_a_bidirectional_cars_v2x_parameters_in_kwh() -> None:
    car = car_v2x(NEEDS)
    assert car is not None
    assert (car.max_discharge_kw, car.min_v2x_kwh, car.max_v2x_kwh) == (20.0, -18.0, 24.0)
    assert (car.target_kwh, car.soc_pct, car.battery_kwh) == (12.0, 60, 60.0)
    assert car.departure_at == datetime(2026, 11, 23, 15, tzinfo=UTC)
    # Without AC/DC energy, the V2X target is the energy the car wants.
    assert ev_needs(NEEDS).energy_kwh == 12.0


def test_a_unidirectional_transfer_has_no_v2x_bounds() -> None:
    assert car_v2x(NEEDS | {"requested_energy_transfer": "DC"}) is None
    assert car_v2x({"requested_energy_transfer": "DC_BPT"}) is None
