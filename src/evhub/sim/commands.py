"""What the CSMS makes a simulated station do, answered by the v16 and v201 handlers.

`StationCommands` is mixed into `SimStation`: each method decides the reply at once and defers
what follows (a started transaction, a status change, firmware stages, a log upload) until the
reply has been sent.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import httpx

from evhub.clock import Clock
from evhub.sim.evse import ConnectorState, EvseRuntime, RemoteStart, Reservation, StopReason
from evhub.sim.profiles import STATION_PURPOSES, ChargingProfile, Purpose

if TYPE_CHECKING:
    from evhub.sim.wire import VersionClient

log = logging.getLogger("evhub.sim")


class StationCommands:
    """The CSMS-triggered operations of `SimStation`; the station supplies the state below."""

    if TYPE_CHECKING:
        station_id: str
        clock: Clock
        evses: dict[int, EvseRuntime]
        profiles: list[ChargingProfile]
        profile_log: list[ChargingProfile]
        event_log: deque[str]
        reservation_answer: str
        reservation_answers: dict[int, str]
        firmware_step_s: float
        firmware_state: str
        upload_state: str
        _firmware_request_id: int | None
        _upload_request_id: int | None

        def _defer(self, factory: Callable[[], Coroutine[Any, Any, None]]) -> None: ...
        def _require_client(self) -> VersionClient: ...
        def _refresh_power(self) -> None: ...
        def _end_session(self, reason: str) -> None: ...
        async def _boot(self, reason: str) -> None: ...
        async def _notify(
            self, evse: EvseRuntime, previous: ConnectorState | None, error_code: str = ...
        ) -> None: ...
        async def _set_idle(self, evse: EvseRuntime) -> None: ...
        async def _begin(
            self, evse: EvseRuntime, id_token: str, remote: RemoteStart | None = ...
        ) -> str | None: ...
        async def stop_transaction(self, evse_id: int, reason: StopReason = ...) -> None: ...

    def install_profile(self, profile: ChargingProfile) -> bool:
        """OCPP 1.6 §5.16 / 2.0.1 K01: check where the profile may go, then install it."""
        if profile.purpose in STATION_PURPOSES:
            if profile.evse_id != 0:
                return False
        elif profile.evse_id != 0 and profile.evse_id not in self.evses:
            return False
        if profile.purpose is Purpose.TX:  # 1.6 §3.13.1: only on a running transaction
            evse = self.evses.get(profile.evse_id)
            running = evse.transaction_id if evse else None
            if running is None or profile.transaction_id not in (None, running):
                return False
        self._install(profile)
        self._refresh_power()
        return True

    def _install(self, profile: ChargingProfile) -> None:
        """Same id, or same stackLevel + purpose + EVSE, replaces the old one (1.6 §5.16)."""
        self.profiles = [
            p
            for p in self.profiles
            if p.profile_id != profile.profile_id
            and (p.stack_level, p.purpose, p.evse_id)
            != (profile.stack_level, profile.purpose, profile.evse_id)
        ]
        self.profiles.append(profile)
        self.profile_log.append(profile)

    def clear_profiles(
        self,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """OCPP 1.6 §5.5 / 2.0.1 K10: remove the profiles matching every given criterion."""

        def matches(p: ChargingProfile) -> bool:
            return all(
                wanted is None or wanted == actual
                for wanted, actual in (
                    (profile_id, p.profile_id),
                    (evse_id, p.evse_id),
                    (purpose, p.purpose),
                    (stack_level, p.stack_level),
                )
            )

        kept = [p for p in self.profiles if not matches(p)]
        removed = len(kept) != len(self.profiles)
        self.profiles = kept
        self._refresh_power()
        return removed

    def remote_start(
        self,
        evse_id: int | None,
        id_token: str,
        remote_start_id: int | None = None,
        profile: ChargingProfile | None = None,
        id_token_type: str = "Central",
    ) -> bool:
        """OCPP 1.6 §5.11 / 2.0.1 F01: start with the waiting EV, else when one plugs in."""
        candidates = [self.evses.get(evse_id)] if evse_id else list(self.evses.values())
        usable = [
            e
            for e in candidates
            if e is not None
            and e.operative
            and e.transaction_id is None
            and e.state is not ConnectorState.FAULTED
        ]
        if not usable:
            return False
        evse = next((e for e in usable if e.ev is not None), usable[0])
        remote = RemoteStart(id_token, remote_start_id, profile, id_token_type)
        if evse.ev is None:
            evse.pending_remote = remote
        else:
            self._defer(partial(self._remote_begin, evse, remote))
        return True

    async def _remote_begin(self, evse: EvseRuntime, remote: RemoteStart) -> None:
        async with evse.lock:
            if evse.ev is None:
                evse.pending_remote = remote
            elif evse.transaction_id is None:
                await self._begin(evse, remote.id_token, remote)

    def remote_stop(self, transaction_id: str) -> bool:
        """OCPP 1.6 §5.12 / 2.0.1 F03: stop (reason Remote) if the transaction runs here."""
        for evse in self.evses.values():
            if evse.transaction_id == transaction_id:
                self._defer(partial(self.stop_transaction, evse.evse_id, StopReason.REMOTE))
                return True
        return False

    def reset(self, hard: bool) -> None:
        """OCPP 1.6 §5.14 / 2.0.1 B11-B12: end transactions, reconnect and boot again."""
        reason = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET

        async def reboot() -> None:
            for evse in self.evses.values():
                await self.stop_transaction(evse.evse_id, reason)
            self._end_session("reboot")

        self._defer(reboot)

    def change_availability(self, evse_id: int, operative: bool) -> str:
        """OCPP 1.6 §5.2 / 2.0.1 G03: 'Scheduled' while a transaction runs on a target EVSE."""
        targets = list(self.evses.values()) if evse_id == 0 else [self.evses.get(evse_id)]
        scheduled = False
        for evse in targets:
            if evse is None:
                return "Rejected"
            if not operative and evse.transaction_id is not None:
                evse.pending_inoperative = scheduled = True
                continue
            evse.operative, evse.pending_inoperative = operative, False
            self._defer(partial(self._set_idle, evse))
        return "Scheduled" if scheduled else "Accepted"

    def unlock(self, evse_id: int, stop_running: bool) -> Literal["Unlocked", "Ongoing", "Unknown"]:
        """OCPP 1.6 §5.18 stops a running transaction; 2.0.1 F05 refuses instead."""
        evse = self.evses.get(evse_id)
        if evse is None:
            return "Unknown"
        if evse.transaction_id is not None:
            if not stop_running:
                return "Ongoing"
            self._defer(partial(self.stop_transaction, evse_id, StopReason.UNLOCK_COMMAND))
        return "Unlocked"

    def trigger(self, message: str, evse_id: int | None = None) -> bool:
        """OCPP 1.6 §5.17 / 2.0.1 F06: send the requested message after the reply."""
        client = self._require_client()
        targets = [self.evses[evse_id]] if evse_id in self.evses else list(self.evses.values())
        senders: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "BootNotification": partial(self._boot, "Triggered"),
            "Heartbeat": client.heartbeat,
            "StatusNotification": partial(self._report_status, targets),
            "MeterValues": partial(self._report_meters, targets),
            "TransactionEvent": partial(self._report_meters, targets),
            "FirmwareStatusNotification": partial(
                client.firmware_status, self.firmware_state, self._firmware_request_id
            ),
        }
        for upload in ("DiagnosticsStatusNotification", "LogStatusNotification"):
            senders[upload] = partial(
                client.upload_status, self.upload_state, self._upload_request_id
            )
        sender = senders.get(message)
        if sender is not None:
            self._defer(sender)
        return sender is not None

    async def _report_status(self, targets: list[EvseRuntime]) -> None:
        for evse in targets:
            await self._notify(evse, None)

    async def _report_meters(self, targets: list[EvseRuntime]) -> None:
        self._refresh_power()
        for evse in targets:
            async with evse.lock:
                await self._require_client().meter_values(evse, triggered=True)

    def reserve(
        self, reservation_id: int, evse_id: int | None, id_token: str, expiry: datetime | None
    ) -> str:
        """OCPP 1.6 §5.13 / 2.0.1 H01; `reservation_answer(s)` force an answer for tests."""
        forced = self.reservation_answers.get(evse_id or 0, self.reservation_answer)
        if forced != "Accepted":
            return forced
        free = [e for e in self.evses.values() if e.ev is None and e.reservation is None]
        evse = self.evses.get(evse_id) if evse_id else next(iter(free), None)
        if evse is None:
            return "Rejected" if evse_id else "Occupied"
        if evse.state is ConnectorState.FAULTED:
            return "Faulted"
        if not evse.operative:
            return "Unavailable"
        held = evse.reservation
        if evse.ev is not None or (held is not None and held.reservation_id != reservation_id):
            return "Occupied"
        evse.reservation = Reservation(reservation_id, evse.evse_id, id_token, expiry)
        self._defer(partial(self._set_idle, evse))
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> bool:
        """OCPP 1.6 §5.1 / 2.0.1 H02."""
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.reservation_id == reservation_id:
                evse.reservation = None
                self._defer(partial(self._set_idle, evse))
                return True
        return False

    def update_firmware(self, location: str, request_id: int | None = None) -> None:
        """OCPP 1.6 §5.19 / 2.0.1 L01: report each stage; nothing is downloaded."""
        self._firmware_request_id = request_id

        async def stages() -> None:
            for n, status in enumerate(("Downloading", "Downloaded", "Installing", "Installed")):
                if n:
                    await self.clock.sleep(self.firmware_step_s)
                self.firmware_state = status
                await self._require_client().firmware_status(status, request_id)

        log.info("firmware update station=%s location=%s", self.station_id, location)
        self._defer(stages)

    def upload_log(self, location: str, request_id: int | None = None) -> str:
        """OCPP 1.6 §5.9 / 2.0.1 N01: returns the file name; the upload follows the reply."""
        self._upload_request_id = request_id
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%SZ")
        filename = f"{self.station_id}-{stamp}.log"
        self._defer(partial(self._upload_log, location, filename, request_id))
        return filename

    async def _upload_log(self, location: str, filename: str, request_id: int | None) -> None:
        """Plain HTTP PUT of the log text to `location/filename` (no multipart, no FTP)."""
        client = self._require_client()
        self.upload_state = "Uploading"
        await client.upload_status(self.upload_state, request_id)
        url = location.rstrip("/") + "/" + filename
        body = ("\n".join(self.event_log) + "\n").encode()
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                reply = await http.put(url, content=body, headers={"Content-Type": "text/plain"})
            ok = reply.is_success
        except httpx.HTTPError as exc:
            log.warning("log upload failed station=%s url=%s error=%r", self.station_id, url, exc)
            ok = False
        self.upload_state = "Uploaded" if ok else "UploadFailed"
        await client.upload_status(self.upload_state, request_id)
