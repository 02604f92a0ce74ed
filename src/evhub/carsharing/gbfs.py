"""The public GBFS 3.0 feed of the car-sharing fleet: the hubs are its stations.

GBFS 3.0 (https://github.com/MobilityData/gbfs/blob/v3.0/gbfs.md): every file carries
`last_updated` (RFC 3339), `ttl` and `version`; `gbfs.json` lists the feeds by absolute URL;
vehicle ids are rotated after each trip and vehicles in a trip are not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Site
from evhub.carsharing import fleet
from evhub.carsharing.models import FleetVehicle
from evhub.carsharing.state import OFF_FLEET, Propulsion, VehicleState

VERSION = "3.0"
FEEDS = (
    "system_information",
    "vehicle_types",
    "station_information",
    "station_status",
    "vehicle_status",
    "system_pricing_plans",
)
PLAN_ID = "standard"


@dataclass(frozen=True)
class FeedConfig:
    base_url: str  # e.g. https://hub.example.org/gbfs
    system_id: str
    name: str
    timezone: str
    language: str
    contact_email: str
    ttl_s: int
    currency: str
    price_per_hour: Decimal
    price_per_km: Decimal


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _envelope(config: FeedConfig, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"last_updated": rfc3339(now), "ttl": config.ttl_s, "version": VERSION, "data": data}


def _text(config: FeedConfig, text: str) -> list[dict[str, str]]:
    return [{"text": text, "language": config.language}]


def vehicle_type_id(vehicle: FleetVehicle) -> str:
    """One type per propulsion, make, model and seats (GBFS: a stable id)."""
    raw = f"{vehicle.propulsion}-{vehicle.make}-{vehicle.model}-{vehicle.seats}".lower()
    return "".join(c if c.isalnum() else "-" for c in raw)


def discovery(config: FeedConfig, now: datetime) -> dict[str, Any]:
    feeds = [{"name": name, "url": f"{config.base_url}/{name}.json"} for name in FEEDS]
    return _envelope(config, now, {"feeds": feeds})


def system_information(config: FeedConfig, now: datetime) -> dict[str, Any]:
    return _envelope(
        config,
        now,
        {
            "system_id": config.system_id,
            "languages": [config.language],
            "name": _text(config, config.name),
            "opening_hours": "24/7",
            "feed_contact_email": config.contact_email,
            "timezone": config.timezone,
        },
    )


async def _hubs(session: AsyncSession) -> list[Site]:
    """Sites that are home to cars and have coordinates (a GBFS station needs lat/lon)."""
    homes = select(FleetVehicle.home_site_id)
    query = select(Site).where(
        Site.id.in_(homes), Site.latitude.is_not(None), Site.longitude.is_not(None)
    )
    return list((await session.execute(query.order_by(Site.id))).scalars())


async def _fleet(session: AsyncSession) -> list[FleetVehicle]:
    return list((await session.execute(select(FleetVehicle).order_by(FleetVehicle.id))).scalars())


def _types(cars: Sequence[FleetVehicle], config: FeedConfig) -> list[dict[str, Any]]:
    types: dict[str, dict[str, Any]] = {}
    for car in cars:
        type_id = vehicle_type_id(car)
        entry = types.setdefault(
            type_id,
            {
                "vehicle_type_id": type_id,
                "form_factor": "car",
                "propulsion_type": car.propulsion,
                "max_range_meters": car.range_km * 1000.0,
                "rider_capacity": car.seats,
                "name": _text(config, f"{car.make} {car.model}"),
                "make": _text(config, car.make),
                "model": _text(config, car.model),
                "wheel_count": 4,
                "return_constraint": "roundtrip_station",
                "default_pricing_plan_id": PLAN_ID,
                "pricing_plan_ids": [PLAN_ID],
            },
        )
        entry["max_range_meters"] = max(entry["max_range_meters"], car.range_km * 1000.0)
    return list(types.values())


async def vehicle_types(session: AsyncSession, config: FeedConfig, now: datetime) -> dict[str, Any]:
    return _envelope(config, now, {"vehicle_types": _types(await _fleet(session), config)})


async def station_information(
    session: AsyncSession, config: FeedConfig, now: datetime
) -> dict[str, Any]:
    stations = []
    for site in await _hubs(session):
        assert site.latitude is not None and site.longitude is not None
        station: dict[str, Any] = {
            "station_id": str(site.id),
            "name": _text(config, site.name),
            "lat": site.latitude,
            "lon": site.longitude,
            "is_virtual_station": False,
        }
        if site.address:
            station["address"] = site.address
        stations.append(station)
    return _envelope(config, now, {"stations": stations})


def _shown(car: FleetVehicle) -> bool:
    return car.state != VehicleState.IN_TRIP  # a car in a trip is not shown (privacy)


def _rentable(car: FleetVehicle) -> bool:
    return car.state in (VehicleState.AVAILABLE, VehicleState.CHARGING)


async def station_status(
    session: AsyncSession, config: FeedConfig, now: datetime
) -> dict[str, Any]:
    cars = await _fleet(session)
    stations = []
    for site in await _hubs(session):
        here = [c for c in cars if c.home_site_id == site.id and _shown(c)]
        counts: dict[str, int] = {}
        for car in here:
            counts.setdefault(vehicle_type_id(car), 0)
            if _rentable(car):
                counts[vehicle_type_id(car)] += 1
        stations.append(
            {
                "station_id": str(site.id),
                "num_vehicles_available": sum(counts.values()),
                "num_vehicles_disabled": sum(1 for c in here if c.state in OFF_FLEET),
                "vehicle_types_available": [
                    {"vehicle_type_id": k, "count": v} for k, v in sorted(counts.items())
                ],
                "is_installed": True,
                "is_renting": True,
                "is_returning": True,
                "last_reported": rfc3339(max((c.reported_at for c in here), default=now)),
            }
        )
    return _envelope(config, now, {"stations": stations})


async def vehicle_status(
    session: AsyncSession, config: FeedConfig, now: datetime
) -> dict[str, Any]:
    hubs = {site.id for site in await _hubs(session)}
    vehicles = []
    for car in await _fleet(session):
        located = car.latitude is not None and car.longitude is not None
        if not _shown(car) or not (located or car.home_site_id in hubs):
            continue  # GBFS: a vehicle has a position, or a station it is at
        entry: dict[str, Any] = {
            "vehicle_id": car.public_id,
            "vehicle_type_id": vehicle_type_id(car),
            "is_reserved": car.state == VehicleState.BOOKED,
            "is_disabled": car.state in OFF_FLEET,
            "current_range_meters": round(fleet.current_range_km(car) * 1000.0, 1),
            "last_reported": rfc3339(car.reported_at),
            "pricing_plan_id": PLAN_ID,
        }
        if car.home_site_id in hubs:  # cars are returned to their hub: they are there
            entry["station_id"] = entry["home_station_id"] = str(car.home_site_id)
        level = car.soc_pct if car.propulsion == Propulsion.ELECTRIC else car.fuel_pct
        if level is not None:
            entry["current_fuel_percent"] = round(level / 100.0, 4)
        if located:
            entry["lat"], entry["lon"] = car.latitude, car.longitude
        vehicles.append(entry)
    return _envelope(config, now, {"vehicles": vehicles})


def system_pricing_plans(config: FeedConfig, now: datetime) -> dict[str, Any]:
    per_hour, per_km = config.price_per_hour, config.price_per_km
    plan = {
        "plan_id": PLAN_ID,
        "name": _text(config, "Standard"),
        "currency": config.currency,
        "price": 0.0,
        "is_taxable": True,
        "description": _text(
            config, f"{per_hour} {config.currency} per hour and {per_km} {config.currency} per km"
        ),
        # GBFS 3.0: a rate per `interval` minutes; an hourly price charged per started hour.
        "per_min_pricing": [{"start": 0, "rate": float(per_hour), "interval": 60}],
        "per_km_pricing": [{"start": 0, "rate": float(per_km), "interval": 1}],
    }
    return _envelope(config, now, {"plans": [plan]})
