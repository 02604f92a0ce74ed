"""Registering a hub, its stations and its drivers through the REST API, as an operator would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from evhub.clock import Clock
from evhub.sim import SimEvse, SimStation
from evhub.sim.station import OcppVersion

PASSWORD = "demo-station-password"


@dataclass(frozen=True)
class StationSpec:
    station_id: str
    version: OcppVersion
    evses: tuple[SimEvse, ...]


@dataclass(frozen=True)
class Hub:
    site_id: int
    stations: tuple[StationSpec, ...]
    tokens: tuple[str, ...]


def shopping_centre_layout(ac_points: int = 20, dc_points: int = 4) -> tuple[StationSpec, ...]:
    """Twin-socket 22 kW AC posts (both protocol generations) and single 150 kW DC chargers."""
    specs = []
    for n in range(ac_points // 2):
        version: OcppVersion = "1.6" if n % 2 == 0 else "2.0.1"
        specs.append(
            StationSpec(
                f"AC-{n + 1:02d}", version, (SimEvse(1, max_kw=22.0), SimEvse(2, max_kw=22.0))
            )
        )
    for n in range(dc_points):
        specs.append(StationSpec(f"DC-{n + 1:02d}", "2.0.1", (SimEvse(1, dc=True, max_kw=150.0),)))
    return tuple(specs)


async def register_hub(
    http: httpx.AsyncClient,
    name: str = "Shopping-centre car park",
    town: str = "Villefranche",
    grid_limit_kw: float = 250.0,
    layout: tuple[StationSpec, ...] | None = None,
    drivers: int = 40,
) -> Hub:
    layout = layout or shopping_centre_layout()
    site = await _post(http, "/api/v1/sites", {
        "name": name, "timezone": "Europe/Paris", "grid_limit_kw": grid_limit_kw, "town": town,
        "address": "Parking P2, avenue de la Gare", "latitude": 45.99, "longitude": 4.72,
    })  # fmt: skip
    for spec in layout:
        evses = [
            {"evse_id": e.evse_id, "current_type": "DC" if e.dc else "AC", "phases": e.phases,
             "max_power_kw": e.max_kw, "standard": "cCCS2" if e.dc else "IEC62196Type2"}
            for e in spec.evses
        ]  # fmt: skip
        await _post(http, "/api/v1/stations", {"id": spec.station_id, "site_id": site["id"],
                                               "password": PASSWORD, "evses": evses})  # fmt: skip
    tokens = []
    for n in range(drivers):
        group = "resident" if n % 3 == 0 else "visitor"
        driver = await _post(
            http, "/api/v1/drivers", {"name": f"Driver {n + 1}", "user_group": group}
        )
        uid = f"DEMO{n + 1:04d}"
        await _post(http, "/api/v1/tokens", {"uid": uid, "driver_id": driver["id"]})
        tokens.append(uid)
    return Hub(int(site["id"]), layout, tuple(tokens))


async def _post(http: httpx.AsyncClient, path: str, body: dict[str, object]) -> dict[str, Any]:
    r = await http.post(path, json=body)
    if r.status_code >= 400:
        raise RuntimeError(f"{path}: {r.status_code} {r.text}")
    return dict(r.json())


def sim_stations(
    hub: Hub, ws_base: str, clock: Clock, meter_interval_s: float = 60.0
) -> list[SimStation]:
    return [
        SimStation(
            spec.station_id,
            PASSWORD,
            spec.version,
            ws_base,
            list(spec.evses),
            vendor="evhub-sim",
            model="DC150" if spec.station_id.startswith("DC") else "AC22x2",
            clock=clock,
            meter_interval_s=meter_interval_s,
        )
        for spec in hub.stations
    ]
