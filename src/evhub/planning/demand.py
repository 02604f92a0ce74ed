"""The demand model: for each running transaction, the energy still wanted and the departure.

Sources, best first: what the driver declared (app/API), a reservation's declaration or, for a
shared car, its next car-sharing booking (through the `FleetDemand` port), what a connected car
reported through its maker's cloud (`telemetry`: its SoC, and the target and departure set in
its app), the car's own ISO 15118 need (OCPP 2.0.1 NotifyEVChargingNeeds), the station's state
of charge with a known battery size (the car's own, else the catalogue model of the driver's
car), and else what cars at this site usually do at this hour (median energy and stay of past
sessions of the same user group).
The source travels with the plan so an operator sees why.
A car that may also feed the grid carries its battery bounds (`v2x_needs`); its energy is then
what its battery still lacks for the target, measured in the battery. Those bounds read the
state of charge in the same order: the connected car's report first (brought to now by the
meter, `v2x_soc`), then the station's, then the one the car gave with its V2X bounds; a shared
car's bounds follow the operator's fleet choice (`FleetDeclaration.v2x`).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import vehicles
from evhub.accounts.models import Driver, Token
from evhub.assets.models import Station
from evhub.charging.models import Transaction
from evhub.errors import Conflict, InvalidInput
from evhub.planning import telemetry, v2x_needs, v2x_soc
from evhub.planning.models import ChargingNeed, V2xNeed
from evhub.planning.telemetry import CarReport
from evhub.planning.v2x_needs import DriverV2x, V2xBounds
from evhub.reservations.service import DeclaredNeed

SOURCE_RANK = {"driver": 4, "reservation": 3, "carsharing": 3, "telemetry": 2, "iso15118": 1}
DEFAULT_ENERGY_KWH = 20.0
DEFAULT_STAY = timedelta(hours=4)
HISTORY_DAYS = 60
MIN_HISTORY = 5
# A car's report counts for a charge when it is this recent, and, when it came before the charge
# began (the car plugged in, then the driver badged), no older than this at its start.
TELEMETRY_FRESH = timedelta(hours=12)
TELEMETRY_BEFORE_START = timedelta(minutes=30)


@dataclass(frozen=True)
class Need:
    transaction_pk: int
    remaining_kwh: float
    departure_at: datetime
    source: str
    declared_kwh: float
    v2x: V2xBounds | None = None  # set when the car may discharge now


@dataclass(frozen=True)
class PluggedVehicle:
    """A running transaction as the fleet port sees it: who charges, where, how fast at most."""

    transaction_pk: int
    id_token: str | None
    station_id: str
    evse_id: int
    power_kw: float  # the EVSE's usable power within the site's limit
    delivered_kwh: float
    soc_pct: float | None  # the last state of charge the meter reported


@dataclass(frozen=True)
class FleetDeclaration:
    """A shared car's need: the energy still to add now, by the start of its next booking;
    `v2x` the operator's vehicle-to-grid choice for it (consent, floor, and the SoC that holds
    the booking's energy as target), in place of a driver's."""

    energy_kwh: float
    departure_at: datetime
    battery_kwh: float | None
    v2x: DriverV2x | None = None


class FleetDemand(Protocol):
    """The needs of the shared cars among the plugged vehicles, by transaction (the others are
    left out). Implemented by car-sharing and wired by the composition root."""

    async def __call__(
        self, session: AsyncSession, plugged: Sequence[PluggedVehicle], now: datetime
    ) -> Mapping[int, FleetDeclaration]: ...


@dataclass(frozen=True)
class HistoryDefault:
    energy_kwh: float
    stay: timedelta
    samples: int


async def declare(
    session: AsyncSession,
    transaction_pk: int,
    now: datetime,
    source: str,
    energy_kwh: float | None = None,
    departure_at: datetime | None = None,
    battery_kwh: float | None = None,
) -> ChargingNeed:
    """Record a need; a lower-ranked source never overwrites a higher-ranked one."""
    tx = await session.get(Transaction, transaction_pk)
    if tx is None or tx.state != "active":
        raise Conflict(f"transaction {transaction_pk} is not running")
    if departure_at is not None and departure_at <= now and source == "driver":
        raise InvalidInput("departure must be in the future")
    row = await session.get(ChargingNeed, transaction_pk)
    if row is not None and SOURCE_RANK[row.source] > SOURCE_RANK[source]:
        if battery_kwh is not None:
            row.battery_kwh = battery_kwh
        return row
    values = {"energy_kwh": energy_kwh, "departure_at": departure_at, "battery_kwh": battery_kwh,
              "source": source, "updated_at": now}  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ChargingNeed).values(transaction_pk=transaction_pk, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["transaction_pk"], set_=values)
    )
    refreshed = await session.get(ChargingNeed, transaction_pk, populate_existing=True)
    assert refreshed is not None
    return refreshed


async def history_default(
    session: AsyncSession, site_id: int, tz: ZoneInfo, user_group: str | None, now: datetime
) -> HistoryDefault:
    """Median energy and stay of the site's past sessions that began near this local hour,
    of the same user group when there are enough of them."""
    local_hour = now.astimezone(tz).hour
    query = (
        select(
            Transaction.started_at,
            Transaction.stopped_at,
            Transaction.meter_start_wh,
            Transaction.meter_stop_wh,
            Driver.user_group,
        )  # fmt: skip
        .join(Station, Station.id == Transaction.station_id)
        .outerjoin(Token, Token.id == Transaction.token_id)
        .outerjoin(Driver, Driver.id == Token.driver_id)
        .where(
            Station.site_id == site_id,
            Transaction.state == "ended",
            Transaction.started_at >= now - timedelta(days=HISTORY_DAYS),
        )
    )
    rows = (await session.execute(query)).all()
    near = [
        r
        for r in rows
        if r.stopped_at
        and min(
            abs(r.started_at.astimezone(tz).hour - local_hour),
            24 - abs(r.started_at.astimezone(tz).hour - local_hour),
        )
        <= 1
    ]
    grouped = [r for r in near if user_group and r.user_group == user_group]
    chosen = grouped if len(grouped) >= MIN_HISTORY else near
    if len(chosen) < MIN_HISTORY:
        return HistoryDefault(DEFAULT_ENERGY_KWH, DEFAULT_STAY, len(chosen))
    energy = statistics.median(((r.meter_stop_wh or 0) - r.meter_start_wh) / 1000 for r in chosen)
    stay = statistics.median((r.stopped_at - r.started_at).total_seconds() for r in chosen)
    return HistoryDefault(max(energy, 0.0), timedelta(seconds=stay), len(chosen))


class HistoryDefaults:
    """`history_default` kept a while per site, user group and local hour: sixty days of a
    site's sessions move its medians by the day, not by the minute, and reading them at every
    plan of every site grew with the history kept."""

    def __init__(self, keep_s: float = 600.0) -> None:
        self.keep_s = keep_s
        self._kept: dict[tuple[int, str | None, int], tuple[datetime, HistoryDefault]] = {}

    async def of(
        self, session: AsyncSession, site_id: int, tz: ZoneInfo, group: str | None, now: datetime
    ) -> HistoryDefault:
        key = (site_id, group, now.astimezone(tz).hour)
        kept = self._kept.get(key)
        if kept is not None and 0 <= (now - kept[0]).total_seconds() < self.keep_s:
            return kept[1]
        value = await history_default(session, site_id, tz, group, now)
        self._kept[key] = (now, value)
        return value


def resolve(
    tx: Transaction,
    declared: ChargingNeed | None,
    history: HistoryDefault,
    now: datetime,
    known_battery_kwh: float | None = None,
    v2x: V2xNeed | None = None,
    reported_soc_pct: float | None = None,
    owner: DriverV2x | None = None,
) -> Need:
    """One transaction's need from the best source available (see the module's docstring);
    `known_battery_kwh` is the driver's car's battery, when the car did not tell its own;
    `reported_soc_pct` the connected car's SoC now and `owner` a fleet's V2X choice, both
    for the V2X bounds (`v2x_needs.bounds`)."""
    delivered_kwh = tx.energy_wh / 1000
    departure = None
    energy = None
    source = "history"
    if declared is not None:
        departure, energy, source = declared.departure_at, declared.energy_kwh, declared.source
    battery = (declared.battery_kwh if declared else None) or known_battery_kwh
    if energy is None and tx.soc_last_pct is not None and battery:
        energy = delivered_kwh + battery * max(0.0, 100 - tx.soc_last_pct) / 100
        source = "soc" if declared is None or declared.energy_kwh is None else source
    if energy is None:
        energy = history.energy_kwh
    if departure is None:
        departure = max(tx.started_at + history.stay, now + timedelta(minutes=15))
    bounds = v2x_needs.bounds(tx, v2x, reported_soc_pct, battery, owner)
    if bounds is not None:
        return Need(tx.id, bounds.energy_kwh, departure, "v2x", delivered_kwh + bounds.energy_kwh,
                    bounds)  # fmt: skip
    return Need(tx.id, max(0.0, energy - delivered_kwh), departure, source, energy)


def from_booking(tx_pk: int, booking: DeclaredNeed, row: ChargingNeed | None) -> ChargingNeed:
    """A booking's declaration as a need, unless the driver said something since."""
    if row is not None and SOURCE_RANK[row.source] >= SOURCE_RANK["reservation"]:
        return row
    return ChargingNeed(
        transaction_pk=tx_pk,
        energy_kwh=booking.energy_kwh,
        departure_at=booking.departure_at,
        battery_kwh=row.battery_kwh if row else None,
        source="reservation",
    )


def from_fleet(tx: Transaction, fleet: FleetDeclaration, row: ChargingNeed | None) -> ChargingNeed:
    """A shared car's next booking as its need, unless the driver or a reservation said
    something. The need counts from now, so what was delivered already is added back."""
    if row is not None and SOURCE_RANK[row.source] >= SOURCE_RANK["carsharing"]:
        return row
    return ChargingNeed(
        transaction_pk=tx.id,
        energy_kwh=tx.energy_wh / 1000 + fleet.energy_kwh,
        departure_at=fleet.departure_at,
        battery_kwh=fleet.battery_kwh,
        source="carsharing",
    )


def report_for(tx: Transaction, reports: Sequence[CarReport], now: datetime) -> CarReport | None:
    """The one plugged-in car of the transaction's driver whose report belongs to this charge:
    tied to it when it arrived, or sent shortly before it began; None when none or several."""
    mine = [
        r
        for r in reports
        if r.reading.plugged_in
        and now - r.reading.measured_at <= TELEMETRY_FRESH
        and (
            r.transaction_pk == tx.id
            or (
                r.transaction_pk is None
                and tx.started_at - TELEMETRY_BEFORE_START <= r.reading.measured_at <= tx.started_at
            )
        )
    ]
    return mine[0] if len(mine) == 1 else None


def from_telemetry(
    tx: Transaction, report: CarReport, row: ChargingNeed | None, now: datetime
) -> ChargingNeed:
    """A connected car's report as its need, unless the driver, a reservation or a booking
    said something. What it lacks at its SoC, up to its app's target (else full), counts
    from what the charge had delivered when it spoke; a departure it does not give is kept
    from a lower source."""
    if row is not None and SOURCE_RANK[row.source] >= SOURCE_RANK["telemetry"]:
        return row
    reading = report.reading
    target = reading.target_soc_pct if reading.target_soc_pct is not None else 100.0
    then_kwh = (report.session_wh or 0) / 1000 if report.transaction_pk == tx.id else 0.0
    lacking = report.battery_kwh * max(0.0, target - reading.soc_pct) / 100
    departure = reading.departure_at
    departure = departure if departure is not None and departure > now else None
    return ChargingNeed(
        transaction_pk=tx.id,
        energy_kwh=then_kwh + lacking,
        departure_at=departure or (row.departure_at if row else None),
        battery_kwh=report.battery_kwh,
        source="telemetry",
    )


async def needs_of(
    session: AsyncSession,
    site_id: int,
    tz: ZoneInfo,
    transactions: Sequence[Transaction],
    now: datetime,
    bookings: Mapping[int, DeclaredNeed] | None = None,
    fleet: Mapping[int, FleetDeclaration] | None = None,
    histories: HistoryDefaults | None = None,
) -> list[Need]:
    """Each transaction's need; `bookings` maps a transaction to the booking it fulfils,
    `fleet` a shared car's transaction to its next booking's need; `histories` keeps the
    history defaults between calls (none: read each time)."""
    histories = histories or HistoryDefaults(keep_s=0)
    ids = [tx.id for tx in transactions]
    declared = {
        row.transaction_pk: row
        for row in (
            await session.execute(select(ChargingNeed).where(ChargingNeed.transaction_pk.in_(ids)))
        ).scalars()
    }
    rows = (
        await session.execute(
            select(Transaction.id, Driver.user_group, Driver.id)
            .join(Token, Token.id == Transaction.token_id)
            .join(Driver, Driver.id == Token.driver_id)
            .where(Transaction.id.in_(ids))
        )
    ).all()
    groups = {tx_id: group for tx_id, group, _ in rows}
    drivers = {tx_id: driver_id for tx_id, _, driver_id in rows}
    reports = await telemetry.reports_of(session, sorted(set(drivers.values())))
    tokens = {tx.id: tx.token_id for tx in transactions if tx.token_id is not None}
    batteries = await vehicles.batteries_by_token(session, list(set(tokens.values())))
    v2x = await v2x_needs.rows_of(session, ids)
    history: dict[str | None, HistoryDefault] = {}
    needs = []
    for tx in transactions:
        group = groups.get(tx.id)
        if group not in history:
            history[group] = await histories.of(session, site_id, tz, group, now)
        row = declared.get(tx.id)
        booking = (bookings or {}).get(tx.id)
        if booking is not None:
            row = from_booking(tx.id, booking, row)
        shared = (fleet or {}).get(tx.id)
        if shared is not None:
            row = from_fleet(tx, shared, row)
        mine = [r for r in reports if r.driver_id == drivers.get(tx.id)]
        report = report_for(tx, mine, now) if mine else None
        if report is not None:
            row = from_telemetry(tx, report, row, now)
        battery = batteries.get(tokens.get(tx.id, -1))
        reported = None
        if report is not None and tx.id in v2x:
            reported = await reported_soc(session, tx, report)
            battery = battery or report.battery_kwh
        owner = shared.v2x if shared is not None else None
        needs.append(
            resolve(tx, row, history[group], now, battery, v2x.get(tx.id), reported, owner)
        )
    return needs


async def reported_soc(session: AsyncSession, tx: Transaction, report: CarReport) -> float:
    """The connected car's SoC now: its report, and what the meter moved since."""
    since = max(report.reading.measured_at, tx.started_at)
    exported = await v2x_soc.exported_since_wh(session, tx, since)
    return v2x_soc.soc_now_pct(tx, report, exported)


async def report_of(session: AsyncSession, tx: Transaction, now: datetime) -> CarReport | None:
    """The connected car's report that belongs to this charge, if any (`report_for`)."""
    driver_id = await session.scalar(
        select(Token.driver_id).join(Transaction, Transaction.token_id == Token.id)
        .where(Transaction.id == tx.id)
    )  # fmt: skip
    if driver_id is None:
        return None
    return report_for(tx, await telemetry.reports_of(session, [driver_id]), now)
