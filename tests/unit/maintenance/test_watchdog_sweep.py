"""The watchdog's decisions over a snapshot (no database, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evhub.maintenance.detectors import (
    ActiveTransaction,
    Clearance,
    Finding,
    Liveness,
    LivenessPolicy,
    TicketKey,
)
from evhub.maintenance.models import TicketCause
from evhub.maintenance.watchdog import OpenTicket, Snapshot, WatchdogPolicy, sweep

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
POLICY = WatchdogPolicy(
    LivenessPolicy(heartbeat_interval_s=60, missed_heartbeats=3, disconnect_grace_s=30),
    stuck_after_s=900,
    boot_loop_window_s=600,
)
OFFLINE = TicketKey("CP-1", TicketCause.OFFLINE)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_silent_station_gets_one_ticket_only() -> None:
    silent = Snapshot([Liveness("CP-1", True, T0)], [], [])
    (verdict,) = sweep(silent, s(181), POLICY)
    assert isinstance(verdict, Finding) and verdict.key == OFFLINE

    already = Snapshot([Liveness("CP-1", True, T0)], [], [OpenTicket(OFFLINE, T0)])
    assert sweep(already, s(181), POLICY) == []


def test_a_station_heard_again_closes_its_offline_ticket() -> None:
    back = Snapshot([Liveness("CP-1", True, s(200))], [], [OpenTicket(OFFLINE, T0)])
    (verdict,) = sweep(back, s(205), POLICY)
    assert verdict == Clearance(OFFLINE, s(200), "station back online")
    healthy = Snapshot([Liveness("CP-1", True, s(200))], [], [])
    assert sweep(healthy, s(205), POLICY) == []


def test_stuck_transactions_open_and_close() -> None:
    key = TicketKey("CP-1", TicketCause.STUCK_TRANSACTION, 1)
    stuck = ActiveTransaction(5, "CP-1", 1, T0, None)
    (verdict,) = sweep(Snapshot([], [stuck], []), s(901), POLICY)
    assert isinstance(verdict, Finding) and verdict.transaction_id == 5

    metered = ActiveTransaction(5, "CP-1", 1, T0, s(950))
    ticket = OpenTicket(key, s(901), 5)
    (verdict,) = sweep(Snapshot([], [metered], [ticket]), s(960), POLICY)
    assert verdict == Clearance(key, s(950), "transaction metered again")

    (verdict,) = sweep(Snapshot([], [], [ticket]), s(960), POLICY)
    assert verdict == Clearance(key, s(960), "transaction ended")


def test_a_boot_loop_is_over_after_a_quiet_window_online() -> None:
    key = TicketKey("CP-1", TicketCause.BOOT_LOOP)
    ticket = OpenTicket(key, T0)
    online = [Liveness("CP-1", True, s(599))]
    assert sweep(Snapshot(online, [], [ticket]), s(599), POLICY) == []
    online = [Liveness("CP-1", True, s(600))]
    (verdict,) = sweep(Snapshot(online, [], [ticket]), s(600), POLICY)
    assert isinstance(verdict, Clearance) and verdict.key == key


def test_a_meter_going_back_opens_one_ticket_until_the_transaction_ends() -> None:
    key = TicketKey("CP-1", TicketCause.METER_REGRESSION, 1)
    back = ActiveTransaction(5, "CP-1", 1, T0, s(60), register_wh=1200, peak_wh=1500)
    (verdict,) = sweep(Snapshot([], [back], []), s(61), POLICY)
    assert isinstance(verdict, Finding) and verdict.key == key

    ticket = OpenTicket(key, s(61), 5)
    assert sweep(Snapshot([], [back], [ticket]), s(62), POLICY) == []
    (verdict,) = sweep(Snapshot([], [], [ticket]), s(70), POLICY)
    assert verdict == Clearance(key, s(70), "transaction ended")
