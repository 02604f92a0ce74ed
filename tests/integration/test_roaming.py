"""Two evhub servers roam with each other over OCPI 2.2.1: A is the CPO, B the eMSP.

Each runs on its own port with its own database. B registers with A using the TOKEN_A that A's
operator made, pulls A's locations, pushes its drivers' tokens; A authorises one in real time
with B. Every object exchanged is checked against the official 2.2.1 schemas.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from evhub.errors import InvalidInput
from evhub.roaming import credentials, locations, partners, push, remote, service, tokens
from evhub.roaming.authorization import NoAnswer
from evhub.roaming.client import Credential, OcpiClient
from evhub.roaming.context import RoamingContext
from evhub.roaming.credentials_token import authorization_header
from evhub.roaming.partners import PartnerStatus
from evhub.roaming.schemas import Allowed, LocationReferences, Whitelist
from evhub.roaming.wire import Role
from tests.committed_events import EventTail
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import connect
from tests.roaming_schemas.validator import assert_envelope, assert_valid

BOOT = {"chargePointVendor": "evhub-test", "chargePointModel": "T1"}
ROUTING = (
    "OCPI-from-country-code",
    "OCPI-from-party-id",
    "OCPI-to-country-code",
    "OCPI-to-party-id",
)


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: httpx.Headers
    request: Any
    status: int
    response: Any
    response_headers: httpx.Headers = field(default_factory=httpx.Headers)


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Every OCPI call a server makes, with both bodies, for the schema checks."""

    inner: httpx.AsyncHTTPTransport = field(default_factory=httpx.AsyncHTTPTransport)
    seen: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        sent = httpx.Response(response.status_code, headers=response.headers, content=body)
        payload = json.loads(request.content) if request.content else None
        self.seen.append(Exchange(request.method, str(request.url), request.headers, payload,
                                  response.status_code, sent.json() if body else None,
                                  sent.headers))  # fmt: skip
        return sent


def _record(live: LiveServer) -> tuple[RoamingContext, Recorder]:
    ctx: RoamingContext = live.app.state.roaming
    recorder = Recorder()
    ctx.client = OcpiClient(ctx.identity.party, 10.0, transport=recorder)
    return ctx, recorder


async def _a_site(a: LiveServer) -> int:
    site_id = await a.add_site(address="12 avenue des Champs", town="Paris",
                               latitude=48.8698, longitude=2.3075)  # fmt: skip
    await a.add_station("CP-1", site_id, evses=[{"evse_id": 1}, {"evse_id": 2}])
    return site_id


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _cached_evse_status(ctx: RoamingContext, events: EventTail, evse_uid: str) -> str | None:
    """After the next cache write: the status of one EVSE in the eMSP's cached Location."""
    await events.next("roaming.remote_locations_stored")
    async with ctx.uow() as s:
        (cached,) = await remote.list_objects(s, "locations")
    return next((e["status"] for e in cached.data["evses"] if e["uid"] == evse_uid), None)


def _check_schemas(seen: list[Exchange]) -> int:
    """Validate every exchanged object by the endpoint it went through; returns the count."""
    checked = 0
    for x in seen:
        assert_envelope(x.response)
        data = x.response.get("data")
        path = httpx.URL(x.url).path
        module = re.search(r"/(cpo|emsp)/2\.2\.1/", path)
        assert all((h in x.request_headers) == bool(module) for h in ROUTING), (
            x.url,
            x.request_headers,
        )
        if x.response["status_code"] != 1000:
            continue
        if path.endswith("/versions"):
            [assert_valid("Version", v) for v in data]
        elif path.endswith("/2.2.1"):
            assert_valid("VersionDetails", data)
        elif path.endswith("/credentials") and x.method in ("POST", "PUT"):
            assert_valid("Credentials", x.request)
            assert_valid("Credentials", data)
        elif "/cpo/2.2.1/locations" in path and x.method == "GET":
            [assert_valid("Location", loc) for loc in data]
        elif "/emsp/2.2.1/locations" in path and x.method == "PUT":
            assert_valid("Location", x.request)
        elif "/cpo/2.2.1/tokens" in path and x.method == "PUT":
            assert_valid("Token", x.request)
        elif path.endswith("/authorize"):
            if x.request is not None:
                assert_valid("LocationReferences", x.request)
            assert_valid("AuthorizationInfo", data)
        elif "/emsp/2.2.1/tokens" in path and x.method == "GET":
            [assert_valid("Token", t) for t in data]
        else:
            continue
        checked += 1
    return checked


async def test_two_evhubs_register_share_locations_and_authorise_a_token_in_real_time(
    database_url: str, other_database_url: str
) -> None:
    async with run_server(database_url, ocpi_party_id="EVA", ocpi_business_name="Hub A") as a:
        a_ctx, a_seen = _record(a)
        b_in_a, site_id = await _roam_with_b(a, a_ctx, a_seen, other_database_url)
        # B is gone: ALLOWED_OFFLINE lets a valid token charge on the whitelist alone.
        decision = await service.authorize_roaming(a_ctx, "04DDEEFF")
        assert decision is not None and decision.allowed
        assert decision.realtime is NoAnswer.UNREACHABLE


async def _roam_with_b(
    a: LiveServer, a_ctx: RoamingContext, a_seen: Recorder, other_database_url: str
) -> tuple[int, int]:
    async with run_server(other_database_url, ocpi_party_id="EVB", ocpi_business_name="Hub B") as b:
        b_ctx, b_seen = _record(b)
        site_id = await _a_site(a)
        async with a_ctx.uow() as s:
            await locations.set_details(
                s, site_id, a_ctx.clock.now(), postal_code="75008", parking_type="PARKING_GARAGE"
            )
            token_a = await partners.invite(s, "Hub B", "FR", "EVB", Role.EMSP, a_ctx.clock.now())

        # The handshake: B GETs A's versions and details, POSTs TOKEN_B; A GETs B's, answers C.
        a_versions = f"{a.base_url}/ocpi/versions"
        b_events = await EventTail.open(b.app.state.services.events)
        b_in_a = await credentials.connect(
            b_ctx, a_versions, token_a, f"{b.base_url}/ocpi/versions"
        )
        # From then on B's server pulls A's locations by itself.
        async with asyncio.timeout(10):
            await b_events.next("roaming.remote_locations_stored")
        async with a_ctx.uow() as s:
            (a_partner,) = await partners.list_all(s)
        async with b_ctx.uow() as s:
            b_partner = await partners.get(s, b_in_a)
        assert a_partner.status == b_partner.status == PartnerStatus.REGISTERED
        assert partners.plays(a_partner, Role.EMSP, "FR", "EVB")
        assert partners.plays(b_partner, Role.CPO, "FR", "EVA")
        assert b_partner.token_out is not None and a_partner.token_out is not None
        called_back = [x for x in a_seen.seen if x.url.startswith(b.base_url)]
        assert [httpx.URL(x.url).path for x in called_back[:2]] == ["/ocpi/versions", "/ocpi/2.2.1"]

        async with httpx.AsyncClient(base_url=f"{a.base_url}/ocpi") as http:
            # TOKEN_A is dead; a second POST with the registered token is refused with 405.
            r = await http.get(
                "/versions", headers={"Authorization": authorization_header(token_a)}
            )
            assert r.status_code == 401
            assert_envelope(r.json())
            c_header = {"Authorization": authorization_header(b_partner.token_out)}
            body = credentials.our_credentials(
                b_ctx.identity, "another", f"{b.base_url}/ocpi/versions"
            )
            r = await http.post("/2.2.1/credentials", json=body, headers=c_header)
            assert r.status_code == 405
            assert_envelope(r.json())

        # A pull on demand asks only for what changed since the last one (date_from).
        await remote.pull(b_ctx, b_in_a, "locations")
        pulls = [x for x in b_seen.seen if "/cpo/2.2.1/locations" in x.url]
        assert "date_from" not in pulls[0].url and "date_from=" in pulls[-1].url
        async with b_ctx.uow() as s:
            (cached,) = await remote.list_objects(s, "locations", b_in_a)
        assert cached.object_id == str(site_id) and cached.data["postal_code"] == "75008"
        assert cached.data["parking_type"] == "PARKING_GARAGE"
        assert [e["evse_id"] for e in cached.data["evses"]] == ["FR*EVA*ECP1*1", "FR*EVA*ECP1*2"]

        # B pushes its drivers' tokens; A authorises one in real time with B.
        await b.add_token("04AABBCC")
        await b.add_token("04DDEEFF")
        assert await tokens.push(b_ctx, b_in_a, Whitelist.ALLOWED_OFFLINE) == 2
        where = LocationReferences(location_id=str(site_id), evse_uids=["CP-1:1"])
        decision = await service.authorize_roaming(a_ctx, "04AABBCC", where)
        assert decision is not None and decision.allowed
        assert decision.realtime is Allowed.ALLOWED and decision.authorization_reference
        r = await b.http.patch("/api/v1/tokens/04AABBCC", json={"status": "Blocked"})
        assert r.status_code == 200, r.text
        decision = await service.authorize_roaming(a_ctx, "04AABBCC", where)
        assert decision is not None and not decision.allowed
        assert decision.realtime is Allowed.BLOCKED
        assert await service.authorize_roaming(a_ctx, "NOT-ROAMING") is None

        # A pulls B's tokens too; A pushes its location to B's receiver.
        assert await tokens.pull(a_ctx, a_partner.id) == 2
        assert await push.push_location(a_ctx, site_id) == {a_partner.id: True}
        assert await push.push_evse_status(a_ctx, site_id, "CP-1", 2) == {a_partner.id: True}

        # A's station reports over OCPP; A pushes the EVSE's new status, B's cache follows.
        b_events = await EventTail.open(b.app.state.services.events)
        async with connect(a.ws_base, "CP-1", "ocpp1.6") as station:
            assert (await station.result("BootNotification", BOOT))["status"] == "Accepted"
            status = {"connectorId": 2, "errorCode": "NoError", "status": "Charging"}
            await station.result("StatusNotification", status | {"timestamp": _now()})
            async with asyncio.timeout(10):
                while await _cached_evse_status(b_ctx, b_events, "CP-1:2") != "CHARGING":
                    pass

        assert _check_schemas(a_seen.seen) >= 6
        assert _check_schemas(b_seen.seen) >= 5
        return b_in_a, site_id


async def test_the_ocpi_edge_answers_every_request_in_the_envelope(
    database_url: str, other_database_url: str
) -> None:
    async with (
        run_server(database_url, ocpi_party_id="EVA") as a,
        run_server(other_database_url, ocpi_party_id="EVB") as b,
    ):
        for n in range(3):
            await a.add_site(name=f"Hub {n}", address=f"{n} rue Haute", town="Lyon",
                             latitude=45.76 + n / 100, longitude=4.83)  # fmt: skip
        a_ctx: RoamingContext = a.app.state.roaming
        b_ctx: RoamingContext = b.app.state.roaming
        async with a_ctx.uow() as s:
            token_a = await partners.invite(s, "Hub B", "FR", "EVB", Role.EMSP, a_ctx.clock.now())
        b_in_a = await credentials.connect(
            b_ctx, f"{a.base_url}/ocpi/versions", token_a, f"{b.base_url}/ocpi/versions"
        )
        async with b_ctx.uow() as s:
            partner = await partners.get(s, b_in_a)
        assert partner.token_out is not None
        good = {"Authorization": authorization_header(partner.token_out)}
        async with httpx.AsyncClient(base_url=f"{a.base_url}/ocpi") as http:
            ids = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
            r = await http.get(
                "/cpo/2.2.1/locations", headers={"Authorization": "Token bm9wZQ=="} | ids
            )
            assert r.status_code == 401 and r.json()["status_code"] == 2000
            assert (
                r.headers["X-Request-ID"] == "req-1" and r.headers["X-Correlation-ID"] == "corr-1"
            )
            r = await http.get("/cpo/2.2.1/nothing/here/at/all", headers=good)
            assert r.status_code == 404
            assert_envelope(r.json())
            r = await http.get("/cpo/2.2.1/locations/999", headers=good)
            assert r.status_code == 404 and r.json()["status_code"] == 2003
            r = await http.get("/cpo/2.2.1/locations", params={"date_from": "soon"}, headers=good)
            assert r.json()["status_code"] == 2001
            r = await http.get("/cpo/2.2.1/locations", params={"limit": "x"}, headers=good)
            assert r.json()["status_code"] == 2001
            r = await http.put("/cpo/2.2.1/tokens/FR/EVB/X1", json={"uid": "X1"}, headers=good)
            assert r.json()["status_code"] == 2001
            assert_envelope(r.json())

        # Pages of one, following Link with the filters kept; date_to is exclusive.
        url = f"{a.base_url}/ocpi/cpo/2.2.1/locations"
        credential = partners.credential(partner)
        to = partners.party(partner, Role.CPO)
        assert to is not None
        pages = [p async for p in b_ctx.client.pages(url, credential, to, {"limit": "1"})]
        assert [len(p) for p in pages] == [1, 1, 1]
        assert [p[0]["name"] for p in pages] == ["Hub 0", "Hub 1", "Hub 2"]
        stamp = pages[0][0]["last_updated"]
        before = [p async for p in b_ctx.client.pages(url, credential, to, {"date_to": stamp})]
        since = [p async for p in b_ctx.client.pages(url, credential, to, {"date_from": stamp})]
        assert sum(map(len, before)) == 0 and sum(map(len, since)) == 3
        async with httpx.AsyncClient() as http:
            r = await http.get(url, params={"limit": "2", "date_from": stamp}, headers=good)
        assert r.headers["X-Total-Count"] == "3" and r.headers["X-Limit"] == "2"
        assert f"date_from={stamp.replace(':', '%3A')}" in r.headers["Link"]
        assert "offset=2" in r.headers["Link"]

        # GET /credentials answers with the token presented (evhub keeps only its hash).
        async with httpx.AsyncClient(base_url=f"{a.base_url}/ocpi") as http:
            r = await http.get("/2.2.1/credentials", headers=good)
            assert_valid("Credentials", r.json()["data"])
            assert r.json()["data"]["token"] == partner.token_out
            assert {x["role"] for x in r.json()["data"]["roles"]} == {"CPO", "EMSP"}

            # Tokens receiver: PUT creates (201), PATCH merges and needs last_updated.
            token = {"country_code": "FR", "party_id": "EVB", "uid": "T1", "type": "RFID",
                     "contract_id": "FR-EVB-C1", "issuer": "Hub B", "valid": True,
                     "whitelist": "NEVER", "last_updated": "2026-12-01T10:00:00Z"}  # fmt: skip
            path = "/cpo/2.2.1/tokens/FR/EVB/T1"
            r = await http.put(path, params={"type": "RFID"}, json=token, headers=good)
            assert r.status_code == 201 and r.json()["status_code"] == 1000
            r = await http.put(path, json=token | {"party_id": "XYZ"}, headers=good)
            assert r.json()["status_code"] == 2001  # not the URL's token
            r = await http.patch(path, json={"valid": False}, headers=good)
            assert r.json()["status_code"] == 2001
            r = await http.patch(
                path, json={"valid": False, "last_updated": "2026-12-01T11:00:00Z"}, headers=good
            )
            assert r.json()["status_code"] == 1000
            r = await http.get(path, headers=good)
            assert_valid("Token", r.json()["data"])
            assert r.json()["data"]["valid"] is False
            r = await http.get("/cpo/2.2.1/tokens/FR/EVB/NOPE", headers=good)
            assert r.status_code == 404 and r.json()["status_code"] == 2004
        refused = await service.authorize_roaming(a_ctx, "T1")
        assert refused is not None and not refused.allowed  # NEVER, and B does not know T1
        assert refused.realtime is NoAnswer.UNKNOWN_TOKEN

        # Unknown token in real time: the eMSP answers 2004.
        async with httpx.AsyncClient() as http:
            async with a_ctx.uow() as s:
                (b_seen_by_a,) = await partners.list_all(s)
            a_header = {"Authorization": authorization_header(b_seen_by_a.token_out or "")}
            r = await http.post(
                f"{b.base_url}/ocpi/emsp/2.2.1/tokens/NOPE/authorize", headers=a_header
            )
        assert r.status_code == 404 and r.json()["status_code"] == 2004

        # Re-key (PUT) from B, then unregister (DELETE): the old tokens stop working.
        old = Credential(partner.token_out)
        await credentials.rekey(b_ctx, b_in_a, f"{b.base_url}/ocpi/versions")
        reply = await b_ctx.client.call("GET", url, old, to)
        assert reply.http_status == 401
        async with b_ctx.uow() as s:
            fresh = partners.credential(await partners.get(s, b_in_a))
        assert (await b_ctx.client.call("GET", url, fresh, to)).ok
        reply = await b_ctx.client.call("DELETE", f"{a.base_url}/ocpi/2.2.1/credentials", fresh)
        assert reply.ok
        assert (await b_ctx.client.call("GET", url, fresh, to)).http_status == 401


async def test_a_partner_flagged_for_raw_tokens_may_send_them_unencoded(
    database_url: str, other_database_url: str
) -> None:
    async with run_server(database_url, ocpi_party_id="EVA") as a:
        a_ctx: RoamingContext = a.app.state.roaming
        async with a_ctx.uow() as s:
            raw_ok = await partners.invite(
                s, "Old", "DE", "OLD", Role.EMSP, a_ctx.clock.now(), True
            )
            strict = await partners.invite(s, "New", "DE", "NEW", Role.EMSP, a_ctx.clock.now())
            for role, cc, pid in [(Role.HUB, "DE", "HUB"), (Role.CPO, "DEU", "ABC")]:
                with pytest.raises(InvalidInput):
                    await partners.invite(s, "Bad", cc, pid, role, a_ctx.clock.now())
        async with httpx.AsyncClient(base_url=f"{a.base_url}/ocpi") as http:
            for token, raw, expected in [(raw_ok, True, 200), (raw_ok, False, 200),
                                         (strict, True, 401), (strict, False, 200)]:  # fmt: skip
                r = await http.get(
                    "/versions", headers={"Authorization": authorization_header(token, raw)}
                )
                assert r.status_code == expected, (token, raw)
