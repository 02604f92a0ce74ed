"""This node's part of the cluster, built by the composition root when `EVHUB_NATS_URL` is set."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import nats
from nats.aio.client import Client as Nats
from nats.js import JetStreamContext
from sqlalchemy import select
from sqlalchemy.engine import make_url

from evhub.assets.models import Site
from evhub.cluster.leadership import AdvisoryLocks
from evhub.cluster.presence import NodePresence
from evhub.cluster.routing import ClusterChargerControl, CommandResponder
from evhub.cluster.stream import PUBLISHER, JetStreamEventLog, ensure_stream, publisher
from evhub.control import ChargerControl
from evhub.db import is_sqlite
from evhub.events.log import SqlEventLog
from evhub.events.relay import Relay, RelayTuning
from evhub.events.tail import OutboxTail
from evhub.ocpp.registry import ConnectionRegistry
from evhub.planning.loop import PlanningLoop
from evhub.services import Services
from evhub.settings import Settings
from evhub.supervisor import Loop, Supervisor

log = logging.getLogger("evhub.cluster")

# The publisher looks for other nodes' commits this often (its own wake it at once).
PUBLISH_POLL_S = 0.1


class ClusterUnavailable(RuntimeError):
    """Several nodes need NATS and PostgreSQL."""


def node_name(settings: Settings) -> str:
    return settings.node_id or f"{socket.gethostname()}-{os.getpid()}"[:40]


def asyncpg_dsn(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@dataclass
class ClusterNode:
    node_id: str
    nats: Nats
    js: JetStreamContext
    locks: AdvisoryLocks
    presence: NodePresence
    responder: CommandResponder
    control: ClusterChargerControl
    log: JetStreamEventLog | None = None

    @classmethod
    async def join(
        cls, settings: Settings, services: Services, registry: ConnectionRegistry,
        local: ChargerControl,
    ) -> ClusterNode:  # fmt: skip
        """Connect to NATS, take this node's lease, and route commands across the cluster."""
        if settings.nats_url is None or is_sqlite(settings.database_url):
            raise ClusterUnavailable("several nodes need EVHUB_NATS_URL and PostgreSQL")
        if settings.secret_key is None:
            # A secret generated per node would make each node refuse the others' console
            # sessions and the station passwords they re-hashed.
            raise ClusterUnavailable("the nodes of a cluster need one shared EVHUB_SECRET_KEY")
        node_id = node_name(settings)
        client = await nats.connect(settings.nats_url, name=node_id, max_reconnect_attempts=-1)
        js = client.jetstream()
        await ensure_stream(js, timedelta(hours=settings.event_retention_h))
        responder = CommandResponder(local)
        presence = NodePresence(services.uow, services.clock, client, node_id,
                                settings.node_lease_s, responder, registry.station_ids)  # fmt: skip
        await presence.register()
        await presence.refresh()
        registry.presence = presence
        control = ClusterChargerControl(
            local, client, presence.held_elsewhere, settings.ocpp_response_timeout_s
        )
        locks = AdvisoryLocks(
            asyncpg_dsn(settings.database_url), node_id, settings.leadership_poll_s
        )
        log.info("node=%s event=joined nats=%s", node_id, settings.nats_url)
        return cls(node_id, client, js, locks, presence, responder, control)

    def use_stream(self, services: Services) -> None:
        """Consumers and the feed read the stream's tail (the outbox behind it)."""
        assert isinstance(services.events, OutboxTail)
        self.log = JetStreamEventLog(services.events.sql)
        services.events = services.relay.log = self.log

    def checkpoints(self) -> Iterable[str]:
        """Checkpoints of this node's own that pruning must wait for."""
        return [PUBLISHER]

    def start(self, supervisor: Supervisor, services: Services) -> None:
        supervisor.start("cluster.locks", self.locks.run)
        supervisor.start("cluster.lease", self.presence.renew)
        supervisor.start("cluster.presence", self.presence.follow)
        supervisor.start("cluster.commands", self.responder.run)
        if self.log is not None:
            supervisor.start("cluster.stream", partial(self.log.follow, self.js))
            assert isinstance(self.log.sql, SqlEventLog)
            tuning = RelayTuning(poll_s=PUBLISH_POLL_S, retry_max_s=5.0)
            relay = Relay(self.log.sql, services.uow, services.clock, tuning)
            supervisor.start(
                PUBLISHER, self.lead(PUBLISHER, partial(relay.run, publisher(self.js)))
            )
        supervisor.start("cluster.sweep", self.lead("cluster.sweep", self.presence.sweep))

    def lead(self, name: str, loop: Loop) -> Loop:
        return self.locks.lead(name, loop)

    def lead_sites(self, planner: PlanningLoop, services: Services) -> Loop:
        """Take the lead of every site no other node plans."""

        async def site_ids() -> list[int]:
            async with services.uow() as s:
                return list(await s.scalars(select(Site.id)))

        return partial(self.locks.lead_each, "planning.site", site_ids, planner.take_over)

    def leads_site(self, site_id: int) -> bool:
        return self.locks.leads(f"planning.site.{site_id}")

    async def close(self) -> None:
        """Close the NATS link; a server already gone must not fail the node's shutdown."""
        try:
            async with asyncio.timeout(5):
                await self.nats.close()
        except Exception:
            log.warning("node=%s event=nats_close_failed", self.node_id, exc_info=True)
