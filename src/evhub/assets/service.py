"""Sites, stations and connectors: registration, boot, status and liveness rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from evhub.assets.credentials import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from evhub.assets.models import Connector, Evse, Site, Station, StationEvent, StatusRecord
from evhub.deferred import INDEPENDENT, defer, memo
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.events import emit


@dataclass(frozen=True)
class EvseSpec:
    evse_id: int
    current_type: str = "AC"
    phases: int = 3
    max_power_kw: float = 22.0
    connectors: int = 1
    standard: str = "IEC62196Type2"


@dataclass(frozen=True)
class BootDecision:
    status: str
    interval_s: int


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}") from exc


async def create_site(
    session: AsyncSession,
    now: datetime,
    name: str,
    timezone: str,
    grid_limit_kw: float,
    **fields: object,
) -> Site:
    _check_timezone(timezone)
    if grid_limit_kw <= 0:
        raise InvalidInput("grid_limit_kw must be positive")
    site = Site(name=name, timezone=timezone, grid_limit_kw=grid_limit_kw, created_at=now, **fields)
    session.add(site)
    await session.flush()
    return site


async def get_site(session: AsyncSession, site_id: int) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return site


def sites_query() -> Select[Site]:
    """All sites in id order (a list route pages it)."""
    return select(Site).order_by(Site.id)


async def list_sites(session: AsyncSession) -> list[Site]:
    return list((await session.execute(sites_query())).scalars())


async def update_site(session: AsyncSession, site_id: int, now: datetime, **fields: object) -> Site:
    site = await get_site(session, site_id)
    if "timezone" in fields:
        _check_timezone(str(fields["timezone"]))
    limit = fields.get("grid_limit_kw")
    if isinstance(limit, int | float) and limit <= 0:
        raise InvalidInput("grid_limit_kw must be positive")
    before = site.grid_limit_kw
    tariff_before = site.tariff_id
    for key, value in fields.items():
        setattr(site, key, value)
    if limit is not None and limit != before:  # the planner re-plans the site at once
        emit(session, "site.grid_limit_changed", now, site_id=site_id, grid_limit_kw=limit,
             previous_kw=before)  # fmt: skip
    tariff_id = fields.get("tariff_id")
    if tariff_id is not None:
        await _check_tariff(session, str(tariff_id))
    if tariff_id != tariff_before and "tariff_id" in fields:  # the site's public tariff
        emit(session, "site.tariff_changed", now, site_id=site_id, tariff_id=tariff_id)
    return site


async def _check_tariff(session: AsyncSession, tariff_id: str) -> None:
    """The tariffs table's foreign key decides whether the tariff exists (billing owns it)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise InvalidInput(f"unknown tariff {tariff_id!r}") from exc


async def create_station(
    session: AsyncSession,
    now: datetime,
    station_id: str,
    site_id: int,
    password: str,
    evses: list[EvseSpec] | None = None,
    commissioned: bool = True,
) -> Station:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"password must be {MIN_LENGTH}-{MAX_LENGTH} characters (OCPP A00)")
    await get_site(session, site_id)
    if await session.get(Station, station_id) is not None:
        raise Conflict(f"station {station_id!r} exists already")
    station = Station(
        id=station_id,
        site_id=site_id,
        password_hash=hash_password(password),
        commissioned=commissioned,
        created_at=now,
    )
    for spec in evses or []:
        station.evses.append(_evse_from_spec(spec))
    session.add(station)
    await session.flush()
    return station


def _evse_from_spec(spec: EvseSpec) -> Evse:
    if spec.current_type not in ("AC", "DC"):
        raise InvalidInput("current_type must be AC or DC")
    evse = Evse(
        evse_id=spec.evse_id,
        current_type=spec.current_type,
        phases=spec.phases,
        max_power_kw=spec.max_power_kw,
    )
    for n in range(1, spec.connectors + 1):
        evse.connectors.append(Connector(connector_id=n, standard=spec.standard))
    return evse


async def get_station(session: AsyncSession, station_id: str) -> Station:
    result = await session.execute(
        select(Station)
        .where(Station.id == station_id)
        .options(selectinload(Station.evses).selectinload(Evse.connectors))
    )
    station = result.scalar_one_or_none()
    if station is None:
        raise NotFound(f"station {station_id!r} not found")
    return station


def stations_query(site_id: int | None = None) -> Select[Station]:
    """Stations (of a site) in id order with their EVSEs and connectors (a list route pages it)."""
    query = select(Station).options(selectinload(Station.evses).selectinload(Evse.connectors))
    if site_id is not None:
        query = query.where(Station.site_id == site_id)
    return query.order_by(Station.id)


async def list_stations(session: AsyncSession, site_id: int | None = None) -> list[Station]:
    return list((await session.execute(stations_query(site_id))).scalars())


async def set_commissioned(session: AsyncSession, station_id: str, commissioned: bool) -> Station:
    station = await get_station(session, station_id)
    station.commissioned = commissioned
    return station


async def authenticate_station(
    session: AsyncSession, station_id: str, password: str, key: bytes | None = None
) -> Station | None:
    """The station if `password` matches its stored hash (security profile 1/2)."""
    station = await session.get(Station, station_id)
    if station is None or not verify_password(password, station.password_hash, key):
        return None
    return station


# Per-message and per-connection updates as Core statements built once: an ORM-enabled
# UPDATE is built and goes through the ORM's bulk-update path at every execution (1.8 % of a
# loaded server's samples). A connected mark with its event: 230 against 605 us of CPU on
# PostgreSQL, 437 against 787 on SQLite (benchmarks/station_marks.py).
_STATIONS = cast(Table, Station.__table__)
_BY_ID = _STATIONS.c.id == bindparam("station_id")
_SEEN = bindparam("now", type_=_STATIONS.c.last_seen_at.type)
# They write no table whose rows a status report defers: they run with those rows deferred.
_ALONGSIDE = {INDEPENDENT: True}
_CONNECTED = (
    update(_STATIONS)
    .where(_BY_ID)
    .values(online=True, last_seen_at=_SEEN, ocpp_version=bindparam("ocpp_version"))
    .execution_options(**_ALONGSIDE)
)
_DISCONNECTED = (
    update(_STATIONS)
    .where(_BY_ID)
    .values(online=False, last_seen_at=_SEEN)
    .execution_options(**_ALONGSIDE)
)
_TOUCHED = (
    update(_STATIONS)
    .where(_BY_ID)
    .values(online=True, last_seen_at=_SEEN)
    .execution_options(**_ALONGSIDE)
)


async def mark_connected(
    session: AsyncSession, station_id: str, ocpp_version: str, online: bool, now: datetime
) -> None:
    if online:
        params = {"station_id": station_id, "now": now, "ocpp_version": ocpp_version}
        await session.execute(_CONNECTED, params)
    else:
        await session.execute(_DISCONNECTED, {"station_id": station_id, "now": now})
    kind = "station.connected" if online else "station.disconnected"
    emit(session, kind, now, station_id=station_id, ocpp_version=ocpp_version)


async def replace_password_hash(
    session: AsyncSession, station_id: str, stored: str, replacement: str
) -> bool:
    """Store `replacement` for a password that verified against `stored` (a hash of another
    scheme); unless the password changed meanwhile. Whether it was replaced."""
    result = await session.execute(
        update(Station)
        .where(Station.id == station_id, Station.password_hash == stored)
        .values(password_hash=replacement)
    )
    return bool(getattr(result, "rowcount", 0))


async def touch(session: AsyncSession, station_id: str, now: datetime) -> None:
    await session.execute(_TOUCHED, {"station_id": station_id, "now": now})


async def record_boot(
    session: AsyncSession,
    station_id: str,
    now: datetime,
    interval_s: int,
    vendor: str,
    model: str,
    serial_number: str | None = None,
    firmware_version: str | None = None,
    reason: str | None = None,
) -> BootDecision:
    """Store the identity a station reports; Pending until the operator commissions it."""
    station = await session.get(Station, station_id)  # its EVSEs are not needed here
    if station is None:
        raise NotFound(f"station {station_id!r} not found")
    station.vendor = vendor
    station.model = model
    station.serial_number = serial_number
    station.firmware_version = firmware_version
    station.last_boot_at = now
    station.last_seen_at = now
    station.boot_reason = reason
    station.registration_status = "Accepted" if station.commissioned else "Pending"
    emit(
        session,
        "station.booted",
        now,
        station_id=station_id,
        reason=reason,
        registration_status=station.registration_status,
    )
    return BootDecision(station.registration_status, interval_s)


# A status report's statements, Core and built once as the marks above: the ORM's way (a
# history row flushed by the connector's query, the connector loaded as an entity, its update
# flushed at commit) was 9 % of a loaded server's samples while every station reported a
# status within a few seconds (benchmarks/status_reports.py). The history row and the
# connector's update are deferred to the end of the transaction (`evhub.deferred`): a batch of
# the station writer sends each once for all its reports instead of a round trip per report;
# a query of the same transaction sends them first.
_HISTORY = cast(Table, StatusRecord.__table__)
_CONNECTORS = cast(Table, Connector.__table__)
_EVSES = cast(Table, Evse.__table__)
_RECORDED = _HISTORY.insert()
_CONNECTOR_STATE = (
    select(
        _CONNECTORS.c.id,
        _CONNECTORS.c.status,
        _CONNECTORS.c.error_code,
        _CONNECTORS.c.status_at,
    )
    .join(_EVSES, _EVSES.c.id == _CONNECTORS.c.evse_pk)
    .where(
        _EVSES.c.station_id == bindparam("station_id"),
        _EVSES.c.evse_id == bindparam("evse_id"),
        _CONNECTORS.c.connector_id == bindparam("connector_id"),
    )
    .execution_options(**_ALONGSIDE)  # the reports deferred before it are in the memo
)
_CONNECTOR_SET = (
    update(_CONNECTORS)
    .where(_CONNECTORS.c.id == bindparam("pk"))
    .values(
        status=bindparam("status"),
        error_code=bindparam("error_code"),
        status_at=bindparam("status_at", type_=_CONNECTORS.c.status_at.type),
    )
)


async def record_status(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    timestamp: datetime,
    now: datetime,
    error_code: str | None = None,
    info: str | None = None,
) -> bool:
    """Append to the status history; update the connector unless the report is older.

    Returns whether the current state changed. Reports queued offline arrive late: they go to
    the history in their own order but never overwrite a newer state. Evse 0 is the station:
    it keeps no current state, so each of its reports is published as a change.
    """
    report = {
        "station_id": station_id,
        "evse_id": evse_id,
        "connector_id": connector_id,
        "status": status,
        "error_code": error_code,
        "info": info,
    }
    defer(session, _RECORDED, report | {"timestamp": timestamp, "received_at": now})
    if evse_id == 0:
        _emit_status(session, report, timestamp, None)
        return False
    key = ("connector", station_id, evse_id, connector_id)
    decided = memo(session)  # an earlier report of this transaction, its update still deferred
    state = decided.get(key)
    if state is None:
        params = {"station_id": station_id, "evse_id": evse_id, "connector_id": connector_id}
        state = (await session.execute(_CONNECTOR_STATE, params)).first()
    if state is None:  # first report: the connector is created (stations describe themselves)
        connector = await _connector(session, station_id, evse_id, connector_id)
        previous, previous_error = connector.status, connector.error_code
        connector.status, connector.error_code, connector.status_at = status, error_code, timestamp
        await session.flush()  # written now: the entity holds nothing a later flush could undo
        pk = connector.id
    else:
        pk, previous, previous_error, status_at = state
        if status_at is not None and status_at > timestamp:
            return False
        values = {"pk": pk, "status": status, "error_code": error_code, "status_at": timestamp}
        defer(session, _CONNECTOR_SET, values)
    decided[key] = (pk, status, error_code, timestamp)
    changed = previous != status or previous_error != error_code
    if changed:
        _emit_status(session, report, timestamp, previous)
    return changed


def _emit_status(
    session: AsyncSession, report: dict[str, Any], at: datetime, previous: str | None
) -> None:
    emit(session, "status.changed", at, **report, previous=previous)


async def _connector(
    session: AsyncSession, station_id: str, evse_id: int, connector_id: int
) -> Connector:
    """The connector, created on first report (stations describe themselves)."""
    result = await session.execute(
        select(Connector)
        .join(Evse)
        .where(
            Evse.station_id == station_id,
            Evse.evse_id == evse_id,
            Connector.connector_id == connector_id,
        )
    )
    connector = result.scalar_one_or_none()
    if connector is not None:
        return connector
    evse = (
        await session.execute(
            select(Evse).where(Evse.station_id == station_id, Evse.evse_id == evse_id)
        )
    ).scalar_one_or_none()
    if evse is None:
        evse = Evse(station_id=station_id, evse_id=evse_id)
        session.add(evse)
        await session.flush()
    connector = Connector(evse_pk=evse.id, connector_id=connector_id)
    session.add(connector)
    await session.flush()
    return connector


async def record_station_event(
    session: AsyncSession,
    station_id: str,
    kind: str,
    status: str,
    now: datetime,
    detail: str = "",
    request_id: int | None = None,
    timestamp: datetime | None = None,
) -> None:
    session.add(
        StationEvent(
            station_id=station_id,
            kind=kind,
            status=status,
            detail=detail[:4000],
            request_id=request_id,
            timestamp=timestamp,
            received_at=now,
        )
    )
    emit(
        session,
        "station.event",
        now,
        station_id=station_id,
        category=kind,
        status=status,
        detail=detail[:500],
        timestamp=timestamp.isoformat() if timestamp else None,
    )


async def list_station_events(
    session: AsyncSession, station_id: str, kind: str | None = None, limit: int = 100
) -> list[StationEvent]:
    query = select(StationEvent).where(StationEvent.station_id == station_id)
    if kind is not None:
        query = query.where(StationEvent.kind == kind)
    query = query.order_by(StationEvent.received_at.desc(), StationEvent.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def status_history(
    session: AsyncSession, station_id: str, limit: int = 200
) -> list[StatusRecord]:
    query = (
        select(StatusRecord)
        .where(StatusRecord.station_id == station_id)
        .order_by(StatusRecord.timestamp, StatusRecord.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def count_online(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).where(Station.online.is_(True)))
    return int(result.scalar_one())


async def mark_all_offline(session: AsyncSession) -> None:
    """At start-up no station is connected to this node yet."""
    await session.execute(update(Station).values(online=False))


async def mark_offline_unless(session: AsyncSession, present: Select[str]) -> None:
    """At a node's start-up with several nodes: stations held by a live node stay online."""
    await session.execute(
        update(Station)
        .where(Station.online.is_(True), Station.id.not_in(present))
        .values(online=False)
    )


# Ids per statement when marking many stations at once (SQLite allows 32,766 parameters).
MARK_CHUNK = 1000


async def mark_lost(session: AsyncSession, station_ids: list[str], now: datetime) -> None:
    """Stations no longer served by their node (it died, or it is stopping): offline, each
    with its `station.disconnected`, as `mark_connected` writes them, in a statement per
    thousand stations rather than one per station."""
    for start in range(0, len(station_ids), MARK_CHUNK):
        chunk = station_ids[start : start + MARK_CHUNK]
        rows = await session.execute(
            update(Station)
            .where(Station.id.in_(chunk))
            .values(online=False, last_seen_at=now)
            .returning(Station.id, Station.ocpp_version)
            .execution_options(synchronize_session=False)
        )
        for station_id, version in rows:
            emit(session, "station.disconnected", now, station_id=station_id,
                 ocpp_version=version or "")  # fmt: skip
