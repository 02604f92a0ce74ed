"""A node refuses to join a cluster it could not serve correctly, before connecting to it."""

from __future__ import annotations

from typing import Any

import pytest

from evhub.cluster.node import ClusterNode, ClusterUnavailable
from evhub.settings import Settings

PG = "postgresql+asyncpg://evhub@127.0.0.1:1/evhub"
NATS = "nats://127.0.0.1:1"  # nothing listens: joining must fail before it tries
NOTHING: Any = None


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"database_url": PG}, "EVHUB_NATS_URL"),
        ({"database_url": "sqlite+aiosqlite:///x.db", "nats_url": NATS}, "PostgreSQL"),
        ({"database_url": PG, "nats_url": NATS, "secret_key": None}, "EVHUB_SECRET_KEY"),
    ],
)
async def test_a_node_without_what_a_cluster_needs_does_not_join(
    settings: dict[str, str | None], reason: str
) -> None:
    with pytest.raises(ClusterUnavailable, match=reason):
        await ClusterNode.join(Settings(**settings), NOTHING, NOTHING, NOTHING)  # type: ignore[arg-type]
