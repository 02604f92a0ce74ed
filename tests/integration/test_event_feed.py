"""The event feed: the event log as server-sent events, read with a streaming HTTP client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import connect


@dataclass
class Block:
    """One server-sent event block: an event with its data, or comments only."""

    kind: str | None = None
    id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)


async def blocks(response: httpx.Response) -> AsyncIterator[Block]:
    block = Block()
    async for line in response.aiter_lines():
        if line == "":
            yield block
            block = Block()
        elif line.startswith(":"):
            block.comments.append(line[1:].strip())
        elif line.startswith("id: "):
            block.id = line.removeprefix("id: ")
        elif line.startswith("event: "):
            block.kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            block.data = json.loads(line.removeprefix("data: "))


async def next_event(stream: AsyncIterator[Block]) -> Block:
    async with asyncio.timeout(10):
        async for block in stream:
            if block.kind is not None:
                return block
    raise AssertionError("the stream ended")


async def subscribed(response: httpx.Response) -> AsyncIterator[Block]:
    """The stream's blocks, once its first block says the subscription is in place."""
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = blocks(response)
    first = await anext(stream)
    assert any(c.startswith("subscribed") for c in first.comments), first
    return stream


async def _station(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-F", site, evses=[{"evse_id": 1}])
    await server.add_token("TAG-OK")


STATUS = {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}


async def test_status_changes_tickets_and_transactions_are_streamed(server: LiveServer) -> None:
    await _station(server)
    async with server.http.stream("GET", "/api/v1/events") as r:
        stream = await subscribed(r)
        async with connect(server.ws_base, "CP-F", "ocpp1.6") as st:
            await st.result("StatusNotification", STATUS | {"timestamp": "2026-11-23T10:00:00Z"})
            kinds = []
            while "ticket.opened" not in kinds:
                block = await next_event(stream)
                kinds.append(block.kind)
                if block.kind == "status.changed":
                    assert block.data["station_id"] == "CP-F"
                    assert (block.data["status"], block.data["error_code"]) == (
                        "Faulted",
                        "GroundFailure",
                    )
                    assert block.data["at"].startswith("2026-11-23T10:00:00")
                if block.kind == "ticket.opened":
                    assert (block.data["cause"], block.data["state"]) == ("faulted", "open")
            assert kinds.index("status.changed") < kinds.index("ticket.opened")

            start = {"connectorId": 1, "idTag": "TAG-OK", "meterStart": 0}
            await st.result("StartTransaction", start | {"timestamp": "2026-11-23T10:05:00Z"})
            block = await next_event(stream)
            while block.kind != "transaction.started":
                block = await next_event(stream)
            assert block.data["station_id"] == "CP-F" and block.data["id_token"] == "TAG-OK"


async def test_kinds_filter_keeps_the_families_asked_for(server: LiveServer) -> None:
    await _station(server)
    async with server.http.stream("GET", "/api/v1/events", params={"kinds": "ticket"}) as r:
        stream = await subscribed(r)
        async with connect(server.ws_base, "CP-F", "ocpp1.6") as st:
            await st.result("StatusNotification", STATUS | {"timestamp": "2026-11-23T10:00:00Z"})
            available = STATUS | {"errorCode": "NoError", "status": "Available"}
            await st.result("StatusNotification", available | {"timestamp": "2026-11-23T10:30:00Z"})
            opened, closed = await next_event(stream), await next_event(stream)
    assert (opened.kind, closed.kind) == ("ticket.opened", "ticket.closed")
    assert closed.data["downtime_s"] == 1800


async def test_a_client_resumes_after_the_last_event_it_saw(server: LiveServer) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-F", "ocpp1.6") as st:
        async with server.http.stream("GET", "/api/v1/events", params={"kinds": "status"}) as r:
            stream = await subscribed(r)
            await st.result("StatusNotification", STATUS | {"timestamp": "2026-11-23T10:00:00Z"})
            seen = await next_event(stream)
        assert seen.id is not None and seen.data["status"] == "Faulted"
        # While the client is away:
        available = STATUS | {"errorCode": "NoError", "status": "Available"}
        await st.result("StatusNotification", available | {"timestamp": "2026-11-23T10:30:00Z"})
    headers = {"Last-Event-ID": seen.id}
    params = {"kinds": "status"}
    async with server.http.stream("GET", "/api/v1/events", params=params, headers=headers) as r:
        missed = await next_event(await subscribed(r))
    assert missed.data["status"] == "Available" and int(missed.id or 0) > int(seen.id)


async def test_idle_stream_gets_keep_alive_comments(database_url: str) -> None:
    async with run_server(database_url, feed_keepalive_s=0.2) as server:
        async with server.http.stream("GET", "/api/v1/events") as r:
            stream = await subscribed(r)
            async with asyncio.timeout(5):
                block = await anext(stream)
    assert block.kind is None and block.comments == ["keep-alive"]


async def test_client_leaving_ends_its_subscription(server: LiveServer) -> None:
    feed = server.app.state.feed
    before = feed.streams
    async with server.http.stream("GET", "/api/v1/events") as r:
        await subscribed(r)
        assert feed.streams == before + 1
    async with asyncio.timeout(5):
        while feed.streams != before:
            await asyncio.sleep(0.02)


async def test_stream_ends_promptly_when_the_server_shuts_down(database_url: str) -> None:
    async with httpx.AsyncClient() as client:
        async with run_server(database_url) as server:
            url = f"http://127.0.0.1:{server.port}/api/v1/events"
            request = client.build_request("GET", url, headers=server.http.headers)
            response = await client.send(request, stream=True)
            stream = await subscribed(response)
            stopping = time.monotonic()
        # The server stopped with the stream still open on this side.
        assert time.monotonic() - stopping < 5
        async with asyncio.timeout(5):
            async for block in stream:
                assert block.kind is None
        await response.aclose()
