"""Commands and their answers as JSON on NATS: a call is a `ChargerControl` method's name and
keyword arguments; datetimes and charging limits travel tagged so the other node rebuilds them."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from typing import Any

from evhub.control import ChargingLimit, CommandResult, ProfilePurpose

# NATS subject tokens may not hold '.', '*', '>' nor whitespace: other ids travel in hex.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]+$")
COMMAND_SUBJECT = "evhub.station.{}.command"


def command_subject(station_id: str) -> str:
    """The subject the node holding `station_id`'s socket answers commands on."""
    token = station_id if _PLAIN_ID.match(station_id) else "~" + station_id.encode().hex()
    return COMMAND_SUBJECT.format(token)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return {"__dt__": value.isoformat()}
    if isinstance(value, ChargingLimit):
        return {"__limit__": dataclasses.asdict(value)}
    return str(value)


def _hook(obj: dict[str, Any]) -> object:
    if "__dt__" in obj:
        return datetime.fromisoformat(obj["__dt__"])
    if "__limit__" in obj:
        fields = obj["__limit__"]
        fields["periods"] = [(int(s), float(kw)) for s, kw in fields["periods"]]
        fields["purpose"] = ProfilePurpose(fields["purpose"])
        return ChargingLimit(**fields)
    return obj


def encode_call(method: str, station_id: str, kwargs: dict[str, Any]) -> bytes:
    return json.dumps({"method": method, "station_id": station_id, "kwargs": kwargs},
                      default=_default).encode()  # fmt: skip


def decode_call(data: bytes) -> tuple[str, str, dict[str, Any]]:
    call = json.loads(data, object_hook=_hook)
    kwargs: dict[str, Any] = call["kwargs"]
    if call["method"] == "clear_charging_limit":
        kwargs["purpose"] = ProfilePurpose(kwargs["purpose"])
    if call["method"] == "send_local_list":
        kwargs["entries"] = [tuple(e) for e in kwargs["entries"]]
    return str(call["method"]), str(call["station_id"]), kwargs


def encode_result(result: CommandResult) -> bytes:
    return json.dumps({"status": result.status, "detail": result.detail},
                      default=_default).encode()  # fmt: skip


def encode_error(kind: str, message: str) -> bytes:
    """`kind`: "unavailable" (not connected any more) or "timeout" (the station was silent)."""
    return json.dumps({"error": kind, "message": message}).encode()


def decode_reply(data: bytes) -> CommandResult | tuple[str, str]:
    """The result, or (error kind, message)."""
    reply = json.loads(data, object_hook=_hook)
    if "error" in reply:
        return str(reply["error"]), str(reply["message"])
    return CommandResult(str(reply["status"]), dict(reply["detail"]))
