"""Charge point and EV simulator, used by the demo, the integration tests and the benchmarks.

A `SimStation` speaks OCPP 1.6, 2.0.1 or 2.1 to a CSMS over a real WebSocket, charges `SimEV`s
under the charging profiles it receives (a bidirectional car discharges under 2.1 V2X periods)
and reports meter values; `scenario` drives a day of arrivals.
"""

from evhub.sim.ev import ChargingNeed, SimEV
from evhub.sim.profiles import ChargingProfile, EvseContext, effective_limit_kw
from evhub.sim.scenario import SessionPlan, generate_day, run_day
from evhub.sim.station import ConnectorState, SimError, SimEvse, SimStation, StopReason

__all__ = [
    "ChargingNeed",
    "ChargingProfile",
    "ConnectorState",
    "EvseContext",
    "SessionPlan",
    "SimError",
    "SimEV",
    "SimEvse",
    "SimStation",
    "StopReason",
    "effective_limit_kw",
    "generate_day",
    "run_day",
]
