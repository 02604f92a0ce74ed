"""Validate OCPI objects against the official 2.2.1 schemas vendored beside this file."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).parent
BASE = "https://schemas.invalid/ocpi/2.2.1/"
# Which file defines each object name we validate.
MODULE_OF = {
    "Version": "modules/versions/schema.yaml",
    "VersionDetails": "modules/versions/schema.yaml",
    "Credentials": "modules/credentials/schema.yaml",
    "Location": "modules/locations/schema.yaml",
    "EVSE": "modules/locations/schema.yaml",
    "Connector": "modules/locations/schema.yaml",
    "Token": "modules/tokens/schema.yaml",
    "AuthorizationInfo": "modules/tokens/schema.yaml",
    "LocationReferences": "modules/tokens/schema.yaml",
    "Session": "modules/sessions/schema.yaml",
    "SessionPatch": "modules/sessions/schema.yaml",
    "CDR": "modules/cdrs/schema.yaml",
    "StartSession": "modules/commands/schema.yaml",
    "StopSession": "modules/commands/schema.yaml",
    "ReserveNow": "modules/commands/schema.yaml",
    "CancelReservation": "modules/commands/schema.yaml",
    "UnlockConnector": "modules/commands/schema.yaml",
    "CommandResponse": "modules/commands/schema.yaml",
    "CommandResult": "modules/commands/schema.yaml",
}
# OCPI 2.2.1 §16.2 DateTime, which the schemas leave to `format: date-time`.
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,4})?Z?$")


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for path in HERE.rglob("schema.yaml"):
        contents = yaml.safe_load(path.read_text())
        uri = BASE + path.relative_to(HERE).as_posix()
        registry = registry.with_resource(uri, Resource(contents, DRAFT202012))
    return registry


def schema_errors(name: str, obj: Any) -> list[str]:
    """Every violation of the official schema of `name`, and of the DateTime format."""
    ref = f"{BASE}{MODULE_OF[name]}#/components/schemas/{name}"
    validator = Draft202012Validator({"$ref": ref}, registry=_registry())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj)]
    return errors + [f"{path}: bad DateTime {value!r}" for path, value in _timestamps(obj, "")
                     if len(value) > 25 or not DATETIME.match(value)]  # fmt: skip


def _timestamps(obj: Any, path: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("last_updated", "timestamp") and isinstance(value, str):
                found.append((f"{path}.{key}", value))
            found.extend(_timestamps(value, f"{path}.{key}"))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found.extend(_timestamps(value, f"{path}[{i}]"))
    return found


def assert_valid(name: str, obj: Any) -> None:
    errors = schema_errors(name, obj)
    assert not errors, f"{name} breaks the OCPI 2.2.1 schema: {errors}"


def assert_envelope(body: Any) -> None:
    """OCPI 2.2.1 §4.1.7: status_code, timestamp (and data, status_message when given)."""
    assert isinstance(body, dict) and isinstance(body.get("status_code"), int), body
    stamp = body.get("timestamp")
    assert isinstance(stamp, str) and len(stamp) <= 25 and DATETIME.match(stamp), body
    assert stamp.endswith("Z"), stamp
