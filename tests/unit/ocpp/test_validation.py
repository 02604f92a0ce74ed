"""Compiled validators agree with the ocpp library's: every payload either both accept, or the
compiled one refuses and the library's error (hence the CallError) is the one raised."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import fastjsonschema
import pytest
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallResult
from ocpp.messages import validate_payload as library_validate

from evhub.ocpp.validation import compiled_check, validate_payload

NOW = "2026-12-01T08:00:00.000Z"
SAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    ("1.6", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
    ("1.6", "StatusNotification",
     {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW}),
    ("1.6", "MeterValues", {"connectorId": 1, "transactionId": 7, "meterValue": [
        {"timestamp": NOW, "sampledValue": [{"value": "12.5", "measurand": "Power.Active.Import",
                                             "unit": "W"}]}]}),
    ("1.6", "StartTransaction",
     {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": NOW}),
    ("1.6", "Heartbeat", {}),
    ("2.0.1", "BootNotification",
     {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}),
    ("2.0.1", "StatusNotification",
     {"timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}),
    ("2.0.1", "MeterValues", {"evseId": 1, "meterValue": [
        {"timestamp": NOW,
         "sampledValue": [{"value": 12.5, "measurand": "Power.Active.Import"}]}]}),
    ("2.0.1", "TransactionEvent", {
        "eventType": "Started", "timestamp": NOW, "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": "T-1"},
        "idToken": {"idToken": "A", "type": "ISO14443"},
        "evse": {"id": 1, "connectorId": 1}}),
]  # fmt: skip
WRONG_VALUES: list[Any] = [None, True, 1, 1.0, 2.5, "x", "y" * 600, [], [1], {}, {"a": 1}]


def _mutations(payload: Any) -> Iterator[Any]:
    """The payload with, in turn, each value replaced by a value of every JSON type, each key
    dropped, and an unknown key added, at every depth."""
    if isinstance(payload, dict):
        yield payload | {"unknownKey": 1}
        for key, value in payload.items():
            yield {k: v for k, v in payload.items() if k != key}
            for wrong in WRONG_VALUES:
                yield payload | {key: wrong}
            for inner in _mutations(value):
                yield payload | {key: inner}
    elif isinstance(payload, list):
        yield []
        for index, value in enumerate(payload):
            for inner in _mutations(value):
                yield payload[:index] + [inner] + payload[index + 1 :]


async def _outcome(validate: Any, message: Call | CallResult, version: str) -> str | None:
    try:
        await validate(copy.deepcopy(message), version)
    except OCPPError as error:
        return f"{type(error).__name__}: {error.details.get('cause') if error.details else ''}"
    return None


def _accepts(check: Any, payload: Any) -> bool:
    try:
        check(copy.deepcopy(payload))
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@pytest.mark.parametrize(("version", "action", "payload"), SAMPLES, ids=lambda x: str(x)[:24])
async def test_compiled_validation_answers_exactly_as_the_library(
    version: str, action: str, payload: dict[str, Any]
) -> None:
    check = compiled_check(2, action, version)
    assert check is not None
    refused = 0
    for candidate in [payload, *_mutations(payload)]:
        message = Call("1", action, candidate)
        library = await _outcome(library_validate, message, version)
        assert _accepts(check, candidate) == (library is None), candidate
        assert await _outcome(validate_payload, message, version) == library, candidate
        refused += library is not None
    assert refused >= (5 if payload else 1)  # the mutations do reach the schema


async def test_results_the_csms_sends_are_checked_against_their_response_schema() -> None:
    result = CallResult("1", {"currentTime": NOW, "interval": 300, "status": "Accepted"})
    result.action = "BootNotification"
    assert await _outcome(validate_payload, result, "1.6") is None
    result.payload = result.payload | {"interval": "300"}
    assert (await _outcome(validate_payload, result, "1.6") or "").startswith(
        "TypeConstraintViolationError"
    )


def test_schedules_with_decimal_numbers_keep_the_library_path() -> None:
    # OCPP 1.6 charging schedules: the library parses them with decimal numbers.
    assert compiled_check(2, "SetChargingProfile", "1.6") is None
    assert compiled_check(2, "SetChargingProfile", "2.0.1") is not None
