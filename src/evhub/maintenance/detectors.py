"""Fault detection rules: plain functions over facts, no database and no clock of their own.

Each rule turns what is known now (an event, or a snapshot of a station or transaction) into
`Finding`s (a condition that opens or updates a ticket) and `Clearance`s (a condition that is
over, which closes the ticket of the same key if one is open).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from evhub.maintenance.models import Severity, TicketCause

# Connector states (OCPP 1.6 ChargePointStatus, 2.0.1 ConnectorStatusEnumType) that are faults;
# every other reported state (Available, Occupied, Charging, Reserved, ...) is in service.
STATUS_CAUSES = {"Faulted": TicketCause.FAULTED, "Unavailable": TicketCause.UNAVAILABLE}
STATUS_SEVERITY = {TicketCause.FAULTED: Severity.HIGH, TicketCause.UNAVAILABLE: Severity.MEDIUM}

# OCPP 2.0.1 Appendix 1 security events: the critical ones, and the ones that only inform
# (a normal start, a reset, a clock setting) and so open no ticket.
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FailedToAuthenticateAtCsms",
        "CsmsFailedToAuthenticate",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "AttemptedReplayAttacks",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
    }
)
INFORMATIONAL_SECURITY_EVENTS = frozenset(
    {"StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime", "FirmwareUpdated"}
)


@dataclass(frozen=True)
class TicketKey:
    """What identifies an open ticket. None EVSE/connector: the whole station."""

    station_id: str
    cause: TicketCause
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True)
class Finding:
    """The condition of `key` seen at `at`, going on since `since` (default: `at`).

    An `ongoing` finding is a periodic look at a lasting condition (a silent station): it opens
    a ticket if none is open but does not count as a new occurrence of an open one.
    """

    key: TicketKey
    severity: Severity
    at: datetime
    detail: str = ""
    transaction_id: int | None = None
    since: datetime | None = None
    ongoing: bool = False

    @property
    def started(self) -> datetime:
        return self.since if self.since is not None else self.at


@dataclass(frozen=True)
class Clearance:
    key: TicketKey
    at: datetime
    reason: str


Verdict = Finding | Clearance


def status_verdicts(
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    at: datetime,
    error_code: str | None = None,
    info: str | None = None,
) -> list[Verdict]:
    """A connector (evse 0: the station) reported `status`: clear the status causes it left,
    open the one it is in. Faulted then Unavailable closes the fault and opens unavailability,
    so that each ticket's downtime is the time spent in its own cause."""
    current = STATUS_CAUSES.get(status)
    evse, connector = (None, None) if evse_id == 0 else (evse_id, connector_id)
    verdicts: list[Verdict] = [
        Clearance(TicketKey(station_id, cause, evse, connector), at, f"status {status}")
        for cause in STATUS_CAUSES.values()
        if cause != current
    ]
    if current is not None:
        detail = " ".join(x for x in (error_code, info) if x) or status
        key = TicketKey(station_id, current, evse, connector)
        verdicts.append(Finding(key, STATUS_SEVERITY[current], at, detail))
    return verdicts


def security_verdict(station_id: str, event_type: str, at: datetime) -> Finding | None:
    """A SecurityEventNotification: a ticket unless the event only informs."""
    if event_type in INFORMATIONAL_SECURITY_EVENTS:
        return None
    severity = Severity.CRITICAL if event_type in CRITICAL_SECURITY_EVENTS else Severity.MEDIUM
    return Finding(TicketKey(station_id, TicketCause.SECURITY_EVENT), severity, at, event_type)


@dataclass(frozen=True)
class Liveness:
    station_id: str
    online: bool
    last_seen_at: datetime | None


@dataclass(frozen=True)
class LivenessPolicy:
    heartbeat_interval_s: float
    missed_heartbeats: int = 3
    disconnect_grace_s: float = 60.0

    @property
    def silence_limit(self) -> timedelta:
        return timedelta(seconds=self.heartbeat_interval_s * self.missed_heartbeats)


def offline_since(station: Liveness, now: datetime, policy: LivenessPolicy) -> datetime | None:
    """When the station went quiet, if it now counts as offline; None if it is alive.

    Connected but silent for `missed_heartbeats` intervals, or disconnected for longer than
    the grace period (a reconnect within it is no outage). A never-seen station is not offline.
    """
    if station.last_seen_at is None:
        return None
    silence = now - station.last_seen_at
    limit = policy.silence_limit if station.online else timedelta(seconds=policy.disconnect_grace_s)
    return station.last_seen_at if silence > limit else None


def liveness_verdict(station: Liveness, now: datetime, policy: LivenessPolicy) -> Verdict | None:
    """Offline (a finding), or back in contact (a clearance dated when it was last heard)."""
    key = TicketKey(station.station_id, TicketCause.OFFLINE)
    since = offline_since(station, now, policy)
    if since is not None:
        detail = "heartbeats missed" if station.online else "connection closed"
        return Finding(key, Severity.HIGH, now, detail, since=since, ongoing=True)
    if station.online and station.last_seen_at is not None:
        return Clearance(key, station.last_seen_at, "station back online")
    return None


@dataclass(frozen=True)
class ActiveTransaction:
    """An active transaction as the watchdog sees it; registers in Wh.

    `register_wh` is the energy register of the newest sample, `peak_wh` the highest reading
    known (the start meter included).
    """

    transaction_id: int
    station_id: str
    evse_id: int
    started_at: datetime
    last_sample_at: datetime | None
    register_wh: int | None = None
    peak_wh: int | None = None


def stuck_since(tx: ActiveTransaction, now: datetime, after_s: float) -> datetime | None:
    """The time of the last sign of life of a transaction not metered for `after_s`."""
    last = max(tx.started_at, tx.last_sample_at or tx.started_at)
    return last if (now - last).total_seconds() > after_s else None


def stuck_verdict(tx: ActiveTransaction, now: datetime, after_s: float) -> Verdict:
    key = TicketKey(tx.station_id, TicketCause.STUCK_TRANSACTION, tx.evse_id)
    since = stuck_since(tx, now, after_s)
    if since is None:
        return Clearance(key, tx.last_sample_at or now, "transaction metered again")
    detail = f"transaction {tx.transaction_id}: no meter value since {since.isoformat()}"
    return Finding(key, Severity.MEDIUM, now, detail, tx.transaction_id, since, ongoing=True)


def regression_verdict(tx: ActiveTransaction, now: datetime) -> Finding | None:
    """The energy register's latest reading (by sample time) is below one seen before it.

    Comparing the newest sample with the highest reading ever stored means that samples
    queued offline and delivered late, with older timestamps, raise no false alarm.
    """
    if tx.register_wh is None or tx.peak_wh is None or tx.register_wh >= tx.peak_wh:
        return None
    key = TicketKey(tx.station_id, TicketCause.METER_REGRESSION, tx.evse_id)
    detail = (
        f"transaction {tx.transaction_id}: energy register went back from {tx.peak_wh} Wh "
        f"to {tx.register_wh} Wh"
    )
    return Finding(key, Severity.MEDIUM, now, detail, tx.transaction_id, ongoing=True)


def boots_in_window(boots: list[datetime], now: datetime, window_s: float) -> list[datetime]:
    start = now - timedelta(seconds=window_s)
    return [b for b in boots if start < b <= now]


@dataclass
class BootLoopDetector:
    """Counts each station's boots over a sliding window: `count` boots within it is a loop."""

    count: int = 3
    window_s: float = 600.0
    _boots: dict[str, deque[datetime]] = field(default_factory=dict)

    def observe(self, station_id: str, at: datetime) -> Finding | None:
        boots = self._boots.setdefault(station_id, deque(maxlen=max(self.count, 1) * 4))
        boots.append(at)
        recent = boots_in_window(list(boots), at, self.window_s)
        if len(recent) < self.count:
            return None
        key = TicketKey(station_id, TicketCause.BOOT_LOOP)
        detail = f"{len(recent)} boots within {self.window_s:g} s"
        return Finding(key, Severity.HIGH, at, detail, since=recent[0])


def boot_loop_over(last_boot: datetime, now: datetime, window_s: float) -> bool:
    """A boot loop is over once the station stayed up a whole window after its last boot."""
    return (now - last_boot).total_seconds() >= window_s


def not_ready_verdict(station_id: str, data: dict[str, object], at: datetime) -> Finding:
    """A shared car on this EVSE cannot be charged in time for its next booking: the operator
    moves the booking or the car. One ticket while the car stays plugged in (ongoing)."""
    detail = (
        f"vehicle {data.get('plate')} needs {data.get('needed_kwh')} kWh for booking "
        f"{data.get('booking_id')} at {data.get('starts_at')}, can get {data.get('reachable_kwh')}"
    )
    evse = data.get("evse_id")
    key = TicketKey(station_id, TicketCause.VEHICLE_NOT_READY, int(str(evse)))
    tx = data.get("transaction_id")
    return Finding(key, Severity.HIGH, at, detail, int(str(tx)) if tx else None, ongoing=True)
