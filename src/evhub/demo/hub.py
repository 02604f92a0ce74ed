"""Registering a hub, its stations and its drivers through the REST API, as an operator would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from evhub.clock import Clock
from evhub.sim import SessionPlan, SimEvse, SimStation
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
    driver_of: dict[str, int]  # token uid -> driver id


# Residents by night (and the odd early evening), visitors while the centre is open.
ACCESS_WINDOWS = [
    {"user_group": "resident", "days": list(range(7)), "start": "16:00", "end": "10:00",
     "quota": 12},
    {"user_group": "visitor", "days": list(range(7)), "start": "08:00", "end": "23:30"},
]  # fmt: skip


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
    residents: int = 16,
) -> Hub:
    """The site, its stations, access windows and drivers; the first `residents` drivers are
    residents (the scenario gives them the first tokens), the others visitors."""
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
    await _put(http, f"/api/v1/sites/{site['id']}/access-windows", ACCESS_WINDOWS)
    tokens, driver_of = [], {}
    for n in range(drivers):
        group = "resident" if n < residents else "visitor"
        driver = await _post(
            http, "/api/v1/drivers", {"name": f"Driver {n + 1}", "user_group": group}
        )
        uid = f"DEMO{n + 1:04d}"
        await _post(http, "/api/v1/tokens", {"uid": uid, "driver_id": driver["id"]})
        tokens.append(uid)
        driver_of[uid] = int(driver["id"])
    await describe_open_data(http, int(site["id"]), layout)
    return Hub(int(site["id"]), layout, tuple(tokens), driver_of)


# The IRVE open data of the demo network (etalab/schema-irve v2.3.0): who runs it, and the
# site and each point as the public files describe them.
OPERATOR = {
    "afirev_operator_id": "E1H", "operator_name": "evhub Exploitation",
    "operator_email": "exploitation@evhub.example.org", "operator_phone": "0474000000",
    "installer_name": "Agglomération Villefranche Beaujolais Saône", "installer_siren": "200040590",
    "installer_email": "mobilite@agglo-villefranche.example.org", "brand": "evhub Bornes",
}  # fmt: skip
SITE_OPEN_DATA = {
    "insee_code": "69264", "implantation": "Parking privé à usage public",
    "opening_hours": "Mo-Su 07:00-23:30", "accessibility_pmr": "Accessible mais non réservé PMR",
    "access_condition": "Accès libre", "gauge_restriction": "Hauteur maximale 2,10 m",
    "two_wheelers": False, "grid_connection": "Direct", "delivery_point": "30001234567890",
    "commissioned_on": "2026-03-02",
}  # fmt: skip


async def describe_open_data(
    http: httpx.AsyncClient, site_id: int, layout: tuple[StationSpec, ...]
) -> None:
    await _put(http, "/api/v1/open-data/operator", OPERATOR)
    await _put(http, f"/api/v1/sites/{site_id}/open-data", SITE_OPEN_DATA)
    for spec in layout:
        for evse in spec.evses:
            tariff = "0,45 EUR/kWh TTC" if evse.dc else "0,30 EUR/kWh TTC, 0,05 EUR/min après 3 h"
            await _put(http, f"/api/v1/stations/{spec.station_id}/evses/{evse.evse_id}/open-data", {
                "pay_per_use": True, "pay_by_card": evse.dc, "pay_other": True, "tariff": tariff,
                "bookable": True, "t2_cable_attached": False if not evse.dc else None,
            })  # fmt: skip


async def book(
    http: httpx.AsyncClient, hub: Hub, sessions: list[SessionPlan]
) -> dict[str, tuple[str, int]]:
    """Book a spot for each of `sessions` as its driver would, from a few minutes before the
    arrival to the departure; returns session id -> booked (station id, EVSE id). A booking the
    hub refuses (quota, no spot left) is simply not made: that driver will try their luck."""
    spots = {}
    for plan in sessions:
        body = {
            "driver_id": hub.driver_of[plan.id_token], "site_id": hub.site_id,
            "starts_at": (plan.arrival - timedelta(minutes=5)).isoformat(),
            "ends_at": (plan.departure + timedelta(minutes=5)).isoformat(),
            "energy_kwh": round(plan.energy_kwh, 1), "departure_at": plan.departure.isoformat(),
            "current_type": "DC" if plan.dc else "AC", "id_token": plan.id_token,
        }  # fmt: skip
        r = await http.post("/api/v1/bookings", json=body)
        if r.status_code == 201 and r.json().get("station_id"):
            spots[plan.session_id] = (r.json()["station_id"], int(r.json()["evse_id"]))
    return spots


async def _put(http: httpx.AsyncClient, path: str, body: object) -> None:
    r = await http.put(path, json=body)
    if r.status_code >= 400:
        raise RuntimeError(f"{path}: {r.status_code} {r.text}")


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
