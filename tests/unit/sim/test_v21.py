"""The 2.1 simulator: a V2X period makes a bidirectional car discharge, down to its floor only;
the car's V2X needs as it reports them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evhub.sim.ev import SimEV
from evhub.sim.evse import EvseRuntime, SimEvse
from evhub.sim.profiles import EvseContext, evse_limit_kw, profile_from_v201
from evhub.sim.v21 import charging_needs

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
DC = EvseContext(1, max_kw=50.0, transaction_id="t1", transaction_start=T0)


def _v2x_profile(setpoint_w: float) -> dict[str, object]:
    period = {"start_period": 0, "operation_mode": "CentralSetpoint", "limit": 0.0,
              "setpoint": setpoint_w, "discharge_limit": setpoint_w}  # fmt: skip
    return {
        "id": 1011, "stack_level": 1, "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Absolute", "transaction_id": "t1",
        "charging_schedule": [{"id": 1, "charging_rate_unit": "W", "start_schedule": T0.isoformat(),
                               "charging_schedule_period": [period]}],
    }  # fmt: skip


def test_a_central_setpoint_below_zero_discharges_the_car_to_its_floor_only() -> None:
    profile = profile_from_v201(1, _v2x_profile(-10000.0), T0)
    offered = evse_limit_kw([profile], DC, T0 + timedelta(minutes=1))
    assert offered == -10.0
    ev = SimEV(battery_kwh=60.0, soc=0.42, max_dc_kw=50.0, v2g=True, max_discharge_kw=20.0,
               min_soc=0.4)  # fmt: skip
    kw = ev.accept_kw(offered, dc=True)
    assert kw == -10.0
    moved = ev.advance(kw, 3600)  # an hour asked, 1.2 kWh above the floor given
    assert abs(moved + 1.2) < 1e-9
    assert abs(ev.soc - 0.4) < 1e-9 and ev.accept_kw(offered, dc=True) == 0.0


def test_a_charge_only_car_ignores_a_negative_offer() -> None:
    ev = SimEV(battery_kwh=60.0, soc=0.6)
    assert ev.accept_kw(-10.0, dc=True) == 0.0


def test_a_bidirectional_car_reports_its_bounds_from_its_soc() -> None:
    ev = SimEV(battery_kwh=60.0, soc=0.6, target_soc=0.8, max_dc_kw=50.0, v2g=True,
               max_discharge_kw=20.0, min_soc=0.3, departure=T0 + timedelta(hours=6))  # fmt: skip
    needs = charging_needs(ev, EvseRuntime(SimEvse(1, dc=True, max_kw=50.0)))
    v2x = needs["v2x_charging_parameters"]
    assert needs["requested_energy_transfer"] == "DC_BPT"
    assert v2x["ev_target_energy_request"] == 12000
    assert v2x["ev_min_v2x_energy_request"] == -18000
    assert v2x["ev_max_v2x_energy_request"] == 24000
    assert v2x["max_discharge_power"] == 20000.0
    assert needs["dc_charging_parameters"]["state_of_charge"] == 60
