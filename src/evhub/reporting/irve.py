"""The IRVE open-data files (etalab/schema-irve v2.3.0): static and dynamic, as CSV.

Static: one row per charge point (EVSE) with its station (site) repeated on each row, the
columns and order of `statique/schema-statique.json`. Dynamic: the state and occupancy of each
point now, `dynamique/schema-dynamique.json`. An export that lacks a required fact raises
`IrveIncomplete` with what is missing per scope, and nothing is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, Site, Station
from evhub.errors import InvalidInput
from evhub.reporting import descriptions
from evhub.reporting.identity import compact, point_afirev_id, station_afirev_id
from evhub.reporting.models import IrveOperator, IrvePointDetails, IrveSiteDetails
from evhub.reporting.schemas import MissingItem

STATIC_COLUMNS = (
    "nom_amenageur siren_amenageur contact_amenageur nom_operateur contact_operateur "
    "telephone_operateur nom_enseigne id_station_itinerance id_station_local nom_station "
    "implantation_station adresse_station code_insee_commune coordonneesXY nbre_pdc "
    "id_pdc_itinerance id_pdc_local puissance_nominale prise_type_ef prise_type_2 "
    "prise_type_combo_ccs prise_type_chademo prise_type_autre gratuit paiement_acte paiement_cb "
    "paiement_autre tarification condition_acces reservation horaires accessibilite_pmr "
    "restriction_gabarit station_deux_roues raccordement num_pdl date_mise_en_service "
    "observations date_maj cable_t2_attache"
).split()
DYNAMIC_COLUMNS = (
    "id_pdc_itinerance etat_pdc occupation_pdc horodatage etat_prise_type_2 "
    "etat_prise_type_combo_ccs etat_prise_type_chademo etat_prise_type_ef"
).split()

# OCPP connector standards (OCPI ConnectorType names) to the IRVE socket columns.
SOCKETS = {
    "DOMESTIC_E": "ef",
    "DOMESTIC_F": "ef",
    "IEC62196Type2": "2",
    "IEC_62196_T2": "2",
    "sType2": "2",
    "cType2": "2",
    "cCCS2": "combo_ccs",
    "IEC_62196_T2_COMBO": "combo_ccs",
    "cCCS1": "combo_ccs",
    "cCHAdeMO": "chademo",
    "CHADEMO": "chademo",
}
# OCPP connector status to the IRVE dynamic occupancy (en_service / hors_service apart).
OCCUPANCY = {
    "Available": "libre",
    "Occupied": "occupe",
    "Preparing": "occupe",
    "Charging": "occupe",
    "SuspendedEV": "occupe",
    "SuspendedEVSE": "occupe",
    "Finishing": "occupe",
    "Reserved": "reserve",
}
OUT_OF_SERVICE = frozenset({"Faulted", "Unavailable"})


class IrveIncomplete(InvalidInput):
    """The network, a site or a point lacks a fact the IRVE files require."""

    def __init__(self, missing: list[MissingItem]) -> None:
        lines = "; ".join(f"{m.scope}: {', '.join(m.missing)}" for m in missing)
        super().__init__(
            f"IRVE export incomplete: {lines}", missing=[m.model_dump() for m in missing]
        )
        self.missing = missing


@dataclass(frozen=True)
class _Network:
    operator: IrveOperator | None
    sites: list[Site]
    stations: dict[int, list[Station]]
    site_details: dict[int, IrveSiteDetails]
    point_details: dict[tuple[str, int], IrvePointDetails]


async def _network(session: AsyncSession) -> _Network:
    """The points in service: stations not yet commissioned are left out of the files."""
    stations: dict[int, list[Station]] = {}
    for station in await assets.list_stations(session):
        if station.commissioned:
            stations.setdefault(station.site_id, []).append(station)
    sites = [s for s in await assets.list_sites(session) if stations.get(s.id)]
    return _Network(
        await descriptions.get_operator(session),
        sites,
        stations,
        await descriptions.all_site_details(session),
        await descriptions.all_point_details(session),
    )


def missing_facts(net: _Network, dynamic: bool = False) -> list[MissingItem]:
    """Every fact the export lacks, per scope; empty when the export can be made."""
    missing: list[MissingItem] = []
    if net.operator is None:
        missing.append(MissingItem(scope="network", missing=["operator identity"]))
    for site in net.sites:
        lacks = []
        if not dynamic:
            if net.site_details.get(site.id) is None:
                lacks.append("open-data description")
            if not site.address.strip():
                lacks.append("address")
            if site.latitude is None or site.longitude is None:
                lacks.append("coordinates")
        if lacks:
            missing.append(MissingItem(scope=f"site {site.id} ({site.name})", missing=lacks))
        for station in net.stations[site.id]:
            for evse in station.evses:
                point_lacks = []
                if not dynamic and (station.id, evse.evse_id) not in net.point_details:
                    point_lacks.append("open-data description (payment, tariff, booking)")
                if not evse.connectors:
                    point_lacks.append("connectors")
                if point_lacks:
                    scope = f"point {station.id} EVSE {evse.evse_id}"
                    missing.append(MissingItem(scope=scope, missing=point_lacks))
    return missing


def _point_id(net: _Network, site: Site, station: Station, evse: Evse) -> str:
    assert net.operator is not None
    details = net.point_details.get((station.id, evse.evse_id))
    if details is not None and details.afirev_id:
        return compact(details.afirev_id)
    site_code = _site_code(net, site)
    return compact(
        point_afirev_id(net.operator.afirev_operator_id, f"{site_code}{station.id}{evse.evse_id}")
    )


def _site_code(net: _Network, site: Site) -> str:
    details = net.site_details.get(site.id)
    return (details.station_code if details and details.station_code else None) or f"{site.id:04d}"


async def static_csv(session: AsyncSession, today: date) -> str:
    """The static file; raises IrveIncomplete when a required fact is missing."""
    net = await _network(session)
    missing = missing_facts(net)
    if missing:
        raise IrveIncomplete(missing)
    return _csv(STATIC_COLUMNS, [row for site in net.sites for row in _site_rows(net, site, today)])


def _site_rows(net: _Network, site: Site, today: date) -> list[dict[str, str]]:
    op, details = net.operator, net.site_details[site.id]
    assert op is not None
    points = [(station, evse) for station in net.stations[site.id] for evse in station.evses]
    station_part = {
        "nom_amenageur": op.installer_name,
        "siren_amenageur": op.installer_siren,
        "contact_amenageur": op.installer_email,
        "nom_operateur": op.operator_name,
        "contact_operateur": op.operator_email,
        "telephone_operateur": op.operator_phone or "",
        "nom_enseigne": op.brand,
        "id_station_itinerance": compact(
            station_afirev_id(op.afirev_operator_id, _site_code(net, site))
        ),
        "id_station_local": str(site.id),
        "nom_station": site.name,
        "implantation_station": details.implantation,
        "adresse_station": " ".join(p for p in (site.address, site.town) if p),
        "code_insee_commune": details.insee_code,
        "coordonneesXY": f"[{site.longitude:.6f},{site.latitude:.6f}]",
        "nbre_pdc": str(len(points)),
        "condition_acces": details.access_condition,
        "horaires": details.opening_hours,
        "accessibilite_pmr": details.accessibility_pmr,
        "restriction_gabarit": details.gauge_restriction,
        "station_deux_roues": _bool(details.two_wheelers),
        "raccordement": details.grid_connection,
        "num_pdl": details.delivery_point or "",
        "date_mise_en_service": details.commissioned_on.isoformat(),
        "observations": details.observations or "",
        "date_maj": today.isoformat(),
    }
    return [{**station_part, **_point_part(net, site, station, evse)} for station, evse in points]


def _point_part(net: _Network, site: Site, station: Station, evse: Evse) -> dict[str, str]:
    point = net.point_details[(station.id, evse.evse_id)]
    kinds = {SOCKETS.get(c.standard, "autre") for c in evse.connectors}
    return {
        "id_pdc_itinerance": _point_id(net, site, station, evse),
        "id_pdc_local": f"{station.id}/{evse.evse_id}",
        "puissance_nominale": f"{evse.max_power_kw:g}",
        **{f"prise_type_{k}": _bool(k in kinds) for k in ("ef", "2", "combo_ccs", "chademo")},
        "prise_type_autre": _bool("autre" in kinds),
        "gratuit": _bool(point.free_of_charge),
        "paiement_acte": _bool(point.pay_per_use),
        "paiement_cb": _bool(point.pay_by_card),
        "paiement_autre": _bool(point.pay_other),
        "tarification": point.tariff or "",
        "reservation": _bool(point.bookable),
        "cable_t2_attache": ""
        if point.t2_cable_attached is None
        else _bool(point.t2_cable_attached),
    }


async def dynamic_csv(session: AsyncSession, now: datetime) -> str:
    """The dynamic file: each point's state now, as its station last reported it."""
    net = await _network(session)
    missing = missing_facts(net, dynamic=True)
    if missing:
        raise IrveIncomplete(missing)
    rows = []
    for site in net.sites:
        for station in net.stations[site.id]:
            for evse in station.evses:
                rows.append(_dynamic_row(net, site, station, evse, now))
    return _csv(DYNAMIC_COLUMNS, rows)


def _dynamic_row(
    net: _Network, site: Site, station: Station, evse: Evse, now: datetime
) -> dict[str, str]:
    reported = [c.status_at for c in evse.connectors if c.status_at is not None]
    state, occupancy = _point_state([c.status for c in evse.connectors], station.online)
    row = {
        "id_pdc_itinerance": _point_id(net, site, station, evse),
        "etat_pdc": state,
        "occupation_pdc": occupancy,
        "horodatage": _timestamp(max(reported) if reported and station.online else now),
    }
    for kind in ("2", "combo_ccs", "chademo", "ef"):
        socket = [c for c in evse.connectors if SOCKETS.get(c.standard) == kind]
        row[f"etat_prise_type_{kind}"] = _socket_state(socket, station.online) if socket else ""
    return row


def _point_state(statuses: list[str], online: bool) -> tuple[str, str]:
    """(etat_pdc, occupation_pdc): out of contact or unreported is `inconnu`, not a guess."""
    if not online or all(s == "Unknown" for s in statuses):
        return "inconnu", "inconnu"
    if all(s in OUT_OF_SERVICE for s in statuses):
        return "hors_service", "inconnu"
    taken = [OCCUPANCY[s] for s in statuses if OCCUPANCY.get(s) in ("occupe", "reserve")]
    if taken:
        return "en_service", taken[0]
    return "en_service", "libre" if "Available" in statuses else "inconnu"


def _socket_state(connectors: list[Connector], online: bool) -> str:
    if not online or all(c.status == "Unknown" for c in connectors):
        return "inconnu"
    if all(c.status in OUT_OF_SERVICE for c in connectors):
        return "hors_service"
    return "fonctionnel"


def _timestamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S%z")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def missing_report(session: AsyncSession) -> list[MissingItem]:
    return missing_facts(await _network(session))
