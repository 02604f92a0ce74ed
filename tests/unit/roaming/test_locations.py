"""Sites as OCPI Locations: statuses, connectors, and the official 2.2.1 schemas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evhub.assets.models import Connector, Evse, Site, Station
from evhub.roaming.context import Identity
from evhub.roaming.locations import evse_status, location_object
from evhub.roaming.models import LocationDetails
from evhub.roaming.registry import version_details, versions
from tests.roaming_schemas.validator import assert_valid

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ME = Identity("FR", "EVH", "evhub")


def _station(statuses: list[str], online: bool = True, commissioned: bool = True) -> Station:
    station = Station(id="CP-1", site_id=1, online=online, commissioned=commissioned, created_at=AT)
    evse = Evse(evse_id=1, current_type="AC", phases=3, max_power_kw=22.0)
    evse.connectors = [
        Connector(connector_id=n, standard="IEC62196Type2", status=s, status_at=AT)
        for n, s in enumerate(statuses, start=1)
    ]
    dc = Evse(evse_id=2, current_type="DC", phases=3, max_power_kw=150.0)
    dc.connectors = [Connector(connector_id=1, standard="cCCS2", status="Faulted", status_at=AT)]
    station.evses = [evse, dc]
    return station


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["Available"], "AVAILABLE"),
        (["Charging"], "CHARGING"),
        (["Occupied"], "CHARGING"),
        (["SuspendedEV"], "CHARGING"),
        (["Reserved"], "RESERVED"),
        (["Unavailable"], "INOPERATIVE"),
        (["Faulted"], "OUTOFORDER"),
        (["Unknown"], "UNKNOWN"),
        (["Faulted", "Available"], "AVAILABLE"),
        (["Available", "Preparing"], "CHARGING"),
    ],
)
def test_evse_status_from_connector_states(statuses: list[str], expected: str) -> None:
    station = _station(statuses)
    assert evse_status(station, station.evses[0].connectors) == expected


def test_an_offline_station_is_unknown_and_an_uncommissioned_one_planned() -> None:
    offline = _station(["Available"], online=False)
    assert evse_status(offline, offline.evses[0].connectors) == "UNKNOWN"
    planned = _station(["Available"], commissioned=False)
    assert evse_status(planned, planned.evses[0].connectors) == "PLANNED"


def _site() -> Site:
    return Site(
        id=7, name="Mall P2", address="1 rue de la Paix", town="Paris", country="FR",
        timezone="Europe/Paris", latitude=48.8566, longitude=2.3522, created_at=AT,
    )  # fmt: skip


def test_a_site_is_a_valid_location_with_24_7_opening_by_default() -> None:
    location = location_object(ME, _site(), None, [_station(["Available", "Charging"])])
    assert_valid("Location", location)
    assert location["opening_times"] == {"twentyfourseven": True}
    assert location["country"] == "FRA" and location["id"] == "7"
    ac, dc = location["evses"]
    assert ac["evse_id"] == "FR*EVH*ECP1*1" and ac["status"] == "CHARGING"
    assert dc["status"] == "OUTOFORDER"
    assert ac["connectors"][0] | {"last_updated": None} == {
        "id": "1", "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
        "max_voltage": 230, "max_amperage": 32, "max_electric_power": 22000, "tariff_ids": [],
        "last_updated": None,
    }  # fmt: skip
    assert dc["connectors"][0]["standard"] == "IEC_62196_T2_COMBO"
    assert dc["connectors"][0]["format"] == "CABLE" and dc["connectors"][0]["power_type"] == "DC"


def test_the_details_a_site_lacks_come_from_the_roaming_table() -> None:
    hours = {"twentyfourseven": False, "regular_hours": [
        {"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}]}  # fmt: skip
    details = LocationDetails(
        site_id=7, publish=True, postal_code="75002", parking_type="PARKING_GARAGE",
        facilities=["MALL", "SUPERMARKET"], opening_times=hours, updated_at=AT,
    )  # fmt: skip
    location = location_object(ME, _site(), details, [])
    assert_valid("Location", location)
    assert location["postal_code"] == "75002" and location["parking_type"] == "PARKING_GARAGE"
    assert location["facilities"] == ["MALL", "SUPERMARKET"]
    assert location["opening_times"] == hours


def test_versions_and_version_details_follow_the_schema() -> None:
    base = "https://evhub.example/ocpi"
    (version,) = versions(base)
    assert_valid("Version", version)
    details = version_details(base)
    assert_valid("VersionDetails", details)
    pairs = {(e["identifier"], e["role"]) for e in details["endpoints"]}
    assert {("credentials", "RECEIVER"), ("locations", "SENDER"), ("tokens", "RECEIVER"),
            ("tokens", "SENDER"), ("locations", "RECEIVER"), ("commands", "RECEIVER"),
            ("sessions", "RECEIVER"), ("cdrs", "RECEIVER"),
            ("commands", "SENDER")} == pairs  # fmt: skip
