"""Outgoing OCPI calls: credentials header, request and correlation ids, routing headers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from evhub.roaming.credentials_token import authorization_header
from evhub.roaming.wire import OcpiStatus, PartnerError, next_link

MAX_PAGES = 10_000


@dataclass(frozen=True)
class Party:
    country_code: str
    party_id: str


@dataclass(frozen=True)
class Reply:
    http_status: int
    status_code: int | None
    data: Any
    headers: httpx.Headers
    message: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300 and self.status_code == OcpiStatus.SUCCESS


@dataclass(frozen=True)
class Credential:
    """What evhub presents to one partner: its token, and how the partner wants it written."""

    token: str
    raw: bool = False


class OcpiClient:
    """One HTTP client for every partner; a call names the credential and the parties."""

    def __init__(
        self,
        us: Party,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.us = us
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        url: str,
        credential: Credential,
        to: Party | None = None,
        json: Any = None,
        params: dict[str, str] | None = None,
        timeout_s: float | None = None,
        correlation_id: str | None = None,
    ) -> Reply:
        """One request. `to` is None for configuration modules, which carry no routing
        headers (OCPI 2.2.1 §4.1.5); module requests name both parties."""
        headers = {
            "Authorization": authorization_header(credential.token, credential.raw),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": correlation_id or str(uuid.uuid4()),
        }
        if to is not None:
            headers |= {
                "OCPI-from-country-code": self.us.country_code,
                "OCPI-from-party-id": self.us.party_id,
                "OCPI-to-country-code": to.country_code,
                "OCPI-to-party-id": to.party_id,
            }
        extra: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        r = await self._http.request(
            method, url, headers=headers, json=json, params=params, **extra
        )
        try:
            body = r.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if r.status_code < 300:
                raise PartnerError(f"{method} {url}: HTTP {r.status_code} without OCPI envelope")
            return Reply(r.status_code, None, None, r.headers)
        message = body.get("status_message")
        return Reply(
            r.status_code, body.get("status_code"), body.get("data"), r.headers,
            str(message) if message is not None else None,
        )  # fmt: skip

    async def get_json(self, url: str, credential: Credential, to: Party | None = None) -> Any:
        """GET that must succeed; its `data`."""
        reply = await self.call("GET", url, credential, to)
        if not reply.ok:
            raise PartnerError(f"GET {url}: HTTP {reply.http_status}, {reply.status_code}")
        return reply.data

    async def pages(
        self,
        url: str,
        credential: Credential,
        to: Party,
        params: dict[str, str] | None = None,
    ) -> AsyncIterator[list[Any]]:
        """Every page of a paginated list, following `Link: <...>; rel="next"` (§4.1.3)."""
        next_url: str | None = url
        query = params
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            reply = await self.call("GET", next_url, credential, to, params=query)
            if not reply.ok or not isinstance(reply.data, list):
                raise PartnerError(f"GET {next_url}: HTTP {reply.http_status}, {reply.status_code}")
            yield reply.data
            next_url, query = next_link(reply.headers.get("Link")), None
        raise PartnerError(f"GET {url}: more than {MAX_PAGES} pages")
