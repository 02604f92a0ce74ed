"""The supervised loop that pulls partners' data (OCPI 2.2.1 pull model, §4.1.3 paging)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from evhub.events import EventBus
from evhub.roaming import partners, remote, tokens
from evhub.roaming.context import RoamingContext
from evhub.roaming.wire import InterfaceRole, Role

log = logging.getLogger("evhub.roaming")


class PullLoop:
    """Keeps partners' data current: CPOs' locations and tariffs, eMSPs' tokens; at start,
    after each registration, and every `pull_interval_s`."""

    def __init__(self, ctx: RoamingContext, bus: EventBus) -> None:
        self.ctx = ctx
        self.bus = bus

    async def run(self) -> None:
        async with self.bus.subscribe() as events:
            while True:
                await self.pull_all()
                await self._wait(events)

    async def _wait(self, events: asyncio.Queue[Any]) -> None:
        try:
            async with asyncio.timeout(self.ctx.pull_interval_s):
                while (await events.get()).kind != "roaming.partner_registered":
                    pass
        except TimeoutError:
            return

    async def pull_all(self) -> None:
        async with self.ctx.uow() as session:
            cpos = await partners.registered(session, Role.CPO)
            todo = [(p.id, m) for p in cpos for m in remote.PULLED_MODULES
                    if partners.endpoint(p, m, InterfaceRole.SENDER)]  # fmt: skip
            emsps = await partners.registered(session, Role.EMSP)
            todo += [(p.id, "tokens") for p in emsps
                     if partners.endpoint(p, "tokens", InterfaceRole.SENDER)]  # fmt: skip
        for partner_id, module in todo:
            try:
                if module == "tokens":
                    count = await tokens.pull(self.ctx, partner_id)
                else:
                    count = await remote.pull(self.ctx, partner_id, module)
                log.info("event=roaming_pulled partner_id=%s module=%s objects=%s",
                         partner_id, module, count)  # fmt: skip
            except Exception:
                log.exception(
                    "event=roaming_pull_failed partner_id=%s module=%s", partner_id, module
                )
