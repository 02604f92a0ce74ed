"""evhub as CPO: its sites as OCPI Locations, EVSEs and Connectors (OCPI 2.2.1 §8.3).

A site is published once it has what 2.2.1 requires of a Location: an address, a city and
coordinates. The fields sites lack (postal code, parking type, facilities, opening times) live
in `roaming_location_details`, keyed by site id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, Site, Station
from evhub.errors import InvalidInput
from evhub.events import emit
from evhub.roaming.context import Identity
from evhub.roaming.countries import alpha3
from evhub.roaming.evse_ids import build_evse_id, evse_uid
from evhub.roaming.models import LocationDetails
from evhub.roaming.wire import format_timestamp

# OCPP connector statuses (1.6 and 2.0.1) as OCPI EVSE statuses (§8.4.22).
EVSE_STATUS = {
    "Available": "AVAILABLE",
    "Occupied": "CHARGING",
    "Preparing": "CHARGING",
    "Charging": "CHARGING",
    "SuspendedEV": "CHARGING",
    "SuspendedEVSE": "CHARGING",
    "Finishing": "CHARGING",
    "Reserved": "RESERVED",
    "Unavailable": "INOPERATIVE",
    "Faulted": "OUTOFORDER",
}
# One connector able to charge makes the EVSE usable; a busy one makes it busy.
_PRECEDENCE = ("CHARGING", "RESERVED", "AVAILABLE", "OUTOFORDER", "INOPERATIVE", "UNKNOWN")

# OCPP 2.0.1 ConnectorEnumType and evhub's 1.6-era names, as OCPI ConnectorType (§8.4.4).
_STANDARDS = {
    "IEC62196Type2": "IEC_62196_T2",
    "cType2": "IEC_62196_T2",
    "sType2": "IEC_62196_T2",
    "cCCS2": "IEC_62196_T2_COMBO",
    "cCCS1": "IEC_62196_T1_COMBO",
    "cType1": "IEC_62196_T1",
    "cG105": "CHADEMO",
    "CHAdeMO": "CHADEMO",
    "cTesla": "TESLA_S",
    "sType3": "IEC_62196_T3C",
}
PARKING_TYPES = (
    "ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET",
    "UNDERGROUND_GARAGE",
)  # fmt: skip
FACILITIES = (
    "HOTEL", "RESTAURANT", "CAFE", "MALL", "SUPERMARKET", "SPORT", "RECREATION_AREA", "NATURE",
    "MUSEUM", "BIKE_SHARING", "BUS_STOP", "TAXI_STAND", "TRAM_STOP", "METRO_STATION",
    "TRAIN_STATION", "AIRPORT", "PARKING_LOT", "CARPOOL_PARKING", "FUEL_STATION", "WIFI",
)  # fmt: skip
AC_PHASE_VOLTAGE_V = 230  # line to neutral, as OCPI asks for AC (§8.3.3 max_voltage)
DC_VOLTAGE_V = 920  # the CCS2 ceiling; stations do not report theirs


def evse_status(station: Station, connectors: list[Connector]) -> str:
    """The OCPI status of one EVSE from its connectors' last reported OCPP states."""
    if not station.commissioned:
        return "PLANNED"
    if not station.online:
        return "UNKNOWN"  # §8.4.22: also used when offline
    found = {EVSE_STATUS.get(c.status, "UNKNOWN") for c in connectors} or {"UNKNOWN"}
    return next(s for s in _PRECEDENCE if s in found)


def connector_object(evse: Evse, connector: Connector, updated: datetime) -> dict[str, Any]:
    dc = evse.current_type == "DC"
    phases = 1 if dc else max(1, min(evse.phases, 3))
    voltage = DC_VOLTAGE_V if dc else AC_PHASE_VOLTAGE_V
    power_w = int(evse.max_power_kw * 1000)
    standard = _STANDARDS.get(connector.standard, "IEC_62196_T2_COMBO" if dc else "IEC_62196_T2")
    cable = dc or connector.standard.startswith("c")
    return {
        "id": str(connector.connector_id),
        "standard": standard,
        "format": "CABLE" if cable else "SOCKET",
        "power_type": "DC" if dc else f"AC_{phases}_PHASE",
        "max_voltage": voltage,
        "max_amperage": round(power_w / (voltage * phases)),
        "max_electric_power": power_w,
        "tariff_ids": [],
        "last_updated": format_timestamp(updated),
    }


def evse_object(identity: Identity, station: Station, evse: Evse) -> dict[str, Any]:
    updated = max(
        [station.created_at, *(c.status_at for c in evse.connectors if c.status_at is not None)]
    )
    return {
        "uid": evse_uid(station.id, evse.evse_id),
        "evse_id": build_evse_id(
            identity.country_code, identity.party_id, station.id, evse.evse_id
        ),
        "status": evse_status(station, evse.connectors),
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "connectors": [connector_object(evse, c, updated) for c in evse.connectors],
        "last_updated": format_timestamp(updated),
    }


def publishable(site: Site, details: LocationDetails | None) -> bool:
    city = (details.city if details else None) or site.town
    return bool(site.address and city and site.latitude is not None and site.longitude is not None)


def location_object(
    identity: Identity, site: Site, details: LocationDetails | None, stations: list[Station]
) -> dict[str, Any]:
    """OCPI 2.2.1 §8.3.1 Location of one site."""
    assert site.latitude is not None and site.longitude is not None
    evses = [evse_object(identity, st, e) for st in stations for e in st.evses]
    stamps = [site.created_at] + ([details.updated_at] if details else [])
    updated = max([format_timestamp(s) for s in stamps] + [e["last_updated"] for e in evses])
    location: dict[str, Any] = {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": str(site.id),
        "publish": details.publish if details else True,
        "name": site.name[:255],
        "address": site.address[:45],
        "city": ((details.city if details else None) or site.town)[:45],
        "country": alpha3(site.country),
        "coordinates": {
            "latitude": f"{site.latitude:.6f}",
            "longitude": f"{site.longitude:.6f}",
        },
        "evses": evses,
        "operator": {"name": identity.business_name},
        "time_zone": site.timezone,
        "opening_times": (details.opening_times if details else None) or {"twentyfourseven": True},
        "last_updated": updated,
    }
    if details is not None:
        extra = {
            "postal_code": details.postal_code,
            "state": details.state,
            "parking_type": details.parking_type,
            "facilities": details.facilities or None,
        }
        location |= {k: v for k, v in extra.items() if v is not None}
    return location


async def list_locations(session: AsyncSession, identity: Identity) -> list[dict[str, Any]]:
    """Every published site as a Location, in site order (the sender's stable paging order)."""
    by_site: dict[int, list[Station]] = {}
    for station in await assets.list_stations(session):
        by_site.setdefault(station.site_id, []).append(station)
    all_details = {d.site_id: d for d in (await session.execute(select(LocationDetails))).scalars()}
    out = []
    for site in await assets.list_sites(session):
        details = all_details.get(site.id)
        if publishable(site, details):
            out.append(location_object(identity, site, details, by_site.get(site.id, [])))
    return out


async def get_location(
    session: AsyncSession, identity: Identity, location_id: str
) -> dict[str, Any] | None:
    if not location_id.isdigit():
        return None
    site = await session.get(Site, int(location_id))
    if site is None:
        return None
    details = await session.get(LocationDetails, site.id)
    if not publishable(site, details):
        return None
    stations = await assets.list_stations(session, site.id)
    return location_object(identity, site, details, stations)


async def set_details(
    session: AsyncSession, site_id: int, now: datetime, **fields: Any
) -> LocationDetails:
    """Set what OCPI needs of a site beyond the site itself (postal code, parking type...)."""
    await assets.get_site(session, site_id)
    if fields.get("parking_type") not in (None, *PARKING_TYPES):
        raise InvalidInput("unknown parking type", allowed=list(PARKING_TYPES))
    if not set(fields.get("facilities") or ()) <= set(FACILITIES):
        raise InvalidInput("unknown facility", allowed=list(FACILITIES))
    details = await session.get(LocationDetails, site_id)
    if details is None:
        details = LocationDetails(site_id=site_id, facilities=[], updated_at=now)
        session.add(details)
    for key, value in fields.items():
        setattr(details, key, value)
    details.updated_at = now
    emit(session, "roaming.location_changed", now, site_id=site_id)
    return details
