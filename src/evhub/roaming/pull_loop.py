"""The supervised loop that pulls partners' data (OCPI 2.2.1 pull model, §4.1.3 paging)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from evhub.events import Event
from evhub.events.relay import Consumer
from evhub.roaming import partners, remote, tokens
from evhub.roaming.context import RoamingContext
from evhub.roaming.wire import InterfaceRole, Role

log = logging.getLogger("evhub.roaming")
RETRY_S = 60.0
REGISTERED = "roaming.partner_registered"


class PullLoop:
    """Keeps partners' data current: CPOs' locations and tariffs, eMSPs' tokens.

    Each (partner, module) is pulled when it never was or its last pull is `pull_interval_s`
    old. The loop looks every `tick_s`, and at once when a registration reaches the event log
    (made by this server, or by `evhub roaming connect` in another process).
    """

    def __init__(self, ctx: RoamingContext, tick_s: float = 5.0) -> None:
        self.ctx = ctx
        self._registered = asyncio.Event()
        self.tick_s = min(tick_s, ctx.pull_interval_s)
        self._failed: dict[tuple[int, str], datetime] = {}  # retried after RETRY_S, not each tick

    def consumer(self) -> Consumer:
        """Wakes the loop when a partner registers (from the event log, any process)."""
        return Consumer("roaming.pull_wake", self.on_event, frozenset({REGISTERED}), per_node=True)

    async def on_event(self, _: Event) -> None:
        self._registered.set()

    async def run(self) -> None:
        while True:
            for partner_id, module in await self.due():
                await self.pull(partner_id, module)
            await self._wait()

    async def _wait(self) -> None:
        try:
            async with asyncio.timeout(self.tick_s):
                await self._registered.wait()
        except TimeoutError:
            return
        finally:
            self._registered.clear()

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
