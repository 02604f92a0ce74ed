"""evhub as CPO: pushes Location and EVSE status changes to registered eMSPs (§8.2.2).

A caller (an event consumer) names what changed; each eMSP gets the push on its locations
receiver. Failures are returned, not raised: the next change or the eMSP's own pull repairs.
"""

from __future__ import annotations

import logging
import math
import time

import httpx

from evhub.assets import service as assets
from evhub.events import Event
from evhub.events.relay import Consumer
from evhub.roaming import locations, partners
from evhub.roaming.client import Credential, Party
from evhub.roaming.context import RoamingContext
from evhub.roaming.evse_ids import evse_uid
from evhub.roaming.wire import InterfaceRole, PartnerError, Role

log = logging.getLogger("evhub.roaming")

NO_RECEIVER_KEPT_S = 5.0
"""How long "no eMSP takes pushes" is believed without reading the partners again: a storm of
reconnecting stations sends thousands of status changes a second, each of which read them. A
partner's registration, unregistration or new keys end it at once (`PARTNER_CHANGES`); any other
change to a partner is seen within this time (and its first pull has every status anyway)."""
PARTNER_CHANGES = frozenset(
    {"roaming.partner_invited", "roaming.partner_registered", "roaming.partner_unregistered",
     "roaming.partner_rekeyed"}
)  # fmt: skip


async def _receivers(ctx: RoamingContext) -> list[tuple[int, str, Credential, Party]]:
    async with ctx.uow() as session:
        out = []
        for p in await partners.registered(session, Role.EMSP):
            url, to = (
                partners.endpoint(p, "locations", InterfaceRole.RECEIVER),
                partners.party(p, Role.EMSP),
            )
            if url and to and p.token_out:
                out.append((p.id, url.rstrip("/"), partners.credential(p), to))
        return out


async def push_location(ctx: RoamingContext, site_id: int) -> dict[int, bool]:
    """PUT the whole Location of a site to each eMSP; per partner id, whether it took it."""
    receivers = await _receivers(ctx)
    if not receivers:
        return {}
    async with ctx.uow() as session:
        location = await locations.get_location(session, ctx.identity, str(site_id))
    if location is None:
        return {}
    me, done = ctx.identity, {}
    for partner_id, url, credential, to in receivers:
        target = f"{url}/{me.country_code}/{me.party_id}/{site_id}"
        done[partner_id] = await _send(ctx, "PUT", target, credential, to, location)
    return done


async def push_evse_status(
    ctx: RoamingContext, site_id: int, station_id: str, evse_id: int
) -> dict[int, bool]:
    """PATCH one EVSE's status and last_updated to each eMSP (OCPI 2.2.1 §8.2.2.3)."""
    receivers = await _receivers(ctx)
    if not receivers:  # the common case without eMSPs: no location is built
        return {}
    async with ctx.uow() as session:
        location = await locations.get_location(session, ctx.identity, str(site_id))
    uid = evse_uid(station_id, evse_id)
    evse = next((e for e in (location or {}).get("evses", []) if e["uid"] == uid), None)
    if evse is None:
        return {}
    body = {"status": evse["status"], "last_updated": evse["last_updated"]}
    me, done = ctx.identity, {}
    for partner_id, url, credential, to in receivers:
        target = f"{url}/{me.country_code}/{me.party_id}/{site_id}/{uid}"
        done[partner_id] = await _send(ctx, "PATCH", target, credential, to, body)
    return done


async def _send(
    ctx: RoamingContext, method: str, url: str, credential: Credential, to: Party, body: object
) -> bool:
    try:
        reply = await ctx.client.call(method, url, credential, to, json=body)
    except (httpx.HTTPError, PartnerError) as exc:
        log.warning("event=roaming_push_failed url=%s error=%r", url, exc)
        return False
    return reply.ok


class StatusPusher:
    """Pushes each EVSE status change to the eMSPs as it is committed (`status.changed`), as a
    consumer of the event log.

    A push that fails is logged, not retried: an eMSP that is down would otherwise hold back
    every later change, and the Location it pulls carries every EVSE's current status.
    """

    def __init__(self, ctx: RoamingContext) -> None:
        self.ctx = ctx
        self._no_receiver_until = -math.inf  # monotonic time until which none is known

    def consumer(self) -> Consumer:
        return Consumer(
            "roaming.status_push", self.on_event, frozenset({"status.changed"}) | PARTNER_CHANGES
        )

    async def on_event(self, event: Event) -> None:
        if event.kind in PARTNER_CHANGES:
            self._no_receiver_until = -math.inf
            return
        if not event.data.get("evse_id"):
            return
        try:
            await self.push(event)
        except Exception:  # one bad change must not stop the others' pushes
            log.exception("event=roaming_status_push_failed data=%s", event.data)

    async def push(self, event: Event) -> None:
        station_id, evse_id = str(event.data["station_id"]), int(event.data["evse_id"])
        if time.monotonic() < self._no_receiver_until:
            return
        if not await _receivers(self.ctx):
            self._no_receiver_until = time.monotonic() + NO_RECEIVER_KEPT_S
            return
        async with self.ctx.uow() as session:
            site_id = (await assets.get_station(session, station_id)).site_id
        done = await push_evse_status(self.ctx, site_id, station_id, evse_id)
        log.info("event=roaming_status_pushed station_id=%s evse_id=%s partners=%s",
                 station_id, evse_id, done)  # fmt: skip
