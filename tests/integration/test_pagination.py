"""List routes come in pages: `limit`/`offset`, the total in `X-Total-Count`, the next and
previous pages in `Link`; the body stays the JSON array it always was."""

from __future__ import annotations

import httpx
import pytest

from evhub.pagination import MAX_LIMIT
from evhub.remote.cli import _all_pages
from tests.integration.live_server import LiveServer


async def _stations(server: LiveServer, n: int) -> list[str]:
    site = await server.add_site()
    ids = [f"CP-{i:02d}" for i in range(n)]
    for station_id in ids:
        await server.add_station(station_id, site)
    return ids


async def test_stations_come_in_pages_with_links_and_a_total(server: LiveServer) -> None:
    ids = await _stations(server, 7)
    seen: list[str] = []
    r = await server.http.get("/api/v1/stations", params={"limit": 3})
    while True:
        assert r.status_code == 200 and r.headers["X-Total-Count"] == "7"
        seen += [s["id"] for s in r.json()]
        if "next" not in r.links:
            break
        r = await server.http.get(r.links["next"]["url"])
    assert seen == ids
    assert r.links["prev"]["url"].endswith("limit=3&offset=3")
    everything = await server.http.get("/api/v1/stations")
    assert [s["id"] for s in everything.json()] == ids and "Link" not in everything.headers


@pytest.mark.parametrize("path", ["/api/v1/stations", "/api/v1/sites", "/api/v1/tokens"])
async def test_a_page_is_bounded(server: LiveServer, path: str) -> None:
    assert (await server.http.get(path, params={"limit": MAX_LIMIT + 1})).status_code == 422
    assert (await server.http.get(path, params={"limit": 0})).status_code == 422
    assert (await server.http.get(path, params={"offset": -1})).status_code == 422
    r = await server.http.get(path, params={"limit": MAX_LIMIT, "offset": 10_000})
    assert r.status_code == 200 and r.json() == []


async def test_the_command_line_follows_the_pages(server: LiveServer) -> None:
    ids = await _stations(server, 5)
    async with httpx.AsyncClient(
        base_url=f"{server.base_url}", headers=dict(server.http.headers)
    ) as http:
        rows = await _all_pages(http, "/api/v1/stations", {"limit": 2})
    assert [s["id"] for s in rows] == ids
