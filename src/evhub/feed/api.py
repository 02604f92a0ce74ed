"""`GET /api/v1/events`: the event bus as server-sent events (text/event-stream).

Each bus event becomes `event: <kind>` and `data: <json>`; comment lines keep an idle stream
open through proxies. `kinds=status,ticket.closed` keeps the events of those kinds, a bare
prefix matching its whole family (`ticket` matches `ticket.opened` and `ticket.closed`).

A stream ends when the client goes away (Starlette cancels it on `http.disconnect`) or when
the server shuts down. uvicorn waits for open responses to finish before it runs the
application's shutdown, and tells the application nothing; what it does is clear the
keep-alive flag of every request it is draining. The stream polls that flag (when the server
has one) so that a shutdown does not wait on a feed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from evhub.auth.deps import VIEWER
from evhub.events import Event, EventBus

router = APIRouter(tags=["feed"])

POLL_S = 0.25  # how often an idle stream looks for a shutdown


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    dependencies=[VIEWER],
)
async def events(request: Request, kinds: str | None = None) -> StreamingResponse:
    """Live events: status changes, tickets, transactions, station facts."""
    bus: EventBus = request.app.state.bus
    keepalive_s = float(request.app.state.settings.feed_keepalive_s)
    stream = sse_stream(bus, parse_kinds(kinds), keepalive_s, _draining_probe(request))
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def parse_kinds(kinds: str | None) -> frozenset[str]:
    return frozenset(k.strip() for k in (kinds or "").split(",") if k.strip())


def wanted(kind: str, kinds: frozenset[str]) -> bool:
    return not kinds or any(kind == k or kind.startswith(k + ".") for k in kinds)


def format_event(event: Event) -> str:
    data = json.dumps({"kind": event.kind, "at": event.at, **event.data}, default=_json_default)
    return f"event: {event.kind}\ndata: {data}\n\n"


async def sse_stream(
    bus: EventBus,
    kinds: frozenset[str],
    keepalive_s: float,
    draining: Callable[[], bool] = lambda: False,
) -> AsyncIterator[str]:
    async with bus.subscribe() as queue:
        # The first line tells the client it is subscribed: nothing published after it is lost.
        yield f"retry: 3000\n: subscribed kinds={','.join(sorted(kinds)) or '*'}\n\n"
        last_sent = time.monotonic()
        while not draining():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=min(POLL_S, keepalive_s))
            except TimeoutError:
                if time.monotonic() - last_sent >= keepalive_s:
                    last_sent = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            if wanted(event.kind, kinds):
                last_sent = time.monotonic()
                yield format_event(event)


def _draining_probe(request: Request) -> Callable[[], bool]:
    """True once the server drains this request (uvicorn: its cycle stops keeping alive)."""
    cycle: Any = getattr(request.receive, "__self__", None)
    if getattr(cycle, "keep_alive", None) is not True:
        return lambda: False
    return lambda: not cycle.keep_alive


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
