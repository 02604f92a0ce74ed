"""The connection registry counts the connections that ended (the heap freezer reads it)."""

from __future__ import annotations

from dataclasses import dataclass

from evhub.ocpp.registry import ConnectionRegistry


@dataclass(eq=False)
class Link:
    id: str
    ocpp_version: str = "2.0.1"
    closed: bool = False

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = True


async def test_a_connection_ends_once_whether_replaced_or_released() -> None:
    registry = ConnectionRegistry()
    first, second, other = Link("CP-1"), Link("CP-1"), Link("CP-2")
    await registry.attach(first)
    await registry.attach(other)
    await registry.attach(second)  # a reconnect: the first socket is closed and ends

    assert first.closed and registry.ended == 1 and len(registry) == 2
    assert await registry.release(first) is False  # its own release, late: not counted again
    assert await registry.release(second) is True
    assert await registry.release(other) is True
    assert registry.ended == 3 and len(registry) == 0
