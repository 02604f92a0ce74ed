"""Payload validation with compiled validators of the ocpp library's own JSON schemas.

The library checks every payload, both ways, with `jsonschema`'s Draft 4 validator, which walks
the schema anew for each message: under load, a quarter of the gateway's time. Here each schema
of the library is compiled once into Python code (`fastjsonschema`) with the library's reading
of it: Draft 4 (the 2.0.1 files say draft-06, but the library validates them as Draft 4), no
`format` checks and no defaults filled in. A payload the compiled validator accepts is valid;
one it refuses is handed to the library's own validator, so the CallError a station gets for it
(FormatViolation, TypeConstraintViolation, ProtocolError..., OCPP-J 1.6 §4.2.3 / 2.0.1 §4.3) is
exactly the library's, chosen by the library's first error. The three 1.6 messages the library
validates against decimal numbers (charging schedules) always take the library's path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
from ocpp import charge_point as ocpp_charge_point
from ocpp import messages as ocpp_messages
from ocpp.messages import Call, CallResult, MessageType

Check = Callable[[Any], Any]

SCHEMAS = Path(ocpp_messages.__file__).parent
DRAFT4 = "http://json-schema.org/draft-04/schema#"
# ocpp.messages._validate_payload: these take `parse_float=decimal.Decimal` in the library.
_DECIMAL_CALLS = {"SetChargingProfile", "RemoteStartTransaction"}
_DECIMAL_RESULTS = {"GetCompositeSchedule"}
_library_validate = ocpp_messages.validate_payload
_compiled: dict[tuple[str, int, str], Check | None] = {}


def schema_path(message_type_id: int, action: str, ocpp_version: str) -> Path:
    """The library's schema file of a message (as `ocpp.messages.get_validator` finds it)."""
    name = action
    if message_type_id == MessageType.CallResult:
        name += "Response"
    elif ocpp_version != "1.6":
        name += "Request"
    return SCHEMAS / ("v" + ocpp_version.replace(".", "")) / "schemas" / f"{name}.json"


def compiled_check(message_type_id: int, action: str, ocpp_version: str) -> Check | None:
    """The compiled validator of a message's schema, or None where the library's path is
    kept (decimal schedules, a version or action without a schema file)."""
    key = (ocpp_version, message_type_id, action)
    if key in _compiled:
        return _compiled[key]
    check: Check | None = None
    decimal = (message_type_id == MessageType.Call and action in _DECIMAL_CALLS) or (
        message_type_id == MessageType.CallResult and action in _DECIMAL_RESULTS
    )
    path = schema_path(message_type_id, action, ocpp_version)
    if ocpp_version in ("1.6", "2.0.1") and not (ocpp_version == "1.6" and decimal):
        try:
            schema = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            schema = None
        if isinstance(schema, dict):
            schema = schema | {"$schema": DRAFT4}
            check = fastjsonschema.compile(schema, use_default=False, use_formats=False)
    _compiled[key] = check
    return check


async def validate_payload(message: Call | CallResult, ocpp_version: str) -> None:
    """Drop-in for `ocpp.messages.validate_payload`: compiled first, the library on refusal."""
    if type(message) in (Call, CallResult) and isinstance(message.action, str):
        check = compiled_check(message.message_type_id, message.action, ocpp_version)
        if check is not None:
            try:
                check(message.payload)
                return
            except fastjsonschema.JsonSchemaException:
                pass  # the library's validator names the error, exactly as before
    await _library_validate(message, ocpp_version)


def install() -> None:
    """Have the library's ChargePoint validate through `validate_payload` (it calls the name
    it imported from `ocpp.messages`)."""
    ocpp_charge_point.validate_payload = validate_payload
