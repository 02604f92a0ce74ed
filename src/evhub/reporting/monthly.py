"""The monthly report's figures, read from the database: per site, then per town and network.

The month runs from the first day 00:00 to the next month's first day in the report's time
zone; a month still under way stops at `now`. Every figure's method is in `figures.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Driver, Token
from evhub.assets.models import Evse, Site, Station, StatusRecord
from evhub.billing.lines import ReservationFees
from evhub.carsharing.models import CarBooking, CarBookingFee, FleetVehicle, Trip
from evhub.charging.models import Transaction
from evhub.errors import InvalidInput, NotFound
from evhub.maintenance.models import Ticket
from evhub.maintenance.uptime import availability_report
from evhub.reporting.figures import ScopeFigures
from evhub.reporting.revenue import (
    RevenueSources,
    charging_by_plan,
    partner_charging_by_plan,
    plan_fees_by_plan,
    reservation_fee,
    v2g_credits,
)
from evhub.reservations.models import Booking

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Month:
    """A calendar month in a time zone; `start` and `end` are UTC, so that differences are
    true durations (a month with a clock change has an hour more or less)."""

    label: str
    start: datetime
    end: datetime
    timezone: str

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.timezone))

    @classmethod
    def parse(cls, label: str, timezone: str) -> Month:
        match = MONTH_RE.match(label)
        if match is None:
            raise InvalidInput(f"month {label!r} is not YYYY-MM")
        year, month = int(match.group(1)), int(match.group(2))
        zone = ZoneInfo(timezone)
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return cls(label, start.astimezone(UTC), end.astimezone(UTC), timezone)


@dataclass
class MonthlyReport:
    month: Month
    until: datetime  # the end, or now for a month under way
    network: ScopeFigures
    towns: list[ScopeFigures]
    sites: list[ScopeFigures]
    whole_network: bool = True  # False: limited to a town, a site or a funder's towns


async def monthly_report(
    session: AsyncSession,
    month: Month,
    now: datetime,
    sources: RevenueSources,
    town: str | None = None,
    site_id: int | None = None,
    towns: Sequence[str] | None = None,
) -> MonthlyReport:
    """The month's figures of the sites matching every filter; `towns` limits them to those
    towns (a funder's), the network's totals included. `sources` prices what invoices bill."""
    if month.start >= now:
        raise InvalidInput(f"month {month.label} has not started")
    until = min(month.end, now)
    sites = await _sites(session, town, site_id, towns)
    if not sites:
        raise NotFound("no site matches the report's filters")
    fees = sources.reservation_fees
    figures = {site.id: await _site_figures(session, site, month, until, fees) for site in sites}
    site_ids = [s.id for s in sites]
    charging = await charging_by_plan(session, site_ids, month.start, until)
    for charged_site, amounts in charging.items():
        figures[charged_site].charging_by_plan = amounts
    credits = await v2g_credits(session, sources, site_ids, month.start, until, now)
    for credited_site, credited in credits.items():
        figures[credited_site].v2g_credits = credited
    report_av = await availability_report(session, month.start, until, now, site_id, None, town)
    for scope, av in report_av.sites:
        if scope.site_id in figures:  # the other towns' sites, when limited to some towns
            figures[scope.site_id].availability = av
    by_town: dict[str, ScopeFigures] = {}
    network = ScopeFigures("network", "", None, "network")
    for site in sites:
        f = figures[site.id]
        by_town.setdefault(site.town, ScopeFigures("town", site.town, None, "")).add(f)
        network.add(f)
    whole = town is None and site_id is None and towns is None
    if whole:  # what belongs to no site is the whole network's
        network.plan_fees_by_plan = await plan_fees_by_plan(session, sources, month.label, until)
        network.partner_charging_by_plan = await partner_charging_by_plan(
            session, sources, month.start, until
        )
    town_figures = [by_town[t] for t in sorted(by_town)]
    return MonthlyReport(month, until, network, town_figures, [figures[s.id] for s in sites], whole)


async def _sites(
    session: AsyncSession, town: str | None, site_id: int | None, towns: Sequence[str] | None
) -> list[Site]:
    query = select(Site).order_by(Site.town, Site.id)
    if town is not None:
        query = query.where(func.lower(Site.town) == town.lower())
    if towns is not None:
        query = query.where(func.lower(Site.town).in_([t.lower() for t in towns]))
    if site_id is not None:
        query = query.where(Site.id == site_id)
    return list((await session.execute(query)).scalars())


async def _site_figures(
    session: AsyncSession, site: Site, month: Month, until: datetime, fees: ReservationFees
) -> ScopeFigures:
    f = ScopeFigures("site", site.town, site.id, site.name)
    f.currencies = {site.currency}
    f.hours_in_month = (until - month.start).total_seconds() / 3600
    stations = list(
        (await session.scalars(select(Station.id).where(Station.site_id == site.id))).all()
    )
    f.points = int(
        await session.scalar(select(func.count(Evse.id)).where(Evse.station_id.in_(stations))) or 0
    )
    zone = ZoneInfo(month.timezone)
    _slot_hours(f, month.start, until, zone)
    await _sessions(session, f, stations, month.start, until, zone)
    f.charging_s = await _charging_seconds(session, stations, month.start, until)
    await _tickets(session, f, stations, month.start, until)
    await _bookings(session, f, site.id, month.start, until, fees)
    await _trips(session, f, site.id, month.start, until)
    return f


def _slot_hours(f: ScopeFigures, start: datetime, until: datetime, zone: ZoneInfo) -> None:
    for t, seconds in _hours(start, until):
        local = t.astimezone(zone)
        f.slot_hours[(local.weekday(), local.hour)] += seconds / 3600


def _hours(begin: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """[begin, end) cut at each hour, stepped in UTC so that a clock change neither doubles
    nor drops an hour (local hours start on UTC hours in whole-hour time zones)."""
    out = []
    t = begin.astimezone(UTC)
    while t < end:
        nxt = min(end.astimezone(UTC), t.replace(minute=0, second=0, microsecond=0) + HOUR)
        out.append((t, (nxt - t).total_seconds()))
        t = nxt
    return out


async def _sessions(
    session: AsyncSession,
    f: ScopeFigures,
    stations: list[str],
    start: datetime,
    until: datetime,
    zone: ZoneInfo,
) -> None:
    query = (
        select(Transaction, Token.driver_id, Driver.user_group)
        .outerjoin(Token, Token.id == Transaction.token_id)
        .outerjoin(Driver, Driver.id == Token.driver_id)
        .where(
            Transaction.station_id.in_(stations),
            Transaction.started_at >= start,
            Transaction.started_at < until,
        )
    )
    for tx, driver_id, group in await session.execute(query):
        f.sessions += 1
        f.energy_wh += tx.energy_wh
        f.daily_energy_wh[tx.started_at.astimezone(zone).date()] += tx.energy_wh
        key = f"driver:{driver_id}" if driver_id is not None else f"token:{tx.id_token}"
        f.drivers.setdefault(group or "unregistered", set()).add(key)
        _plugged(f, tx.started_at, min(tx.stopped_at or until, until), zone)


def _plugged(f: ScopeFigures, begin: datetime, end: datetime, zone: ZoneInfo) -> None:
    """Add a plugged interval, hour by local hour, to the total and the heat map."""
    for t, seconds in _hours(begin, end):
        local = t.astimezone(zone)
        f.plugged_s += seconds
        f.plugged_by_slot[(local.weekday(), local.hour)] += seconds


async def _charging_seconds(
    session: AsyncSession, stations: list[str], start: datetime, until: datetime
) -> float:
    """Connector-seconds in the OCPP state `Charging`: the last state before the month, then
    every report within it, each holding until the connector's next one."""
    key = (StatusRecord.station_id, StatusRecord.evse_id, StatusRecord.connector_id)
    before = (
        select(*key, func.max(StatusRecord.timestamp).label("at"))
        .where(StatusRecord.station_id.in_(stations), StatusRecord.timestamp < start)
        .group_by(*key)
        .subquery()
    )
    last_before = and_(
        StatusRecord.station_id == before.c.station_id,
        StatusRecord.evse_id == before.c.evse_id,
        StatusRecord.connector_id == before.c.connector_id,
        StatusRecord.timestamp == before.c.at,
    )
    within = and_(StatusRecord.timestamp >= start, StatusRecord.timestamp < until)
    rows = await session.execute(
        select(*key, StatusRecord.status, StatusRecord.timestamp)
        .outerjoin(before, last_before)
        .where(
            StatusRecord.station_id.in_(stations),
            StatusRecord.evse_id > 0,
            or_(within, before.c.at.is_not(None)),
        )
        .order_by(StatusRecord.timestamp, StatusRecord.id)
    )
    timelines: dict[tuple[str, int, int], list[tuple[datetime, str]]] = {}
    for station, evse, connector, status, at in rows:
        timelines.setdefault((station, evse, connector), []).append((max(at, start), status))
    total = 0.0
    for points in timelines.values():
        ends = [t for t, _ in points[1:]] + [until]
        total += sum(
            (e - t).total_seconds()
            for (t, status), e in zip(points, ends, strict=True)
            if status == "Charging"
        )
    return total


async def _tickets(
    session: AsyncSession, f: ScopeFigures, stations: list[str], start: datetime, until: datetime
) -> None:
    in_scope = Ticket.station_id.in_(stations)
    opened = await session.execute(
        select(Ticket.cause, func.count())
        .where(in_scope, Ticket.first_seen >= start, Ticket.first_seen < until)
        .group_by(Ticket.cause)
    )
    f.tickets_opened = Counter({cause: int(n) for cause, n in opened})
    closed = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Ticket.downtime_s), 0.0)).where(
                in_scope, Ticket.closed_at >= start, Ticket.closed_at < until
            )
        )
    ).one()
    f.tickets_closed, f.repair_s = int(closed[0]), float(closed[1] or 0.0)
    f.tickets_open_at_end = int(
        await session.scalar(
            select(func.count()).where(
                in_scope,
                Ticket.first_seen < until,
                or_(Ticket.closed_at.is_(None), Ticket.closed_at >= until),
            )
        )
        or 0
    )


async def _bookings(
    session: AsyncSession,
    f: ScopeFigures,
    site_id: int,
    start: datetime,
    until: datetime,
    fees: ReservationFees,
) -> None:
    """Bookings starting in the month, and the fees recorded on them at billing's prices."""
    rows = await session.execute(
        select(Booking.fee_rule, Booking.idle_minutes).where(
            Booking.site_id == site_id, Booking.starts_at >= start, Booking.starts_at < until
        )
    )
    for rule, idle_minutes in rows:
        f.bookings += 1
        if rule is not None:
            f.booking_fee_rules[rule] += 1
            currency, amount = reservation_fee(fees, rule, idle_minutes)
            f.reservation_fees[currency] = f.reservation_fees.get(currency, Decimal(0)) + amount


async def _trips(
    session: AsyncSession, f: ScopeFigures, site_id: int, start: datetime, until: datetime
) -> None:
    """Car-sharing trips ended in the month by cars based at the site, and their fees."""
    of_site = FleetVehicle.home_site_id == site_id
    trips = await session.execute(
        select(Trip.start_odometer_km, Trip.end_odometer_km)
        .join(FleetVehicle, FleetVehicle.id == Trip.vehicle_id)
        .where(of_site, Trip.ended_at >= start, Trip.ended_at < until)
    )
    for start_km, end_km in trips:
        f.trips += 1
        f.trip_km += max(0.0, (end_km or start_km) - start_km)
    fees = await session.execute(
        select(CarBookingFee.currency, func.sum(CarBookingFee.amount))
        .join(CarBooking, CarBooking.id == CarBookingFee.booking_id)
        .join(FleetVehicle, FleetVehicle.id == CarBooking.vehicle_id)
        .where(of_site, CarBookingFee.created_at >= start, CarBookingFee.created_at < until)
        .group_by(CarBookingFee.currency)
    )
    f.carsharing_fees = {currency: amount for currency, amount in fees}
