"""`GET /api/v1/events`: the event log as server-sent events (text/event-stream).

Each event becomes `id: <outbox id>`, `event: <kind>` and `data: <json>`; comment lines keep an
idle stream open through proxies. A stream starts at the latest event, or after the one named
by the `Last-Event-ID` header (which browsers' EventSource send when they reconnect), so a
client that comes back misses nothing the log still keeps. `kinds=status,ticket.closed` keeps
the events of those kinds, a bare prefix matching its whole family (`ticket` matches
`ticket.opened` and `ticket.closed`).

A stream ends when the client goes away (Starlette cancels it on `http.disconnect`) or when
the server shuts down. uvicorn waits for open responses to finish before it runs the
application's shutdown, and tells the application nothing; what it does is clear the
keep-alive flag of every request it is draining. The stream polls that flag (when the server
has one) so that a shutdown does not wait on a feed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from evhub.auth.deps import VIEWER
from evhub.feed.stream import EventFeed, parse_kinds

router = APIRouter(tags=["feed"])


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    dependencies=[VIEWER],
)
async def events(
    request: Request,
    kinds: str | None = None,
    last_event_id: Annotated[int | None, Header()] = None,
) -> StreamingResponse:
    """Live events: status changes, tickets, transactions, station facts."""
    feed: EventFeed = request.app.state.feed
    stream = feed.stream(parse_kinds(kinds), last_event_id, _draining_probe(request))
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _draining_probe(request: Request) -> Callable[[], bool]:
    """True once the server drains this request (uvicorn: its cycle stops keeping alive)."""
    cycle: Any = getattr(request.receive, "__self__", None)
    if getattr(cycle, "keep_alive", None) is not True:
        return lambda: False
    return lambda: not cycle.keep_alive
