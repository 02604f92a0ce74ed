"""The closed loop: re-plan a site on arrivals, departures, declared needs and a timer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Evse, Station
from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.errors import StationUnavailable
from evhub.events import Event
from evhub.events.relay import Consumer
from evhub.planning import caps
from evhub.planning.demand import FleetDemand, HistoryDefaults
from evhub.planning.dispatch import dispatch
from evhub.planning.evse_limits import InForceTable, LimitJournal
from evhub.planning.live import (
    EvseKey,
    LastSolve,
    SitePlan,
    SiteSnapshot,
    plan_site,
    snapshot_site,
)
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.planning")

# A car's draw is compared with its limit only once the limit has been in force this long.
SETTLE_S = 120.0
# An EVSE whose station refused a profile is tried again after this long.
REFUSED_RETRY_S = 300.0
TRIGGERS = frozenset(
    {
        "transaction.started",
        "transaction.ended",
        "need.declared",
        "vehicle.telemetry",
        "station.connected",
        "evse.capped",
        "site.grid_limit_changed",
        "prices.imported",
        "carsharing.v2x_settings_changed",
    }
)
# A TxProfile is valid this long unless renewed (halfway through, by the timer's plans).
PROFILE_VALIDITY_S = 900.0
RATE_UNIT_KEY = "ChargingScheduleAllowedChargingRateUnit"  # OCPP 1.6 §9.4


class PlanningLoop:
    """Owns each site's current plan and what each EVSE has been told."""

    def __init__(
        self,
        uow: UnitOfWork,
        control: ChargerControl,
        clock: Clock,
        slot_minutes: float = 5.0,
        interval_s: float = 60.0,
        time_limit_s: float = 2.0,
        profile_validity_s: float | None = PROFILE_VALIDITY_S,
        fleet: FleetDemand | None = None,
        leads: Callable[[int], bool] = lambda _site_id: True,
        consumer_name: str = "planning.triggers",
    ) -> None:
        self.uow, self.control, self.clock = uow, control, clock
        self.fleet = fleet
        self.slot_minutes, self.interval_s, self.time_limit_s = (
            slot_minutes,
            interval_s,
            time_limit_s,
        )
        self.profile_validity_s = profile_validity_s
        # With several nodes, one plans each site (its leader); every node sees the triggers.
        self.leads = leads
        self.consumer_name = consumer_name
        self.journal = LimitJournal(uow)
        self.histories = HistoryDefaults()
        self.plans: dict[int, SitePlan] = {}
        self.in_force = InForceTable()
        # EVSEs whose station refused a profile or could not be reached, and when: they keep
        # their allowance (uncontrolled) until a retry is due or their session changes.
        self.refused: dict[EvseKey, datetime] = {}
        self.peaks: dict[int, tuple[date, float]] = {}
        self._site_of: dict[str, int] = {}
        self._dirty: set[int] = set()
        self._planned_at: dict[int, datetime] = {}  # when each site was last planned
        self._last_solve: dict[int, LastSolve] = {}  # sites are planned one at a time
        self._wake = asyncio.Event()
        self._to_send: dict[int, tuple[SitePlan, frozenset[EvseKey]]] = {}
        self._sending: set[int] = set()  # sites whose sender is running
        self._send_wake = asyncio.Event()
        self._units_to_read: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._timer())
            group.create_task(self._work())
            group.create_task(self._dispatcher())
            group.create_task(self._read_rate_units())

    async def restore(self) -> None:
        """Rebuild what each EVSE was told from the table and plan every site concerned, so
        that stations still out of reach count at what they may be applying. Every station's
        site is read in one query first (5,000 stations: 0.13 s of CPU), not station by
        station at its first event (about 1.1 ms each: some 5.5 s as 5,000 come back)."""
        self.in_force = await self.journal.rebuild(self.clock.now())
        async with self.uow() as s:
            rows = await s.execute(select(Station.id, Station.site_id))
            self._site_of.update({sid: site for sid, site in rows if site is not None})
        for station_id in {sid for sid, _ in self.in_force}:
            site_id = await self._site(station_id)
            if site_id is not None:
                self.request(site_id)

    def request(self, site_id: int) -> None:
        self._dirty.add(site_id)
        self._wake.set()

    def consumer(self) -> Consumer:
        """The planner's triggers, from the event log. At least once is enough: an event
        delivered twice re-plans its site twice, and a plan depends only on the site's state."""
        return Consumer(self.consumer_name, self.on_event, TRIGGERS, per_node=True)

    async def take_over(self, site_id: int) -> None:
        """This node now leads the site: what its EVSEs were told comes from the table (the
        previous leader's journal), and the site is planned at once."""
        rebuilt = await self.journal.rebuild(self.clock.now())
        for key, in_force in rebuilt.items():
            if await self._site(key[0]) == site_id:
                self.in_force[key] = in_force
        self.request(site_id)

    async def on_event(self, event: Event) -> None:
        if event.data.get("site_id") is not None:  # a zone's prices name no site
            self.request(int(event.data["site_id"]))
        if "station_id" not in event.data:
            return
        station_id = str(event.data["station_id"])
        if not self.leads(await self._site(station_id) or 0):
            return  # another node plans that site and tells its stations
        if event.kind == "station.connected":
            version = event.data.get("ocpp_version")
            self._forget_station(station_id, None if version is None else str(version))
        elif "evse_id" in event.data:  # a new or ended session: try that EVSE again
            self.refused.pop((station_id, int(event.data["evse_id"])), None)
        site_id = await self._site(station_id)
        if site_id is not None:
            self.request(site_id)

    def _forget_station(self, station_id: str, ocpp_version: str | None) -> None:
        """A (re)connected station may or may not have kept its profiles: tell it everything
        again, counting the old limits as still in force until then (lowered first, across
        the site). Re-sent rather than read back: a profile with the same id replaces the
        installed one (1.6 §5.16.2, 2.0.1 K01.FR.05), so re-sending corrects every case in one
        round trip, whereas reading needs 2.0.1 GetChargingProfiles (K09), answered later by
        ReportChargingProfiles, or 1.6 GetCompositeSchedule (§5.7), which gives only the
        combined schedule of one connector and not the profiles that make it. Only a 1.6
        station is asked its schedule units (`ocpp_version` as its connection event says,
        looked up when it does not)."""
        for key in self.in_force.keys_of((station_id,)):
            self.in_force[key] = replace(self.in_force[key], kind="unknown")
        if self.refused:
            self.refused = {k: t for k, t in self.refused.items() if k[0] != station_id}
        if ocpp_version in (None, "1.6"):
            self._units_to_read.put_nowait((station_id, ocpp_version))

    async def _read_rate_units(self) -> None:
        """Ask each (re)connected 1.6 station which schedule units it accepts (§9.4), apart
        from the listener so that a slow station delays nobody; never inside a transaction."""
        while True:
            station_id, version = await self._units_to_read.get()
            if version is None:  # a query per station only when its event did not say
                async with self.uow() as s:
                    version = await s.scalar(
                        select(Station.ocpp_version).where(Station.id == station_id)
                    )
            if version != "1.6":
                continue
            try:
                result = await self.control.get_config(station_id, [RATE_UNIT_KEY])
            except StationUnavailable:
                continue
            except Exception as exc:  # a malformed reply must not stop the planner
                log.warning("station=%s event=rate_units_unread error=%r", station_id, exc)
                continue
            keys = result.detail.get("configuration_key") or []
            units = next((k.get("value") for k in keys if k.get("key") == RATE_UNIT_KEY), None)
            if not units:
                continue
            async with self.uow() as s:
                await caps.record_rate_units(s, station_id, str(units), self.clock.now())
            # A limit in a unit it does not take is sent again in the right one (dispatch).
            self.refused = {k: t for k, t in self.refused.items() if k[0] != station_id}
            site_id = await self._site(station_id)
            if site_id is not None:
                self.request(site_id)

    async def _site(self, station_id: str) -> int | None:
        if station_id not in self._site_of:
            async with self.uow() as s:
                site = await s.scalar(select(Station.site_id).where(Station.id == station_id))
            if site is None:
                return None
            self._site_of[station_id] = site
        return self._site_of[station_id]

    async def _timer(self) -> None:
        """Re-plan each site `interval_s` after its last plan, by this timer or by an event.

        Each site comes due at its own time, so a node's sites are not all planned, and their
        profiles all sent, at the same moment of every interval (at 5,000 stations the burst
        of 200 plans at once was what the stations' round trips queued behind)."""
        while True:
            now = self.clock.now()
            for site_id, at in list(self._planned_at.items()):
                if (now - at).total_seconds() >= self.interval_s:
                    self._planned_at[site_id] = now  # due again an interval on, at the latest
                    self.request(site_id)
            waits = [
                self.interval_s - (now - at).total_seconds() for at in self._planned_at.values()
            ]
            await self.clock.sleep(max(0.001, min(waits, default=self.interval_s)))

    async def _work(self) -> None:
        await self.restore()  # before the first plan; events queue up meanwhile
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                site_id = self._dirty.pop()
                if not self.leads(site_id):
                    continue
                try:
                    await self.replan(site_id)
                except Exception:
                    log.exception("site=%s event=replan_failed", site_id)

    async def preview(self, site_id: int) -> SitePlan:
        """A plan of the site as it is now, neither kept nor sent."""
        site_plan, _, _ = await self._compute(site_id)
        return site_plan

    async def replan(self, site_id: int) -> SitePlan:
        """Plan the site and publish the plan; the dispatcher sends what changed. A slow or
        silent station delays the sending of its site's limits, never the planning."""
        site_plan, connected, now = await self._compute(site_id)
        if site_plan.status != "optimal":
            log.warning("site=%s event=plan status=%s algorithm=%s", site_id, site_plan.status,
                        site_plan.algorithm)  # fmt: skip
        self.plans[site_id] = site_plan
        self._planned_at[site_id] = now
        floor = self._peak_today(site_id, now)
        first_slot_kw = sum(a.limit_kw for a in site_plan.allocations)
        self.peaks[site_id] = (now.date(), max(floor, first_slot_kw))
        self._to_send[site_id] = (site_plan, connected)
        self._send_wake.set()
        return site_plan

    async def _dispatcher(self) -> None:
        """Sends the latest plan of each site: the sites at once, each site's plans one at a
        time, so that what a site's stations were told always comes from one plan (a plan
        superseded while waiting is never sent) and a station that does not answer delays
        its own site only. One sender for all sites waited the response timeout of every
        silent station before any other site's limits went out."""
        async with asyncio.TaskGroup() as group:
            while True:
                await self._send_wake.wait()
                self._send_wake.clear()
                for site_id in [k for k in self._to_send if k not in self._sending]:
                    self._sending.add(site_id)
                    group.create_task(self._send_site(site_id))

    async def _send_site(self, site_id: int) -> None:
        """The site's latest plans until none is waiting (no await between the last check
        and leaving: a plan published meanwhile finds no sender and starts one)."""
        try:
            while site_id in self._to_send:
                site_plan, connected = self._to_send.pop(site_id)
                now = self.clock.now()
                try:
                    sent = await dispatch(
                        self.control, site_plan, self.in_force, self.refused, connected, now,
                        self.journal, self.profile_validity_s,
                    )  # fmt: skip
                except Exception:  # the next plan tries again; the other sites go on
                    log.exception("site=%s event=dispatch_failed", site_id)
                    continue
                log.info(
                    "site=%s event=dispatched sessions=%d capacity_kw=%.1f solve_ms=%.1f sent=%d",
                    site_id, len(site_plan.allocations), site_plan.capacity_kw,
                    site_plan.solve_ms, sent,
                )  # fmt: skip
        finally:
            self._sending.discard(site_id)

    async def _compute(self, site_id: int) -> tuple[SitePlan, frozenset[EvseKey], datetime]:
        now = self.clock.now()
        async with self.uow() as s:
            connected = frozenset(
                (sid, evse)
                for sid, evse in await self._evse_keys(s, site_id)
                if self.control.is_connected(sid) and not self._refused(sid, evse, now)
            )
            snapshot = await snapshot_site(
                s, site_id, now, connected, self.slot_minutes, fleet=self.fleet,
                histories=self.histories,
            )  # fmt: skip
        stations = snapshot.station_ids
        known = {k: self.in_force[k].counted_kw(now) for k in self.in_force.keys_of(stations)}
        snapshot = replace(snapshot, known_kw=known)
        previous = self._settled_limits(snapshot, now)
        floor = self._peak_today(site_id, now)
        last = self._last_solve.setdefault(site_id, LastSolve())
        site_plan = await anyio.to_thread.run_sync(
            lambda: plan_site(
                snapshot, previous, self.slot_minutes, time_limit_s=self.time_limit_s,
                peak_floor_kw=floor, previous_solve=last,
            )
        )  # fmt: skip
        return site_plan, connected, now

    def _refused(self, station_id: str, evse_id: int, now: datetime) -> bool:
        at = self.refused.get((station_id, evse_id))
        return at is not None and now - at < timedelta(seconds=REFUSED_RETRY_S)

    def _peak_today(self, site_id: int, now: datetime) -> float:
        day, peak = self.peaks.get(site_id, (now.date(), 0.0))
        return peak if day == now.date() else 0.0

    def _settled_limits(self, snapshot: SiteSnapshot, now: datetime) -> dict[int, float]:
        """Each car's limit that has been in force long enough for a meter value to show
        whether the car takes it all (the closed loop compares the two)."""
        settled = now - timedelta(seconds=SETTLE_S)
        limits = {}
        for r in snapshot.running:
            current = self.in_force.get(r.evse.key)
            if current and current.kind == f"tx:{r.ocpp_transaction_id}" and current.since:
                if current.since <= settled:
                    limits[r.tx_pk] = current.kw
        return limits

    @staticmethod
    async def _evse_keys(session: AsyncSession, site_id: int) -> list[EvseKey]:
        rows = await session.execute(
            select(Evse.station_id, Evse.evse_id)
            .join(Station, Station.id == Evse.station_id)
            .where(Station.site_id == site_id)
        )
        return [(sid, evse) for sid, evse in rows]
