"""The fault detection rules, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evhub.maintenance.detectors import (
    ActiveTransaction,
    BootLoopDetector,
    Clearance,
    Finding,
    Liveness,
    LivenessPolicy,
    TicketKey,
    liveness_verdict,
    not_ready_verdict,
    offline_since,
    regression_verdict,
    security_verdict,
    status_verdicts,
    stuck_verdict,
)
from evhub.maintenance.models import Severity, TicketCause

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
POLICY = LivenessPolicy(heartbeat_interval_s=60, missed_heartbeats=3, disconnect_grace_s=30)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_faulted_opens_a_fault_and_clears_unavailability() -> None:
    verdicts = status_verdicts("CP-1", 1, 1, "Faulted", T0, "GroundFailure", "relay")

    findings = [v for v in verdicts if isinstance(v, Finding)]
    clearances = [v for v in verdicts if isinstance(v, Clearance)]
    assert len(findings) == 1
    assert findings[0].key == TicketKey("CP-1", TicketCause.FAULTED, 1, 1)
    assert findings[0].severity == Severity.HIGH
    assert findings[0].detail == "GroundFailure relay"
    assert [c.key.cause for c in clearances] == [TicketCause.UNAVAILABLE]


def test_back_in_service_clears_every_status_cause() -> None:
    verdicts = status_verdicts("CP-1", 2, 1, "Charging", T0)
    assert all(isinstance(v, Clearance) for v in verdicts)
    assert {v.key.cause for v in verdicts} == {TicketCause.FAULTED, TicketCause.UNAVAILABLE}


def test_station_level_status_concerns_the_whole_station() -> None:
    (finding,) = [v for v in status_verdicts("CP-1", 0, 0, "Unavailable", T0) if
                  isinstance(v, Finding)]  # fmt: skip
    assert (finding.key.evse_id, finding.key.connector_id) == (None, None)


def test_security_events_that_only_inform_open_nothing() -> None:
    assert security_verdict("CP-1", "StartupOfTheDevice", T0) is None
    tamper = security_verdict("CP-1", "TamperDetectionActivated", T0)
    assert tamper is not None and tamper.severity == Severity.CRITICAL
    other = security_verdict("CP-1", "InvalidMessages", T0)
    assert other is not None and other.severity == Severity.MEDIUM


def test_a_connected_station_is_offline_after_the_missed_heartbeats() -> None:
    alive = Liveness("CP-1", True, T0)
    assert offline_since(alive, s(180), POLICY) is None
    assert offline_since(alive, s(181), POLICY) == T0


def test_a_disconnected_station_is_offline_after_the_grace_period() -> None:
    gone = Liveness("CP-1", False, T0)
    assert offline_since(gone, s(30), POLICY) is None
    assert offline_since(gone, s(31), POLICY) == T0
    assert offline_since(Liveness("CP-1", False, None), s(10_000), POLICY) is None


def test_liveness_verdicts() -> None:
    finding = liveness_verdict(Liveness("CP-1", True, T0), s(200), POLICY)
    assert isinstance(finding, Finding) and finding.ongoing and finding.started == T0
    back = liveness_verdict(Liveness("CP-1", True, s(250)), s(260), POLICY)
    assert isinstance(back, Clearance) and back.at == s(250)
    assert liveness_verdict(Liveness("CP-1", False, s(250)), s(260), POLICY) is None


def test_a_transaction_without_meter_values_gets_stuck() -> None:
    tx = ActiveTransaction(7, "CP-1", 2, T0, s(100))
    assert isinstance(stuck_verdict(tx, s(999), 900), Clearance)
    stuck = stuck_verdict(tx, s(1001), 900)
    assert isinstance(stuck, Finding)
    assert stuck.started == s(100) and stuck.transaction_id == 7
    assert stuck.key == TicketKey("CP-1", TicketCause.STUCK_TRANSACTION, 2)
    never_metered = ActiveTransaction(8, "CP-1", 1, T0, None)
    assert isinstance(stuck_verdict(never_metered, s(901), 900), Finding)


def test_a_register_below_an_earlier_reading_is_a_regression() -> None:
    def tx(register: int | None, peak: int | None) -> ActiveTransaction:
        return ActiveTransaction(3, "CP-1", 1, T0, s(60), register, peak)

    finding = regression_verdict(tx(1200, 1500), s(70))
    assert finding is not None and finding.transaction_id == 3
    assert finding.key == TicketKey("CP-1", TicketCause.METER_REGRESSION, 1)
    assert "1500 Wh to 1200 Wh" in finding.detail
    assert regression_verdict(tx(1500, 1500), s(70)) is None
    assert regression_verdict(tx(None, 1500), s(70)) is None


def test_three_boots_within_the_window_are_a_loop() -> None:
    detector = BootLoopDetector(count=3, window_s=600)
    assert detector.observe("CP-1", s(0)) is None
    assert detector.observe("CP-1", s(300)) is None
    assert detector.observe("CP-2", s(301)) is None
    loop = detector.observe("CP-1", s(599))
    assert loop is not None and loop.started == s(0) and loop.at == s(599)
    assert loop.key == TicketKey("CP-1", TicketCause.BOOT_LOOP)


def test_boots_spread_wider_than_the_window_are_no_loop() -> None:
    detector = BootLoopDetector(count=3, window_s=600)
    for t in (0, 400, 800, 1200):
        assert detector.observe("CP-1", s(t)) is None


def test_a_shared_car_not_ready_for_its_booking_is_one_ongoing_finding() -> None:
    at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    data: dict[str, object] = {
        "evse_id": 1, "transaction_id": 7, "plate": "GE-1", "booking_id": 3,
        "needed_kwh": 44.6, "reachable_kwh": 11.0, "starts_at": "09:00",
    }  # fmt: skip
    finding = not_ready_verdict("CP-1", data, at)
    assert finding.key == TicketKey("CP-1", TicketCause.VEHICLE_NOT_READY, 1)
    assert finding.ongoing and finding.transaction_id == 7 and "GE-1" in finding.detail
