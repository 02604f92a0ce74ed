"""The timer side of fault detection: silent stations, stuck transactions, meters going back,
calmed boot loops.

Every `period_s` the watchdog takes a snapshot (stations' liveness, active transactions with
their last meter sample and register reading, open tickets of the causes it watches), asks
the pure `sweep` what changed, and applies the verdicts. "Now" comes from the injected clock;
the period is wall time, so that an accelerated or frozen clock is polled at a steady pace.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Station
from evhub.charging.models import Transaction
from evhub.charging.state import TransactionState
from evhub.clock import Clock
from evhub.maintenance import service
from evhub.maintenance.detectors import (
    ActiveTransaction,
    Clearance,
    Finding,
    Liveness,
    LivenessPolicy,
    TicketKey,
    Verdict,
    boot_loop_over,
    liveness_verdict,
    regression_verdict,
    stuck_since,
    stuck_verdict,
)
from evhub.maintenance.models import TicketCause
from evhub.settings import Settings
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.maintenance")

WATCHED = (
    TicketCause.OFFLINE,
    TicketCause.STUCK_TRANSACTION,
    TicketCause.METER_REGRESSION,
    TicketCause.BOOT_LOOP,
)


@dataclass(frozen=True)
class WatchdogPolicy:
    liveness: LivenessPolicy
    stuck_after_s: float = 900.0
    boot_loop_window_s: float = 600.0
    period_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WatchdogPolicy:
        return cls(
            liveness=LivenessPolicy(
                heartbeat_interval_s=settings.heartbeat_interval_s,
                missed_heartbeats=settings.offline_after_missed_heartbeats,
                disconnect_grace_s=settings.offline_grace_s,
            ),
            stuck_after_s=settings.stuck_transaction_after_s,
            boot_loop_window_s=settings.boot_loop_window_s,
            period_s=settings.watchdog_period_s,
        )


@dataclass(frozen=True)
class OpenTicket:
    key: TicketKey
    last_seen: datetime
    transaction_id: int | None = None


@dataclass(frozen=True)
class Snapshot:
    stations: list[Liveness]
    transactions: list[ActiveTransaction]
    open_tickets: list[OpenTicket]


def sweep(snapshot: Snapshot, now: datetime, policy: WatchdogPolicy) -> list[Verdict]:
    """What the watchdog must do now: open tickets for new conditions, close the ones over."""
    open_keys = {t.key for t in snapshot.open_tickets}
    verdicts: list[Verdict] = []
    for station in snapshot.stations:
        verdict = liveness_verdict(station, now, policy.liveness)
        if isinstance(verdict, Finding) and verdict.key not in open_keys:
            verdicts.append(verdict)
        elif isinstance(verdict, Clearance) and verdict.key in open_keys:
            verdicts.append(verdict)
    for tx in snapshot.transactions:
        for finding in (stuck_verdict(tx, now, policy.stuck_after_s), regression_verdict(tx, now)):
            if isinstance(finding, Finding) and finding.key not in open_keys:
                verdicts.append(finding)
    verdicts.extend(_clearances(snapshot, now, policy))
    return verdicts


def _clearances(snapshot: Snapshot, now: datetime, policy: WatchdogPolicy) -> list[Clearance]:
    """Transaction tickets whose transaction ended or is metered again; boot loops calmed."""
    active = {tx.transaction_id: tx for tx in snapshot.transactions}
    online = {s.station_id for s in snapshot.stations if s.online}
    done: list[Clearance] = []
    for ticket in snapshot.open_tickets:
        cause = ticket.key.cause
        if cause in (TicketCause.STUCK_TRANSACTION, TicketCause.METER_REGRESSION):
            tx = active.get(ticket.transaction_id or -1)
            if tx is None:
                done.append(Clearance(ticket.key, now, "transaction ended"))
            elif cause == TicketCause.STUCK_TRANSACTION:
                if stuck_since(tx, now, policy.stuck_after_s) is None:
                    at = tx.last_sample_at or now
                    done.append(Clearance(ticket.key, at, "transaction metered again"))
        elif cause == TicketCause.BOOT_LOOP and ticket.key.station_id in online:
            if boot_loop_over(ticket.last_seen, now, policy.boot_loop_window_s):
                done.append(Clearance(ticket.key, now, "no boot for a whole window"))
    return done


async def take_snapshot(session: AsyncSession) -> Snapshot:
    stations = [
        Liveness(station_id, online, last_seen_at)
        for station_id, online, last_seen_at in await session.execute(
            select(Station.id, Station.online, Station.last_seen_at).order_by(Station.id)
        )
    ]
    transactions = await _active_transactions(session)
    tickets = [
        OpenTicket(
            TicketKey(t.station_id, TicketCause(t.cause), t.evse_id, t.connector_id),
            t.last_seen,
            t.transaction_id,
        )
        for t in await service.open_tickets(session, WATCHED)
    ]
    return Snapshot(stations, transactions, tickets)


async def _active_transactions(session: AsyncSession) -> list[ActiveTransaction]:
    """Active transactions with their newest sample time and energy register reading.

    Columns of the transaction rows, which every write of samples keeps: aggregating the
    samples instead read every stored sample of every active transaction at each sweep.
    """
    tx = Transaction
    rows = await session.execute(
        select(
            tx.id,
            tx.station_id,
            tx.evse_id,
            tx.started_at,
            tx.meter_start_wh,
            tx.meter_last_wh,
            tx.sample_last_at,
            tx.register_last_wh,
        )  # fmt: skip
        .where(tx.state == TransactionState.ACTIVE)
        .order_by(tx.id)
    )
    return [
        ActiveTransaction(
            row.id,
            row.station_id,
            row.evse_id,
            row.started_at,
            row.sample_last_at,
            row.register_last_wh,
            max(row.meter_start_wh, row.meter_last_wh or 0),
        )
        for row in rows
    ]


class Watchdog:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: WatchdogPolicy) -> None:
        self.uow = uow
        self.clock = clock
        self.policy = policy

    async def run(self) -> None:
        while True:
            await self.check_once()
            await asyncio.sleep(self.policy.period_s)

    async def check_once(self) -> list[Verdict]:
        # "Now" is read before the snapshot: whatever happened before it is then in the
        # snapshot, so a sample committed meanwhile is never judged missing at a later now.
        now = self.clock.now()
        async with self.uow() as session:
            snapshot = await take_snapshot(session)
        verdicts = sweep(snapshot, now, self.policy)
        for verdict in verdicts:
            await self._apply(verdict)
        return verdicts

    async def _apply(self, verdict: Verdict) -> None:
        try:
            async with self.uow() as session:
                ticket = await service.apply(session, verdict, self.clock.now())
        except Exception:  # one bad verdict (e.g. a station deleted meanwhile) spares the rest
            log.exception("event=watchdog_verdict_failed key=%s", verdict.key)
            return
        if ticket is not None:
            log.info(
                "station=%s event=ticket_%s cause=%s ticket=%s",
                ticket.station_id,
                "opened" if isinstance(verdict, Finding) else "closed",
                ticket.cause,
                ticket.id,
            )
