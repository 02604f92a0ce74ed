"""How uvicorn serves evhub: HTTP request headers must arrive in time, only so many
connections may still be sending theirs, and a stopping server marks its stations offline
before it closes their sockets (`StoppingServer`).

uvicorn 0.54 arms its keep-alive timer only between requests: a client that opens a
connection and sends half a header is held forever, and a few thousand such sockets hold the
server's descriptors (a slowloris). The protocol class below closes a connection whose request
headers are not complete `header_timeout_s` after its first byte (or after it opened), and
closes at once a new connection beyond `max_pending` ones still in that state.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from evhub.settings import Settings

log = logging.getLogger("evhub.serving")


def guarded_http_protocol(header_timeout_s: float, max_pending: int) -> type[HttpToolsProtocol]:
    """A uvicorn HTTP protocol class with a header deadline; the class owns its count of
    connections still sending headers (one class per server)."""
    pending: set[HttpToolsProtocol] = set()

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(pending) >= max_pending:
                log.warning("event=refused reason=pending_headers client=%s", self.client)
                transport.close()
                return
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is None:
                pending.add(self)
                self._header_timer = self.loop.call_later(header_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            pending.discard(self)

        def _expired(self) -> None:
            self._header_timer = None
            pending.discard(self)
            log.info("event=closed reason=header_timeout client=%s", self.client)
            self.transport.close()

    return GuardedHttpToolsProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The options of `uvicorn.run` / `uvicorn.Config` that protect the server."""
    return {
        "http": guarded_http_protocol(
            settings.ocpp_header_timeout_s, settings.pending_handshake_cap()
        ),
        "ws_ping_interval": None,
    }


# Young, middle and full collections (`gc.set_threshold`): see `tune_collector`.
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


class StoppingServer(uvicorn.Server):
    """uvicorn's server with one step of its own when it stops: after it stops accepting
    connections and before it asks the open ones to close, `before_close` runs (evhub marks
    its stations offline there, in one transaction)."""

    def __init__(
        self,
        config: uvicorn.Config,
        before_close: Callable[[], Awaitable[Any]],
        young_threshold: int = COLLECTOR_THRESHOLDS[0],
    ) -> None:
        super().__init__(config)
        self._before_close = before_close
        self._young_threshold = young_threshold

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            tune_collector(self._young_threshold)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # again in uvicorn's own shutdown: closing twice does nothing
        try:
            await self._before_close()
        except Exception:
            log.exception("event=before_close_failed")
        await super().shutdown(sockets)


def tune_collector(young_threshold: int = COLLECTOR_THRESHOLDS[0]) -> None:
    """Fit the cyclic collector to a gateway's heap. Timed in storms of 5,000 stations
    (PostgreSQL; gc callbacks around each collection): with the defaults (700, 10, 10) the
    collector took 15-16 % of the server's CPU, 13 of those points in full collections of about
    a million objects, 0.3 to 0.6 s each, every socket waiting meanwhile, two or three a minute.
    Young collections every 10,000 allocations instead of 700 make every older generation's
    collections 14 times rarer: 5.6 % of the CPU, a full collection about once a minute of
    storm, at 17 % more memory (971 against 828 MB). What start-up built (modules, tables,
    routes, compiled validators) lives as long as the process: it is frozen out of every later
    collection, once collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_threshold, *COLLECTOR_THRESHOLDS[1:])
