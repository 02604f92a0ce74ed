"""The status pusher reads the partners once per storm of status changes when none takes pushes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from evhub.events import Event
from evhub.roaming import push
from evhub.roaming.context import RoamingContext

AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def status(n: int) -> Event:
    return Event("status.changed", AT, {"station_id": "CP-1", "evse_id": 1, "status": "Charging"},
                 id=n)  # fmt: skip


async def test_no_receiver_is_believed_for_a_while_and_forgotten_when_a_partner_registers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[int] = []

    async def receivers(ctx: Any) -> list[Any]:
        reads.append(1)
        return []

    monkeypatch.setattr(push, "_receivers", receivers)
    pusher = push.StatusPusher(cast(RoamingContext, object()))
    assert "roaming.partner_registered" in pusher.consumer().kinds

    for n in range(1, 100):
        await pusher.on_event(status(n))
    assert len(reads) == 1

    await pusher.on_event(Event("roaming.partner_registered", AT, {"partner_id": 7}, id=100))
    await pusher.on_event(status(101))
    assert len(reads) == 2

    monkeypatch.setattr(push, "NO_RECEIVER_KEPT_S", 0.0)
    await pusher.on_event(Event("roaming.partner_unregistered", AT, {"partner_id": 7}, id=102))
    await pusher.on_event(status(103))
    await pusher.on_event(status(104))
    assert len(reads) == 4
