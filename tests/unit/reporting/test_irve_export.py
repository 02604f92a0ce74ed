"""The IRVE files of a described network pass the official schemas (etalab/schema-irve
v2.3.0, vendored under tests/irve_schemas) with zero errors; an undescribed one is refused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from frictionless import Resource, Schema, validate

from evhub.assets import service as assets
from evhub.db import create_engine, session_factory
from evhub.reporting import descriptions
from evhub.reporting.irve import (
    DYNAMIC_COLUMNS,
    STATIC_COLUMNS,
    IrveIncomplete,
    dynamic_csv,
    static_csv,
)
from evhub.reporting.schemas import OperatorIn, PointOpenDataIn, SiteOpenDataIn
from evhub.uow import UnitOfWork

SCHEMAS = Path(__file__).resolve().parents[2] / "irve_schemas"
NOW = datetime(2026, 11, 25, 8, tzinfo=UTC)
OPERATOR = OperatorIn(
    afirev_operator_id="E1H",
    operator_name="Exploitant",
    operator_email="ops@example.org",
    installer_name="Agglomération",
    installer_siren="732829320",
    installer_email="mobilite@example.org",
    brand="Bornes",
)
SITE = SiteOpenDataIn(
    insee_code="69005",
    implantation="Voirie",
    opening_hours="24/7",
    accessibility_pmr="Accessible mais non réservé PMR",
    gauge_restriction="Aucune",
    grid_connection="Direct",
    commissioned_on=date(2026, 3, 2),
)
POINT = PointOpenDataIn(pay_per_use=True, pay_by_card=False, pay_other=True, bookable=True)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Place du Marché", "Europe/Paris", 100.0)
        site.address, site.town, site.latitude, site.longitude = "1 place", "Anse", 45.93, 4.72
        ac = [assets.EvseSpec(1, "AC", 3, 22.0), assets.EvseSpec(2, "AC", 3, 22.0)]
        await assets.create_station(s, NOW, "AC-01", site.id, "station-password-0001", ac)
        dc = [assets.EvseSpec(1, "DC", 3, 150.0, standard="cCCS2")]
        await assets.create_station(s, NOW, "DC-01", site.id, "station-password-0001", dc)
    yield uow
    await engine.dispose()


async def describe(uow: UnitOfWork) -> None:
    async with uow() as s:
        await descriptions.set_operator(s, OPERATOR, NOW)
        (site,) = await assets.list_sites(s)
        await descriptions.set_site_details(s, site.id, SITE, NOW)
        for station, evse in (("AC-01", 1), ("AC-01", 2), ("DC-01", 1)):
            await descriptions.set_point_details(s, station, evse, POINT, NOW)


def frictionless_errors(text: str, schema_file: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "irve.csv"
    path.write_text(text, encoding="utf-8")
    descriptor = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    schema = Schema.from_descriptor(descriptor)
    report = validate(Resource(path=path.name, basepath=str(tmp_path), schema=schema))
    return [e.message for task in report.tasks for e in task.errors]


async def test_static_file_passes_the_official_schema(uow: UnitOfWork, tmp_path: Path) -> None:
    await describe(uow)
    async with uow() as s:
        text = await static_csv(s, NOW.date())
    schema = json.loads((SCHEMAS / "schema-statique.json").read_text(encoding="utf-8"))
    assert STATIC_COLUMNS == [f["name"] for f in schema["fields"]]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == STATIC_COLUMNS and len(rows) == 3
    assert {r["id_pdc_itinerance"] for r in rows} == {
        "FRE1HE0001AC011", "FRE1HE0001AC012", "FRE1HE0001DC011"
    }  # fmt: skip
    assert {r["id_station_itinerance"] for r in rows} == {"FRE1HP0001"}
    dc = next(r for r in rows if r["id_pdc_local"] == "DC-01/1")
    assert (dc["prise_type_combo_ccs"], dc["prise_type_2"], dc["puissance_nominale"]) == (
        "true", "false", "150"
    )  # fmt: skip
    assert dc["coordonneesXY"] == "[4.720000,45.930000]" and dc["nbre_pdc"] == "3"
    assert frictionless_errors(text, "schema-statique.json", tmp_path) == []
    starred = text.replace("FRE1HE0001DC011", "FR*E1H*E0001DC011")  # the schema's own check
    assert frictionless_errors(starred, "schema-statique.json", tmp_path) != []


async def test_dynamic_file_passes_the_official_schema(uow: UnitOfWork, tmp_path: Path) -> None:
    await describe(uow)
    async with uow() as s:
        await assets.mark_connected(s, "AC-01", "2.0.1", True, NOW)
        await assets.record_status(s, "AC-01", 1, 1, "Charging", NOW, NOW)
        await assets.record_status(s, "AC-01", 2, 1, "Faulted", NOW, NOW)
        text = await dynamic_csv(s, NOW)
    schema = json.loads((SCHEMAS / "schema-dynamique.json").read_text(encoding="utf-8"))
    assert DYNAMIC_COLUMNS == [f["name"] for f in schema["fields"]]
    states = {
        r["id_pdc_itinerance"]: (r["etat_pdc"], r["occupation_pdc"], r["etat_prise_type_2"])
        for r in csv.DictReader(io.StringIO(text))
    }
    assert states == {
        "FRE1HE0001AC011": ("en_service", "occupe", "fonctionnel"),
        "FRE1HE0001AC012": ("hors_service", "inconnu", "hors_service"),
        "FRE1HE0001DC011": ("inconnu", "inconnu", ""),  # never connected: not a guess
    }
    assert frictionless_errors(text, "schema-dynamique.json", tmp_path) == []


async def test_stations_not_commissioned_are_not_published(uow: UnitOfWork) -> None:
    await describe(uow)
    async with uow() as s:
        await assets.set_commissioned(s, "DC-01", False)
        rows = list(csv.DictReader(io.StringIO(await static_csv(s, NOW.date()))))
    assert [r["id_pdc_local"] for r in rows] == ["AC-01/1", "AC-01/2"]
    assert {r["nbre_pdc"] for r in rows} == {"2"}


async def test_missing_descriptions_are_listed_per_site_and_point(uow: UnitOfWork) -> None:
    async with uow() as s:
        await descriptions.set_operator(s, OPERATOR, NOW)
        await descriptions.set_point_details(s, "AC-01", 1, POINT, NOW)
    async with uow() as s:
        with pytest.raises(IrveIncomplete) as raised:
            await static_csv(s, NOW.date())
    scopes = {m.scope: m.missing for m in raised.value.missing}
    assert set(scopes) == {
        "site 1 (Place du Marché)", "point AC-01 EVSE 2", "point DC-01 EVSE 1"
    }  # fmt: skip
    assert scopes["site 1 (Place du Marché)"] == ["open-data description"]
