"""The supervised loop that pulls partners' data (OCPI 2.2.1 pull model, §4.1.3 paging)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from evhub.events import EventBus
from evhub.roaming import partners, remote, tokens
from evhub.roaming.context import RoamingContext
from evhub.roaming.wire import InterfaceRole, Role

log = logging.getLogger("evhub.roaming")
RETRY_S = 60.0


class PullLoop:
    """Keeps partners' data current: CPOs' locations and tariffs, eMSPs' tokens.

    Each (partner, module) is pulled when it never was or its last pull is `pull_interval_s`
    old. The loop looks every `tick_s`, and at once after a registration in this process;
    a registration made by `evhub roaming connect` in another process is seen at the next tick.
    """

    def __init__(self, ctx: RoamingContext, bus: EventBus, tick_s: float = 5.0) -> None:
        self.ctx = ctx
        self.bus = bus
        self.tick_s = min(tick_s, ctx.pull_interval_s)
        self._failed: dict[tuple[int, str], datetime] = {}  # retried after RETRY_S, not each tick

    async def run(self) -> None:
        async with self.bus.subscribe() as events:
            while True:
                for partner_id, module in await self.due():
                    await self.pull(partner_id, module)
                await self._wait(events)

    async def _wait(self, events: asyncio.Queue[Any]) -> None:
        try:
            async with asyncio.timeout(self.tick_s):
                while (await events.get()).kind != "roaming.partner_registered":
                    pass
        except TimeoutError:
            return

    async def due(self) -> list[tuple[int, str]]:
        """The (partner, module) pairs whose pull is due now."""
        now = self.ctx.clock.now()
        stale = now - timedelta(seconds=self.ctx.pull_interval_s)
        async with self.ctx.uow() as session:
            pairs = [(p.id, m) for p in await partners.registered(session, Role.CPO)
                     for m in remote.PULLED_MODULES
                     if partners.endpoint(p, m, InterfaceRole.SENDER)]  # fmt: skip
            pairs += [(p.id, "tokens") for p in await partners.registered(session, Role.EMSP)
                      if partners.endpoint(p, "tokens", InterfaceRole.SENDER)]  # fmt: skip
            due = []
            for partner_id, module in pairs:
                last = await remote.checkpoint(session, partner_id, module)
                failed = self._failed.get((partner_id, module))
                if failed is not None and failed > now - timedelta(seconds=RETRY_S):
                    continue
                if last is None or last.pulled_at <= stale:
                    due.append((partner_id, module))
        return due

    async def pull(self, partner_id: int, module: str) -> None:
        try:
            if module == "tokens":
                count = await tokens.pull(self.ctx, partner_id)
            else:
                count = await remote.pull(self.ctx, partner_id, module)
        except Exception:  # a partner down must not stop the others' pulls
            log.exception("event=roaming_pull_failed partner_id=%s module=%s", partner_id, module)
            self._failed[(partner_id, module)] = self.ctx.clock.now()
            return
        self._failed.pop((partner_id, module), None)
        log.info("event=roaming_pulled partner_id=%s module=%s objects=%s",
                 partner_id, module, count)  # fmt: skip
