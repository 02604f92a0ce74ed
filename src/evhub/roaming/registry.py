"""The modules evhub serves, per role: one table that version details and routers share.

A module slots in as a new row (and its router).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evhub.roaming.wire import InterfaceRole, Role

VERSION = "2.2.1"


@dataclass(frozen=True)
class Module:
    identifier: str
    interface: InterfaceRole
    path: str
    role: Role | None  # the role of evhub serving it; None for configuration modules


MODULES: tuple[Module, ...] = (
    Module("credentials", InterfaceRole.RECEIVER, f"/{VERSION}/credentials", None),
    Module("locations", InterfaceRole.SENDER, f"/cpo/{VERSION}/locations", Role.CPO),
    Module("tokens", InterfaceRole.RECEIVER, f"/cpo/{VERSION}/tokens", Role.CPO),
    Module("locations", InterfaceRole.RECEIVER, f"/emsp/{VERSION}/locations", Role.EMSP),
    Module("tokens", InterfaceRole.SENDER, f"/emsp/{VERSION}/tokens", Role.EMSP),
    Module("commands", InterfaceRole.RECEIVER, f"/cpo/{VERSION}/commands", Role.CPO),
    Module("sessions", InterfaceRole.RECEIVER, f"/emsp/{VERSION}/sessions", Role.EMSP),
    Module("cdrs", InterfaceRole.RECEIVER, f"/emsp/{VERSION}/cdrs", Role.EMSP),
    Module("commands", InterfaceRole.SENDER, f"/emsp/{VERSION}/commands", Role.EMSP),
)


def module(identifier: str, interface: InterfaceRole) -> Module:
    return next(m for m in MODULES if m.identifier == identifier and m.interface is interface)


def versions(ocpi_base: str) -> list[dict[str, str]]:
    """OCPI 2.2.1 §6.1.2: the versions evhub supports, each with its details URL."""
    return [{"version": VERSION, "url": f"{ocpi_base}/{VERSION}"}]


def version_details(ocpi_base: str) -> dict[str, Any]:
    """OCPI 2.2.1 §6.2.2: every endpoint, with its 2.2.1 identifier and interface role."""
    return {
        "version": VERSION,
        "endpoints": [
            {"identifier": m.identifier, "role": str(m.interface), "url": ocpi_base + m.path}
            for m in MODULES
        ],
    }
