"""Commands as CPO: what a request must carry, and what a station's answer means for the eMSP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evhub.control import CommandResult
from evhub.roaming.badges import as_ocpp
from evhub.roaming.commands import parse, result_of
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.schemas import CommandResultType, CommandType
from evhub.roaming.wire import OcpiError, OcpiStatus

URL = "https://emsp.example/ocpi/emsp/2.2.1/commands/START_SESSION/1"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Accepted", CommandResultType.ACCEPTED),
        ("Unlocked", CommandResultType.ACCEPTED),
        ("Rejected", CommandResultType.REJECTED),
        ("Occupied", CommandResultType.EVSE_OCCUPIED),
        ("Faulted", CommandResultType.EVSE_INOPERATIVE),
        ("Unavailable", CommandResultType.EVSE_INOPERATIVE),
        ("UnknownConnector", CommandResultType.NOT_SUPPORTED),
        ("UnlockFailed", CommandResultType.FAILED),
    ],
)
def test_station_answers_as_command_results(status: str, expected: CommandResultType) -> None:
    assert result_of(CommandResult(status)) is expected


@pytest.mark.parametrize(
    ("command", "body", "missing"),
    [
        (CommandType.START_SESSION, {"location_id": "1"}, "token"),
        (CommandType.STOP_SESSION, {}, "session_id"),
        (CommandType.UNLOCK_CONNECTOR, {"location_id": "1", "evse_uid": "CP:1"}, "connector_id"),
        (CommandType.CANCEL_RESERVATION, {}, "reservation_id"),
    ],
)
def test_a_command_without_its_fields_is_refused(
    command: CommandType, body: dict[str, str], missing: str
) -> None:
    with pytest.raises(OcpiError) as refused:
        parse(command, body | {"response_url": URL})
    assert refused.value.status is OcpiStatus.INVALID_PARAMETERS
    assert missing in refused.value.message


def test_a_command_without_response_url_is_refused() -> None:
    with pytest.raises(OcpiError):
        parse(CommandType.STOP_SESSION, {"session_id": "1"})


def _decision(allowed: bool, realtime: str) -> Decision:
    return Decision(partner_id=1, uid="U", station_id="CP", allowed=allowed, how="AUTH_REQUEST",
                    realtime=realtime, cdr_token={}, decided_at=datetime.now(UTC))  # fmt: skip


@pytest.mark.parametrize(
    ("allowed", "realtime", "status"),
    [
        (True, "ALLOWED", "Accepted"),
        (True, "UNREACHABLE", "Accepted"),
        (False, "BLOCKED", "Blocked"),
        (False, "EXPIRED", "Expired"),
        (False, "NOT_ALLOWED", "Invalid"),
        (False, "UNKNOWN_TOKEN", "Invalid"),
        (False, "UNREACHABLE", "Invalid"),
    ],
)
def test_roaming_decisions_as_told_to_a_station(allowed: bool, realtime: str, status: str) -> None:
    assert as_ocpp(_decision(allowed, realtime)).status == status
