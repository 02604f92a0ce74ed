"""The presence record: which node holds which station's socket, under that node's lease.

A node renews one lease row for all its stations (a write per node every third of the lease,
whatever its number of stations), records each attach and detach in `station_presence`, and
answers commands on the station's NATS subject while the socket is attached. Every node keeps a
view of the stations held elsewhere (for `is_connected`): announced on `evhub.presence` at once,
and read again from the table every third of the lease, which also drops a dead node's stations.
A station counts as present only while its node's lease runs: a starting node marks offline only
stations without a live lease, and the leader's sweep marks offline those of a node that died.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.clock import Clock
from evhub.cluster import wire
from evhub.cluster.models import ClusterNode, StationPresence
from evhub.cluster.routing import CommandResponder
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.cluster")

PRESENCE_SUBJECT = "evhub.presence"
_LEASE = "now() + make_interval(secs => :lease_s)"


def live_presence() -> Select[str]:
    """The stations held by a node whose lease runs (database time: no clock skew matters)."""
    query: Select[str] = (
        select(StationPresence.station_id)
        .join(ClusterNode, ClusterNode.node_id == StationPresence.node_id)
        .where(ClusterNode.lease_expires_at > text("now()"))
    )
    return query


class NodePresence:
    """Implements `evhub.ocpp.registry.PresenceRecord` for this node."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        nats: Nats,
        node_id: str,
        lease_s: float,
        responder: CommandResponder,
        local_stations: Callable[[], list[str]],
    ) -> None:
        self.uow, self.clock, self.nats = uow, clock, nats
        self.node_id, self.lease_s = node_id, lease_s
        self.responder = responder
        self.local_stations = local_stations
        self.elsewhere: dict[str, str] = {}  # station id -> the node holding it
        self._subscriptions: dict[str, Subscription] = {}

    def held_elsewhere(self, station_id: str) -> bool:
        return station_id in self.elsewhere

    async def register(self) -> None:
        """Take (or renew) this node's lease; rows left by a previous run of it are stale."""
        async with self.uow() as s:
            await s.execute(
                text(
                    "INSERT INTO cluster_nodes (node_id, started_at, lease_expires_at) "
                    f"VALUES (:node, now(), {_LEASE}) ON CONFLICT (node_id) DO UPDATE "
                    "SET started_at = now(), lease_expires_at = EXCLUDED.lease_expires_at"
                ),
                {"node": self.node_id, "lease_s": self.lease_s},
            )
            await s.execute(
                text("DELETE FROM station_presence WHERE node_id = :node"), {"node": self.node_id}
            )

    async def mark_absent_offline(self, session: AsyncSession) -> None:
        """Start-up: offline every station no live node holds (never another node's)."""
        await assets.mark_offline_unless(session, live_presence())

    async def claim(self, station_id: str) -> None:
        if station_id not in self._subscriptions:
            self._subscriptions[station_id] = await self.nats.subscribe(
                wire.command_subject(station_id), cb=self.responder.receive
            )
            await self.nats.flush()  # the server routes to us before others learn we hold it
        await self._write_claim(station_id)
        await self._announce(station_id, True)

    async def _write_claim(self, station_id: str) -> None:
        async with self.uow() as s:
            await s.execute(
                text(
                    "INSERT INTO station_presence (station_id, node_id, since) "
                    "VALUES (:station, :node, now()) ON CONFLICT (station_id) DO UPDATE "
                    "SET node_id = EXCLUDED.node_id, since = EXCLUDED.since"
                ),
                {"station": station_id, "node": self.node_id},
            )

    async def release(self, station_id: str) -> bool:
        subscription = self._subscriptions.pop(station_id, None)
        if subscription is not None:
            await subscription.unsubscribe()
        async with self.uow() as s:
            deleted = await s.scalar(
                text(
                    "DELETE FROM station_presence WHERE station_id = :station AND node_id = :node "
                    "RETURNING station_id"
                ),
                {"station": station_id, "node": self.node_id},
            )
        if deleted is None:
            log.info("station=%s event=held_by_another_node", station_id)
            return False
        await self._announce(station_id, False)
        return True

    async def _announce(self, station_id: str, up: bool) -> None:
        message = {"station_id": station_id, "node_id": self.node_id, "up": up}
        await self.nats.publish(PRESENCE_SUBJECT, json.dumps(message).encode())

    async def renew(self) -> None:
        """Keep the lease; if it had lapsed and was swept, register again with every socket."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            async with self.uow() as s:
                result = await s.execute(
                    text(
                        f"UPDATE cluster_nodes SET lease_expires_at = {_LEASE} "
                        "WHERE node_id = :node"
                    ),
                    {"node": self.node_id, "lease_s": self.lease_s},
                )
            if getattr(result, "rowcount", 1) == 0:
                log.warning("node=%s event=lease_lost reclaiming=%d", self.node_id,
                            len(self.local_stations()))  # fmt: skip
                await self.register()
                for station_id in self.local_stations():
                    await self._write_claim(station_id)

    async def follow(self) -> None:
        """The view of stations held elsewhere: announcements, and the table as a safety net."""
        subscription = await self.nats.subscribe(PRESENCE_SUBJECT, cb=self._on_announcement)
        try:
            while True:
                await self.refresh()
                await asyncio.sleep(self.lease_s / 3)
        finally:
            await subscription.unsubscribe()

    async def refresh(self) -> None:
        query = (
            live_presence()
            .add_columns(StationPresence.node_id)
            .where(StationPresence.node_id != self.node_id)
        )
        async with self.uow() as s:
            rows = (await s.execute(query)).all()
        self.elsewhere = {station_id: node_id for station_id, node_id in rows}

    async def _on_announcement(self, msg: Msg) -> None:
        message = json.loads(msg.data)
        station_id, node_id = str(message["station_id"]), str(message["node_id"])
        if node_id == self.node_id:
            return
        if message["up"]:
            self.elsewhere[station_id] = node_id
        elif self.elsewhere.get(station_id) == node_id:
            del self.elsewhere[station_id]

    async def sweep(self) -> None:
        """Once per cluster (under leadership): the stations of nodes whose lease ran out are
        offline, each with its event; those already back on another node are not theirs."""
        while True:
            async with self.uow() as s:
                lost = list(
                    await s.scalars(
                        text(
                            "DELETE FROM station_presence WHERE node_id IN (SELECT node_id "
                            "FROM cluster_nodes WHERE lease_expires_at < now()) "
                            "RETURNING station_id"
                        )
                    )
                )
                await s.execute(text("DELETE FROM cluster_nodes WHERE lease_expires_at < now()"))
                if lost:
                    await assets.mark_lost(s, lost, self.clock.now())
            if lost:
                log.warning("event=dead_node_swept stations=%d", len(lost))
            await asyncio.sleep(self.lease_s / 2)
