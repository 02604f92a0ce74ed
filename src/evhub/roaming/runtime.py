"""The roaming domain's loops and consumers, started by the composition root (its loops once
per cluster when several nodes run).

`cdr_lookup` is billing's OCPI CDR by id; without it the CDR consumer passes CDRs by.
"""

from __future__ import annotations

from datetime import timedelta

from evhub.events.relay import Relay
from evhub.roaming.cdrs import CdrLookup, CdrPusher
from evhub.roaming.commands import CommandRunner
from evhub.roaming.context import RoamingContext
from evhub.roaming.deliveries import DeliveryLoop
from evhub.roaming.delivery_retention import DeliveryPruner
from evhub.roaming.pull_loop import PullLoop
from evhub.roaming.push import StatusPusher
from evhub.roaming.sessions import SessionRefresher, SessionTracker
from evhub.settings import Settings
from evhub.supervisor import LoopStarter


def start_roaming(
    supervisor: LoopStarter,
    relay: Relay,
    ctx: RoamingContext,
    settings: Settings,
    cdr_lookup: CdrLookup | None = None,
) -> None:
    pull = PullLoop(ctx)
    delivery = DeliveryLoop(ctx)
    for consumer in (
        pull.consumer(), StatusPusher(ctx).consumer(), SessionTracker(ctx).consumer(),
        CommandRunner(ctx).consumer(), CdrPusher(ctx, cdr_lookup).consumer(),
        delivery.consumer(),
    ):  # fmt: skip
        relay.add(consumer)
    supervisor.start("roaming.pull", pull.run)
    supervisor.start("roaming.deliveries", delivery.run)
    retention = timedelta(days=settings.roaming_delivery_retention_days)
    supervisor.start("roaming.prune", DeliveryPruner(ctx, retention).run)
    supervisor.start(
        "roaming.sessions", SessionRefresher(ctx, settings.roaming_session_update_s).run
    )
