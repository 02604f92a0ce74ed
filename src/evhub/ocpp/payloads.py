"""The one interface both protocol versions implement: a ChargerControl command to a Call.

`OcppChargerControl` holds one implementation per version, typed as `CommandPayloads`, so a
command that one version lacks, or builds with other arguments, is a type error (mypy).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from evhub.control import ChargingLimit, ProfilePurpose

# A request dataclass of `ocpp.v16.call` or `ocpp.v201.call`; they share no base class.
Call = object


class CommandPayloads(Protocol):
    def set_charging_limit(self, limit: ChargingLimit) -> Call: ...

    def clear_charging_limit(self, evse_id: int | None, purpose: ProfilePurpose) -> Call: ...

    def remote_start(self, evse_id: int, id_token: str, remote_start_id: int) -> Call: ...

    def remote_stop(self, transaction_id: str) -> Call: ...

    def reset(self, hard: bool) -> Call: ...

    def change_availability(
        self, evse_id: int, connector_id: int | None, operative: bool
    ) -> Call: ...

    def unlock_connector(self, evse_id: int, connector_id: int) -> Call: ...

    def trigger_message(self, message: str, evse_id: int | None) -> Call: ...

    def reserve_now(
        self,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> Call: ...

    def cancel_reservation(self, reservation_id: int) -> Call: ...

    def get_config(self, keys: list[str]) -> Call: ...

    def set_config(self, key: str, value: str) -> Call: ...

    def clear_cache(self) -> Call: ...

    def update_firmware(self, location: str, retrieve_at: datetime, request_id: int) -> Call: ...

    def upload_logs(self, location: str, request_id: int) -> Call: ...

    def send_local_list(self, version: int, entries: list[tuple[str, str]], full: bool) -> Call: ...

    def get_local_list_version(self) -> Call: ...

    def get_base_report(self, request_id: int) -> Call: ...
