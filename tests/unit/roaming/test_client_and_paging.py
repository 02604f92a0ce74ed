"""Outgoing headers (routing only on module calls) and the server side of paging filters."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx

from evhub.roaming.client import Credential, OcpiClient, Party
from evhub.roaming.deps import Page

US, THEM = Party("FR", "EVH"), Party("NL", "ABC")


def _client(
    seen: list[httpx.Request], pages: dict[str, tuple[list[int], str | None]]
) -> OcpiClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        data, link = pages.get(str(request.url), ([], None))
        headers = {"Link": f'<{link}>; rel="next"'} if link else {}
        body = {"status_code": 1000, "timestamp": "2026-12-01T00:00:00Z", "data": data}
        return httpx.Response(200, json=body, headers=headers)

    return OcpiClient(US, 5.0, transport=httpx.MockTransport(answer))


async def test_configuration_calls_carry_no_routing_headers_module_calls_do() -> None:
    seen: list[httpx.Request] = []
    client = _client(seen, {})
    await client.call("GET", "https://p.example/versions", Credential("tok"))
    await client.call("GET", "https://p.example/cpo/locations", Credential("tok"), THEM)
    await client.aclose()
    config, module = seen
    assert config.headers["Authorization"] == "Token " + base64.b64encode(b"tok").decode()
    assert "X-Request-ID" in config.headers and "X-Correlation-ID" in config.headers
    assert not [h for h in config.headers if h.lower().startswith("ocpi-")]
    assert (module.headers["OCPI-from-country-code"], module.headers["OCPI-from-party-id"]) == (
        "FR",
        "EVH",
    )
    assert (module.headers["OCPI-to-country-code"], module.headers["OCPI-to-party-id"]) == (
        "NL",
        "ABC",
    )


async def test_pages_follow_the_next_link_until_there_is_none() -> None:
    seen: list[httpx.Request] = []
    first = "https://p.example/l?date_from=2026-01-01T00%3A00%3A00Z"
    pages = {
        first: ([1, 2], "https://p.example/l?date_from=x&offset=2&limit=2"),
        "https://p.example/l?date_from=x&offset=2&limit=2": ([3], None),
    }
    client = _client(seen, pages)
    got = [p async for p in client.pages("https://p.example/l", Credential("t"), THEM,
                                         {"date_from": "2026-01-01T00:00:00Z"})]  # fmt: skip
    await client.aclose()
    assert got == [[1, 2], [3]]
    assert [str(r.url) for r in seen] == list(pages)
    assert json.loads(seen[0].content or b"null") is None


def test_date_from_is_inclusive_date_to_exclusive_then_the_page_is_cut() -> None:
    def item(hour: int) -> dict[str, str]:
        return {"id": str(hour), "last_updated": f"2026-12-01T{hour:02d}:00:00Z"}

    items = [item(h) for h in range(8)]
    at = datetime(2026, 12, 1, 2, tzinfo=UTC)
    until = datetime(2026, 12, 1, 6, tzinfo=UTC)
    chosen, total = Page(offset=1, limit=2, date_from=at, date_to=until).select(items)
    assert total == 4  # hours 2, 3, 4, 5
    assert [i["id"] for i in chosen] == ["3", "4"]
