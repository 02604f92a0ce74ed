"""Charge detail records: issued once per ended transaction, never edited, corrected by credit.

A CDR is built from what is stored of the transaction (its meter readings, its token, its
EVSE and site) and the tariff valid at its start, whose body is kept in the CDR (OCPI 2.2.1
§10.3.1 `tariffs`: the tariff as it was). It is written with its `cdr.issued` event in one
transaction; a partial unique index allows one CDR per transaction's end, whatever the
redeliveries. A correction credits the CDR (a credit CDR with negated totals referring to it,
§10.3.1 `credit`, `credit_reference_id`) and issues a new one; rows are refused UPDATE and
DELETE by a database trigger.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.billing import ocmf
from evhub.billing.models import CdrRecord
from evhub.billing.periods import Reading, charging_periods
from evhub.billing.pricing import CdrPeriods, Cost, Costs, price
from evhub.billing.service import EvseRef, Party, get_tariff, tariff_for
from evhub.billing.tariff import ChargingPeriod, Tariff
from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.charging.samples import ENERGY_REGISTER
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.events import emit

SESSION, CREDIT, CORRECTION = "session", "credit", "correction"


@dataclass(frozen=True)
class Correction:
    """What a correction changes: the tariff that prices it, the energy measured, or neither
    (the same facts priced again, e.g. after a tariff was set up for the site)."""

    reason: str
    tariff_id: str | None = None
    energy_wh: int | None = None


async def issue_for_transaction(
    session: AsyncSession, now: datetime, party: Party, transaction_pk: int
) -> CdrRecord:
    """The CDR of an ended transaction, issued now unless it exists (a redelivered event)."""
    existing = await _session_cdr(session, transaction_pk)
    if existing is not None:
        return existing
    tx = await charging.get_transaction(session, transaction_pk)
    if tx.stopped_at is None:
        raise Conflict(f"transaction {transaction_pk} has not ended")
    record = await _build(session, now, party, tx, SESSION)
    return await _issue(session, now, record)


async def correct(
    session: AsyncSession, now: datetime, party: Party, cdr_id: int, change: Correction
) -> tuple[CdrRecord, CdrRecord]:
    """Credit the CDR and issue its replacement; (credit, new)."""
    original = await get_cdr(session, cdr_id)
    if original.origin == CREDIT:
        raise Conflict(f"CDR {cdr_id} is a credit: correct the CDR it credits")
    credited = await session.scalar(select(CdrRecord.id).where(CdrRecord.credit_of == cdr_id))
    if credited is not None:
        raise Conflict(f"CDR {cdr_id} is already credited by CDR {credited}")
    credit = await _issue(session, now, _credit(original, party, now, change.reason))
    tx = await charging.get_transaction(session, original.transaction_pk)
    tariff = await get_tariff(session, change.tariff_id) if change.tariff_id else None
    fresh = await _build(session, now, party, tx, CORRECTION, tariff, change.energy_wh)
    fresh.replaces = original.id
    fresh.reason = change.reason
    return credit, await _issue(session, now, fresh)


async def get_cdr(session: AsyncSession, cdr_id: int) -> CdrRecord:
    record = await session.get(CdrRecord, cdr_id)
    if record is None:
        raise NotFound(f"CDR {cdr_id} not found")
    return record


def cdrs_query(driver_id: int | None = None, transaction_pk: int | None = None) -> Select[Any]:
    query = select(CdrRecord).order_by(CdrRecord.id.desc())
    if driver_id is not None:
        query = query.where(CdrRecord.driver_id == driver_id)
    if transaction_pk is not None:
        query = query.where(CdrRecord.transaction_pk == transaction_pk)
    return query


@dataclass(frozen=True)
class CdrTotal:
    """What a report sums of a CDR (its body is not read)."""

    site_id: int
    driver_id: int | None
    currency: str
    total_excl_vat: Decimal


async def totals_of_charges_started(
    session: AsyncSession, site_ids: Sequence[int], start: datetime, end: datetime
) -> list[CdrTotal]:
    """The totals of every CDR of the charges started in [start, end) at these sites, credits
    (negative totals) and corrections included: a month's charges as billed now."""
    query = select(
        CdrRecord.site_id, CdrRecord.driver_id, CdrRecord.currency, CdrRecord.total_excl_vat
    ).where(
        CdrRecord.site_id.in_(site_ids),
        CdrRecord.start_date_time >= start,
        CdrRecord.start_date_time < end,
    )
    rows = await session.execute(query.order_by(CdrRecord.id))
    return [CdrTotal(site, driver, currency, total) for site, driver, currency, total in rows]


def ocpi_cdr(record: CdrRecord) -> dict[str, Any]:
    """The CDR as an OCPI 2.2.1 CDR object (§10.3.1), for pushing to the token's eMSP."""
    return dict(record.body)


async def ocpi_cdr_of(session: AsyncSession, cdr_id: str) -> dict[str, Any] | None:
    """The OCPI CDR object of CDR `cdr_id` (as `cdr.issued` names it), None when unknown:
    what roaming pushes to the eMSP of a partner's token."""
    if not cdr_id.isdigit():
        return None
    record = await session.get(CdrRecord, int(cdr_id))
    return ocpi_cdr(record) if record is not None else None


async def _session_cdr(session: AsyncSession, transaction_pk: int) -> CdrRecord | None:
    return await session.scalar(
        select(CdrRecord).where(
            CdrRecord.transaction_pk == transaction_pk, CdrRecord.origin == SESSION
        )
    )


async def _issue(session: AsyncSession, now: datetime, record: CdrRecord) -> CdrRecord:
    session.add(record)
    await session.flush()
    emit(
        session, "cdr.issued", now,
        cdr_id=record.id, transaction_id=record.transaction_pk, driver_id=record.driver_id,
        total_incl_vat=str(record.total_incl_vat), total_excl_vat=str(record.total_excl_vat),
        currency=record.currency, credit_of=record.credit_of,
    )  # fmt: skip
    return record


async def _build(
    session: AsyncSession,
    now: datetime,
    party: Party,
    tx: Transaction,
    origin: str,
    tariff: Tariff | None = None,
    energy_wh: int | None = None,
) -> CdrRecord:
    assert tx.stopped_at is not None
    station = await assets.get_station(session, tx.station_id)
    site = await assets.get_site(session, station.site_id)
    token = await accounts.find_token(session, tx.id_token) if tx.id_token else None
    driver_id = token.driver_id if token else None
    if tariff is None:
        tariff = await tariff_for(
            session, site.id, EvseRef(tx.station_id, tx.evse_id), driver_id, tx.started_at
        )
    tz = ZoneInfo(site.timezone)
    readings = await _readings(session, tx, energy_wh)
    periods = charging_periods(
        tx.started_at, tx.stopped_at, readings, tariff.elements if tariff else [], tz
    )
    currency = tariff.currency if tariff else site.currency
    costs = price(tariff, CdrPeriods(periods, tx.stopped_at, tx.started_at), tz) if tariff else None
    signed = await _signed(session, tx.id)
    ocpi_id = uuid.uuid4().hex
    body = {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "id": ocpi_id,
        "start_date_time": _ocpi_time(tx.started_at),
        "end_date_time": _ocpi_time(tx.stopped_at),
        "session_id": str(tx.id),
        "cdr_token": _token(party, tx.id_token, token.type if token else None),
        "auth_method": "WHITELIST" if token else "AUTH_REQUEST",
        "cdr_location": _location(site, station, tx),
        "currency": currency,
        "tariffs": [tariff.model_dump(mode="json", exclude_defaults=True)] if tariff else [],
        "charging_periods": [p.model_dump(mode="json", exclude_none=True) for p in periods],
        **_totals(costs, periods),
        "credit": False,
        "last_updated": _ocpi_time(now),
    }
    if signed is not None:
        body["signed_data"] = signed.ocpi
    total = costs.total_cost if costs else Cost(Decimal(0), Decimal(0))
    return CdrRecord(
        ocpi_id=ocpi_id, origin=origin, transaction_pk=tx.id, driver_id=driver_id,
        token_uid=tx.id_token, site_id=site.id, station_id=tx.station_id, evse_id=tx.evse_id,
        tariff_id=tariff.id if tariff else None, start_date_time=tx.started_at,
        end_date_time=tx.stopped_at, currency=currency, total_excl_vat=total.excl_vat,
        total_incl_vat=total.incl_vat, total_energy_kwh=Decimal(str(body["total_energy"])),
        total_time_h=Decimal(str(body["total_time"])),
        total_parking_time_h=Decimal(str(body["total_parking_time"])), body=body,
        signed_data=signed.data if signed else None,
        signed_public_key=signed.public_key if signed else None,
        signature_valid=signed.valid if signed else None, reason="", issued_at=now,
    )  # fmt: skip


async def _readings(session: AsyncSession, tx: Transaction, energy_wh: int | None) -> list[Reading]:
    """The register from meter start to meter stop; with a corrected `energy_wh`, every rise
    scaled so that the session delivers that much (its shape in time kept)."""
    assert tx.stopped_at is not None
    values = await charging.meter_values_of(session, tx.id)
    readings = [Reading(tx.started_at, tx.meter_start_wh)]
    readings += [
        Reading(v.timestamp, round(v.value))
        for v in values
        if v.measurand == ENERGY_REGISTER and not v.phase
    ]
    readings.append(Reading(tx.stopped_at, tx.meter_stop_wh or tx.meter_start_wh))
    if energy_wh is None:
        return readings
    if energy_wh < 0:
        raise InvalidInput("a corrected energy cannot be negative")
    measured = tx.energy_wh
    if measured <= 0:
        return [readings[0], Reading(tx.stopped_at, tx.meter_start_wh + energy_wh)]
    scale = Decimal(energy_wh) / Decimal(measured)
    return [
        Reading(r.at, tx.meter_start_wh + round((r.register_wh - tx.meter_start_wh) * scale))
        for r in readings
    ]


@dataclass(frozen=True)
class _Signed:
    data: str
    public_key: str
    valid: bool | None
    ocpi: dict[str, Any]


async def _signed(session: AsyncSession, transaction_pk: int) -> _Signed | None:
    """The signed readings of the transaction (OCPI 2.2.1 §10.4.8 SignedData); the one closing
    the transaction (Transaction.End, else the last) is the one verified and kept."""
    values = await charging.signed_values_of(session, transaction_pk)
    if not values:
        return None
    ending = [v for v in values if v.context == "Transaction.End"] or values
    last = ending[-1]
    key = next((v.public_key for v in reversed(values) if v.public_key), "")
    ocpi = {
        "encoding_method": (last.encoding_method or "OCMF")[:36],
        "public_key": key[:512] or None,
        "signed_values": [
            {"nature": v.context[:32], "plain_data": "", "signed_data": v.data[:5000]}
            for v in values
        ],
    }
    return _Signed(last.data, key, ocmf.verify(last.data, key), ocpi)


def _credit(original: CdrRecord, party: Party, now: datetime, reason: str) -> CdrRecord:
    ocpi_id = uuid.uuid4().hex
    body = dict(original.body)
    for name in _COSTS:
        if body.get(name) is not None:
            body[name] = {k: -v for k, v in body[name].items()}
    body |= {
        "id": ocpi_id, "credit": True, "credit_reference_id": original.ocpi_id,
        "last_updated": _ocpi_time(now),
    }  # fmt: skip
    return CdrRecord(
        ocpi_id=ocpi_id, origin=CREDIT, transaction_pk=original.transaction_pk,
        credit_of=original.id, driver_id=original.driver_id, token_uid=original.token_uid,
        site_id=original.site_id, station_id=original.station_id, evse_id=original.evse_id,
        tariff_id=original.tariff_id, start_date_time=original.start_date_time,
        end_date_time=original.end_date_time, currency=original.currency,
        total_excl_vat=-original.total_excl_vat, total_incl_vat=-original.total_incl_vat,
        total_energy_kwh=original.total_energy_kwh, total_time_h=original.total_time_h,
        total_parking_time_h=original.total_parking_time_h, body=body,
        signed_data=original.signed_data, signed_public_key=original.signed_public_key,
        signature_valid=original.signature_valid, reason=reason, issued_at=now,
    )  # fmt: skip


_COSTS = (
    "total_cost", "total_fixed_cost", "total_energy_cost", "total_time_cost",
    "total_parking_cost", "total_reservation_cost",
)  # fmt: skip


def _totals(costs: Costs | None, periods: list[ChargingPeriod]) -> dict[str, Any]:
    """The totals of §10.3.1: priced ones from the engine; unpriced (no tariff), the volumes
    alone at zero cost."""
    if costs is None:
        from_periods = {
            kind: sum(
                (d.volume for p in periods for d in p.dimensions if d.type == kind), Decimal(0)
            )
            for kind in ("ENERGY", "TIME", "PARKING_TIME")
        }
        zero = _price(Cost(Decimal(0), Decimal(0)))
        return {
            "total_cost": zero, "total_energy": float(from_periods["ENERGY"]),
            "total_time": float(from_periods["TIME"] + from_periods["PARKING_TIME"]),
            "total_parking_time": float(from_periods["PARKING_TIME"]),
        }  # fmt: skip
    return {
        "total_cost": _price(costs.total_cost),
        "total_fixed_cost": _price(costs.total_fixed_cost),
        "total_energy": float(costs.total_energy),
        "total_energy_cost": _price(costs.total_energy_cost),
        "total_time": float(costs.total_time),
        "total_time_cost": _price(costs.total_time_cost),
        "total_parking_time": float(costs.total_parking_time),
        "total_parking_cost": _price(costs.total_parking_cost),
        "total_reservation_cost": _price(costs.total_reservation_cost),
    }


def _price(cost: Cost) -> dict[str, float]:
    return {"excl_vat": float(cost.excl_vat), "incl_vat": float(cost.incl_vat)}


def _token(party: Party, uid: str | None, token_type: str | None) -> dict[str, Any]:
    """OCPI 2.2.1 §10.4.5 CdrToken; a token this operator issued is its own contract."""
    ocpi_type = "APP_USER" if token_type == "Central" else "RFID"
    value = (uid or "UNKNOWN")[:36]
    return {
        "country_code": party.country_code, "party_id": party.party_id, "uid": value,
        "type": ocpi_type, "contract_id": value,
    }  # fmt: skip


def _location(site: Any, station: Any, tx: Transaction) -> dict[str, Any]:
    """OCPI 2.2.1 §10.4.4 CdrLocation, from the site and the EVSE and connector of the session
    (coordinates only when the site has them)."""
    evse = next((e for e in station.evses if e.evse_id == tx.evse_id), None)
    connector = next(
        (c for c in (evse.connectors if evse else []) if c.connector_id == tx.connector_id), None
    )
    dc = evse is not None and evse.current_type == "DC"
    standard = connector.standard if connector else ""
    power = (
        "DC" if dc else ("AC_1_PHASE" if evse is not None and evse.phases == 1 else "AC_3_PHASE")
    )
    location = {
        "id": str(site.id), "name": site.name, "address": site.address or "-",
        "city": site.town or "-", "country": _alpha3(site.country),
        "evse_uid": f"{tx.station_id}-{tx.evse_id}"[:36],
        "evse_id": f"{tx.station_id}*{tx.evse_id}"[:48],
        "connector_id": str(tx.connector_id),
        "connector_standard": _STANDARDS.get(standard, "IEC_62196_T2"),
        "connector_format": "CABLE" if dc else "SOCKET",
        "connector_power_type": power,
    }  # fmt: skip
    if site.latitude is not None and site.longitude is not None:
        location["coordinates"] = {
            "latitude": f"{site.latitude:.6f}",
            "longitude": f"{site.longitude:.6f}",
        }
    return location


# OCPP connector standards as stored, to OCPI 2.2.1 ConnectorType (§8.4.11).
_STANDARDS = {
    "IEC62196Type2": "IEC_62196_T2", "IEC62196Type2Combo": "IEC_62196_T2_COMBO",
    "CCS": "IEC_62196_T2_COMBO", "CHAdeMO": "CHADEMO", "IEC62196Type1": "IEC_62196_T1",
    "Domestic": "DOMESTIC_F",
}  # fmt: skip
_ALPHA3 = {"FR": "FRA", "DE": "DEU", "BE": "BEL", "NL": "NLD", "ES": "ESP", "IT": "ITA"}


def _alpha3(country: str) -> str:
    """OCPI locations name countries in ISO 3166-1 alpha-3."""
    return _ALPHA3.get(country.upper(), country.upper())


def _ocpi_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
