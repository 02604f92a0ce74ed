"""A driver of B charges at A's station with B's token; B commands A's station.

Two evhub servers roam over OCPI 2.2.1: A is the CPO, B the eMSP. A's station speaks real
OCPP 1.6 over its socket. A authorises B's token in real time with B, pushes the live Session
(and the CDR) to B, which stores them; B's START_SESSION reaches A's station and the
CommandResult comes back. Every object exchanged is checked against the official schemas.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from sqlalchemy import select

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.roaming import (
    cdrs,
    commands_out,
    credentials,
    locations,
    partners,
    plan_prices,
    remote,
    tokens,
)
from evhub.roaming.context import RoamingContext
from evhub.roaming.deliveries import DELIVERED, QUEUED
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.models import Command
from evhub.roaming.schemas import CommandType, TokenPatch, TokenType, Whitelist
from evhub.roaming.sessions import SessionRefresher
from evhub.roaming.wire import Role, format_timestamp
from tests.committed_events import EventTail
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import RawStation, answer_until, connect
from tests.integration.test_invoice_cli import IDENTITY
from tests.integration.test_roaming import BOOT, Exchange, _a_site, _now, _record
from tests.integration.test_tariffs_api import body_of
from tests.roaming_schemas.validator import assert_envelope, assert_valid

UID = "04AABBCC"
COMMANDS = {c.value: "".join(w.title() for w in c.value.split("_")) for c in CommandType}


async def _stored(ctx: RoamingContext, events: EventTail, module: str) -> dict[str, Any]:
    """After the next write of `module` to B's cache: the object written."""
    event = await events.next(f"roaming.remote_{module}_stored")
    async with ctx.uow() as s:
        rows = await remote.list_objects(s, module)
    return next(r.data for r in rows if r.object_id == event.data["object_id"])


# Both instances share the test's event loop: on a loaded machine a call between them may wait
# past the default 10 s bound on failure.
BOUND = {"roaming_request_timeout_s": 30.0}
HUB_A = {"ocpi_party_id": "EVA", "ocpi_business_name": "Hub A", **BOUND}
HUB_B = {"ocpi_party_id": "EVB", "ocpi_business_name": "Hub B", **BOUND, **IDENTITY}
# B's driver's plan prices a roaming charge at the CPO's cost + 15 %, plus 0.50 EUR a session.
MARKUP, SESSION_FEE = Decimal("0.15"), Decimal("0.50")


def _check(seen: list[Exchange]) -> set[str]:
    """Validate the Sessions, CDRs and commands exchanged; the object names checked."""
    checked: set[str] = set()

    def valid(name: str, obj: Any) -> None:
        assert_valid(name, obj)
        checked.add(name)

    for x in seen:
        assert_envelope(x.response)
        path = httpx.URL(x.url).path
        if "/emsp/2.2.1/sessions/" in path:
            valid("Session" if x.method == "PUT" else "SessionPatch", x.request)
        elif path.endswith("/emsp/2.2.1/cdrs"):
            valid("CDR", x.request)
        elif "/cpo/2.2.1/commands/" in path:
            valid(COMMANDS[path.rsplit("/", 1)[1]], x.request)
            valid("CommandResponse", x.response["data"])
        elif "/emsp/2.2.1/commands/" in path:
            valid("CommandResult", x.request)
        else:
            continue
        assert x.response["status_code"] == 1000, x
    return checked


async def _register(a: LiveServer, b: LiveServer) -> tuple[int, int]:
    """B registers with A; returns A's partner id at B and the site of A's station."""
    a_ctx: RoamingContext = a.app.state.roaming
    b_ctx: RoamingContext = b.app.state.roaming
    site_id = await _a_site(a)
    # The site's public tariff: 0.25 EUR/kWh excl. 10 % VAT, which prices the live Sessions.
    r = await a.http.post("/api/v1/tariffs", json=body_of("tariff_8_simple_025kwh"))
    assert r.status_code == 201, r.text
    r = await a.http.patch(f"/api/v1/sites/{site_id}", json={"tariff_id": r.json()["id"]})
    assert r.status_code == 200, r.text
    async with a_ctx.uow() as s:
        await locations.set_details(s, site_id, a_ctx.clock.now(), postal_code="75008")
        token_a = await partners.invite(s, "Hub B", "FR", "EVB", Role.EMSP, a_ctx.clock.now())
    a_in_b = await credentials.connect(
        b_ctx, f"{a.base_url}/ocpi/versions", token_a, f"{b.base_url}/ocpi/versions"
    )
    await b.add_token(UID, driver_id=await _driver_on_plan(b))
    # ALLOWED: A may charge it on the whitelist, but asks B in real time first (§12.4.5).
    assert await tokens.push(b_ctx, a_in_b, Whitelist.ALLOWED) == 1
    return a_in_b, site_id


async def _driver_on_plan(b: LiveServer) -> int:
    """A driver of B on the resident plan, which has its roaming price."""
    r = await b.http.post("/api/v1/drivers", json={"name": "Roaming driver"})
    assert r.status_code == 201, r.text
    b_ctx: RoamingContext = b.app.state.roaming
    async with b_ctx.uow() as s:
        await plans.assign_plan(s, await accounts.get_driver(s, r.json()["id"]), "resident-night")
        await plan_prices.set_price(s, "resident-night", MARKUP, SESSION_FEE, b_ctx.clock.now())
    return int(r.json()["id"])


async def _invoice_month(b: LiveServer) -> list[tuple[str, Decimal, Decimal]]:
    """B invoices this month; the roaming lines of the invoice (reference, excl. VAT, VAT)."""
    b_ctx: RoamingContext = b.app.state.roaming
    now = b_ctx.clock.now()
    issuer = invoices.issuer_of(b.app.state.settings)
    month = invoices.Month(now.astimezone(issuer.tz).year, now.astimezone(issuer.tz).month)
    (number,) = await invoices.run_month(b_ctx.uow, now, issuer, month,
                                         sources(b.app.state.settings))  # fmt: skip
    async with b_ctx.uow() as s:
        (invoice,) = [i for i in (await s.scalars(invoices.invoices_query())) if i.number == number]
        lines = await invoices.lines_of(s, invoice.id)
    return [(x.source_ref, x.amount_excl_vat, x.vat_amount) for x in lines
            if x.source == "roaming"]  # fmt: skip


async def _meter(station: RawStation, tx: int, wh: int) -> None:
    sample = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    await station.result("MeterValues", {"connectorId": 1, "transactionId": tx,
                                         "meterValue": [{"timestamp": _now(),
                                                         "sampledValue": [sample]}]})  # fmt: skip


def _cdr_of(session: dict[str, Any], location: dict[str, Any]) -> dict[str, Any]:
    """The CDR A's billing would issue for the Session (billing's CDRs stand apart)."""
    evse = next(e for e in location["evses"] if e["uid"] == session["evse_uid"])
    connector = evse["connectors"][0]
    return {
        "id": f"CDR-{session['id']}",
        "start_date_time": session["start_date_time"],
        "end_date_time": session["end_date_time"],
        "cdr_location": {
            "id": location["id"], "address": location["address"], "city": location["city"],
            "country": location["country"], "coordinates": location["coordinates"],
            "evse_uid": evse["uid"], "evse_id": evse["evse_id"], "connector_id": connector["id"],
            "connector_standard": connector["standard"], "connector_format": connector["format"],
            "connector_power_type": connector["power_type"],
        },
        "currency": "EUR",
        "charging_periods": [{"start_date_time": session["start_date_time"],
                              "dimensions": [{"type": "ENERGY", "volume": session["kwh"]}]}],
        "total_cost": {"excl_vat": 1.25, "incl_vat": 1.5},
        "total_energy": session["kwh"],
        "total_time": 0.5,
        "last_updated": session["last_updated"],
    }  # fmt: skip


async def test_a_driver_of_b_charges_at_a_and_b_commands_a_station(
    database_url: str, other_database_url: str
) -> None:
    async with (
        run_server(database_url, **HUB_A) as a,
        run_server(other_database_url, **HUB_B) as b,
    ):
        a_ctx, a_seen = _record(a)
        b_ctx, b_seen = _record(b)
        a_in_b, site_id = await _register(a, b)
        b_events = await EventTail.open(b.app.state.services.events)
        async with connect(a.ws_base, "CP-1", "ocpp1.6") as station:
            assert (await station.result("BootNotification", BOOT))["status"] == "Accepted"
            # B's driver badges: A does not know the token, asks B, records B's reference.
            info = await station.result("Authorize", {"idTag": UID})
            assert info["idTagInfo"]["status"] == "Accepted"
            async with a_ctx.uow() as s:
                (decision,) = (await s.scalars(select(Decision))).all()
            assert decision.how == "AUTH_REQUEST" and decision.authorization_reference
            # The start takes that decision; its transaction becomes B's Session.
            start = {"connectorId": 1, "idTag": UID, "meterStart": 0, "timestamp": _now()}
            started = await station.result("StartTransaction", start)
            assert started["idTagInfo"]["status"] == "Accepted"
            tx = started["transactionId"]
            async with asyncio.timeout(30):
                live = await _stored(b_ctx, b_events, "sessions")
            assert live["status"] == "ACTIVE" and live["id"] == str(tx)
            assert live["cdr_token"]["uid"] == UID and live["auth_method"] == "AUTH_REQUEST"
            assert live["authorization_reference"] == decision.authorization_reference
            assert (live["location_id"], live["evse_uid"]) == (str(site_id), "CP-1:1")
            assert live["currency"] == "EUR"
            assert live["total_cost"] == {"excl_vat": 0.0, "incl_vat": 0.0}

            # Energy flows: the next refresh PATCHes it; an unchanged Session is not sent again.
            await _meter(station, tx, 1800)
            refresher = SessionRefresher(a_ctx)
            assert await refresher.refresh() == 1
            async with asyncio.timeout(30):
                charging = await _stored(b_ctx, b_events, "sessions")
            assert charging["kwh"] == 1.8 and charging["status"] == "ACTIVE"
            assert charging["total_cost"] == {"excl_vat": 0.45, "incl_vat": 0.495}
            assert await refresher.refresh() == 0

            stop = {"transactionId": tx, "meterStop": 4200, "timestamp": _now()}
            await station.result("StopTransaction", stop)
            async with asyncio.timeout(30):
                ended = await _stored(b_ctx, b_events, "sessions")
            assert ended["status"] == "COMPLETED" and ended["kwh"] == 4.2
            assert ended["total_cost"] == {"excl_vat": 1.05, "incl_vat": 1.155}
            assert "end_date_time" in ended

            # A's billing issues the CDR and roaming pushes it: B stores it and serves it at
            # the URL it answered in Location, at the Session's own cost.
            async with asyncio.timeout(30):
                cdr = await _stored(b_ctx, b_events, "cdrs")
            assert cdr["session_id"] == str(tx) and cdr["cdr_token"]["uid"] == UID
            assert cdr["total_cost"] == ended["total_cost"] and cdr["total_energy"] == 4.2
            assert cdr["cdr_location"]["evse_uid"] == ended["evse_uid"]
            assert cdr["authorization_reference"] == decision.authorization_reference
            posted = next(x for x in a_seen.seen if x.url.endswith("/emsp/2.2.1/cdrs"))
            async with a_ctx.uow() as s:
                (b_at_a,) = await partners.list_all(s)
            reply = await a_ctx.client.call("GET", posted.response_headers["Location"],
                                            partners.credential(b_at_a),
                                            partners.party(b_at_a, Role.EMSP))  # fmt: skip
            assert reply.ok and reply.data == cdr
            # A CDR is never edited (§10): posted again, B keeps the first.
            a_events = await EventTail.open(a.app.state.services.events)
            again = cdr | {"total_cost": {"excl_vat": 9.0, "incl_vat": 9.9}}
            async with a_ctx.uow() as s:
                await cdrs.queue_cdr(s, a_ctx.identity, tx, again, a_ctx.clock.now())
            async with asyncio.timeout(30):
                await a_events.next(DELIVERED)
            reply = await a_ctx.client.call("GET", posted.response_headers["Location"],
                                            partners.credential(b_at_a),
                                            partners.party(b_at_a, Role.EMSP))  # fmt: skip
            assert reply.data["total_cost"] == cdr["total_cost"]

            # B invoices it: the driver's invoice of the month carries A's CDR, once, at the
            # plan's roaming price (1.05 x 1.15 = 1.2075 -> 1.21, + 0.50), with 20 % VAT.
            cost = Decimal(str(cdr["total_cost"]["excl_vat"]))
            price = (cost * (1 + MARKUP)).quantize(Decimal("0.01"), ROUND_HALF_UP) + SESSION_FEE
            ref = f"cdr:{cdr['country_code']}/{cdr['party_id']}/{cdr['id']}"
            assert await _invoice_month(b) == [(ref, price, Decimal("0.34"))]
            assert price == Decimal("1.71")
            # Both consoles show it: A's CDR pushed and delivered, B's received and invoiced.
            a_console, _ = await a.console("viewer")
            page = (await a_console.get("/roaming/cdrs")).text
            assert 'badge on">delivered' in page and f'data-cdr="{cdr["id"]}"' in page
            b_console, _ = await b.console("viewer")
            page = (await b_console.get("/roaming/cdrs")).text
            assert f'data-cdr="{ref.removeprefix("cdr:")}"' in page and "invoice #" in page
            assert "registered" in (await b_console.get("/roaming")).text

            # B starts a session for its driver on A's EVSE 2: the command reaches the station,
            # whose answer comes back to B as the CommandResult.
            async with b_ctx.uow() as s:
                own = await accounts.find_token(s, UID)
                assert own is not None
                token = tokens.own_token_object(b_ctx.identity, own, Whitelist.ALLOWED)
            body = {"token": token, "location_id": str(site_id), "evse_uid": "CP-1:2",
                    "authorization_reference": "B-START-1"}  # fmt: skip
            command_id, response = await commands_out.send(
                b_ctx, a_in_b, CommandType.START_SESSION, body, f"{b.base_url}/ocpi"
            )
            assert response["result"] == "ACCEPTED" and response["timeout"] > 0
            call = await answer_until(station, "RemoteStartTransaction", {"status": "Accepted"})
            assert (call[3]["connectorId"], call[3]["idTag"]) == (2, UID)
            async with asyncio.timeout(30):
                result = await b_events.next(commands_out.RESULT)
            assert result.data == {"command_id": command_id, "command": "START_SESSION",
                                   "result": "ACCEPTED"}  # fmt: skip
            # The station starts; the Session carries the command's reference (COMMAND).
            start = {"connectorId": 2, "idTag": UID, "meterStart": 0, "timestamp": _now()}
            started = await station.result("StartTransaction", start)
            assert started["idTagInfo"]["status"] == "Accepted"
            async with asyncio.timeout(30):
                commanded = await _stored(b_ctx, b_events, "sessions")
            assert commanded["auth_method"] == "COMMAND" and commanded["evse_uid"] == "CP-1:2"
            assert commanded["authorization_reference"] == "B-START-1"

            # STOP_SESSION of it, and of a Session A does not know.
            stop_body = {"session_id": commanded["id"]}
            _, response = await commands_out.send(
                b_ctx, a_in_b, CommandType.STOP_SESSION, stop_body, f"{b.base_url}/ocpi"
            )
            assert response["result"] == "ACCEPTED"
            call = await answer_until(station, "RemoteStopTransaction", {"status": "Accepted"})
            assert call[3] == {"transactionId": started["transactionId"]}
            async with asyncio.timeout(30):
                assert (await b_events.next(commands_out.RESULT)).data["result"] == "ACCEPTED"
            _, response = await commands_out.send(
                b_ctx, a_in_b, CommandType.STOP_SESSION, {"session_id": "999"},
                f"{b.base_url}/ocpi",
            )  # fmt: skip
            assert response["result"] == "UNKNOWN_SESSION"

            # RESERVE_NOW of EVSE 1 for B's driver, then its CANCEL_RESERVATION.
            expiry = datetime.now(UTC) + timedelta(minutes=20)
            reserve = {"token": token, "expiry_date": format_timestamp(expiry),
                       "reservation_id": "B-RES-1", "location_id": str(site_id),
                       "evse_uid": "CP-1:1"}  # fmt: skip
            _, response = await commands_out.send(
                b_ctx, a_in_b, CommandType.RESERVE_NOW, reserve, f"{b.base_url}/ocpi"
            )
            assert response["result"] == "ACCEPTED"
            reserved = await answer_until(station, "ReserveNow", {"status": "Accepted"})
            assert (reserved[3]["connectorId"], reserved[3]["idTag"]) == (1, UID)
            async with asyncio.timeout(30):
                assert (await b_events.next(commands_out.RESULT)).data["result"] == "ACCEPTED"
            _, response = await commands_out.send(
                b_ctx, a_in_b, CommandType.CANCEL_RESERVATION, {"reservation_id": "B-RES-1"},
                f"{b.base_url}/ocpi",
            )  # fmt: skip
            assert response["result"] == "ACCEPTED"
            call = await answer_until(station, "CancelReservation", {"status": "Rejected"})
            assert call[3] == {"reservationId": reserved[3]["reservationId"]}
            async with asyncio.timeout(30):
                assert (await b_events.next(commands_out.RESULT)).data["result"] == "REJECTED"

            # A station that does not answer in time: the result is TIMEOUT.
            a_ctx.command_timeout_s = 0.5
            unlock = {"location_id": str(site_id), "evse_uid": "CP-1:1", "connector_id": "1"}
            command_id, response = await commands_out.send(
                b_ctx, a_in_b, CommandType.UNLOCK_CONNECTOR, unlock, f"{b.base_url}/ocpi"
            )
            assert response["result"] == "ACCEPTED"
            async with asyncio.timeout(30):
                assert (await b_events.next(commands_out.RESULT)).data["result"] == "TIMEOUT"
        async with b_ctx.uow() as s:
            sent = (await s.scalars(select(Command).order_by(Command.id))).all()
        assert [(c.command, c.response, c.result) for c in sent] == [
            ("START_SESSION", "ACCEPTED", "ACCEPTED"),
            ("STOP_SESSION", "ACCEPTED", "ACCEPTED"),
            ("STOP_SESSION", "UNKNOWN_SESSION", None),
            ("RESERVE_NOW", "ACCEPTED", "ACCEPTED"),
            ("CANCEL_RESERVATION", "ACCEPTED", "REJECTED"),
            ("UNLOCK_CONNECTOR", "ACCEPTED", "TIMEOUT"),
        ]
        assert {"Session", "SessionPatch", "CDR", "CommandResult"} <= _check(a_seen.seen)
        names = {"StartSession", "StopSession", "ReserveNow", "CancelReservation",
                 "UnlockConnector", "CommandResponse"}  # fmt: skip
        assert names <= _check(b_seen.seen)


BOOT_201 = {"chargingStation": {"model": "T1", "vendorName": "evhub-test"}, "reason": "PowerUp"}


async def _authorize_201(station: RawStation, uid: str) -> str:
    info = await station.result("Authorize", {"idToken": {"idToken": uid, "type": "ISO14443"}})
    return str(info["idTokenInfo"]["status"])


async def test_a_2_0_1_station_follows_the_emsp_whitelist_rule_when_the_emsp_is_down(
    database_url: str, other_database_url: str
) -> None:
    async with run_server(database_url, **HUB_A) as a:
        a_ctx: RoamingContext = a.app.state.roaming
        async with run_server(other_database_url, ocpi_party_id="EVB") as b:
            _, site_id = await _register(a, b)
        # B is gone. The token was pushed ALLOWED: a valid token charges on the whitelist.
        async with connect(a.ws_base, "CP-1", "ocpp2.0.1") as station:
            assert (await station.result("BootNotification", BOOT_201))["status"] == "Accepted"
            assert await _authorize_201(station, UID) == "Accepted"
            started = await station.result("TransactionEvent", {
                "eventType": "Started", "timestamp": _now(), "triggerReason": "Authorized",
                "seqNo": 0, "transactionInfo": {"transactionId": "T-1"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": UID, "type": "ISO14443"},
            })  # fmt: skip
            assert started["idTokenInfo"]["status"] == "Accepted"
            # B then says NEVER (whitelisting forbidden): no answer from B, no charge.
            async with a_ctx.uow() as s:
                (b_at_a,) = await partners.list_all(s)
                change = TokenPatch(whitelist=Whitelist.NEVER, last_updated=a_ctx.clock.now())
                await tokens.patch(s, b_at_a, ("FR", "EVB", UID, TokenType.RFID), change,
                                   a_ctx.clock.now())  # fmt: skip
            assert await _authorize_201(station, UID) == "Invalid"
            # ALWAYS: never asked, the token's validity decides.
            async with a_ctx.uow() as s:
                change = TokenPatch(whitelist=Whitelist.ALWAYS, last_updated=a_ctx.clock.now())
                await tokens.patch(s, b_at_a, ("FR", "EVB", UID, TokenType.RFID), change,
                                   a_ctx.clock.now())  # fmt: skip
            assert await _authorize_201(station, UID) == "Accepted"
            assert await _authorize_201(station, "NOBODY") == "Invalid"
        # At another station, a start without an Authorize: decided after its commit, the
        # Session is opened once the decision is stored.
        await a.add_station("CP-2", site_id)
        a_events = await EventTail.open(a.app.state.services.events)
        async with connect(a.ws_base, "CP-2", "ocpp2.0.1") as station:
            assert (await station.result("BootNotification", BOOT_201))["status"] == "Accepted"
            started = await station.result("TransactionEvent", {
                "eventType": "Started", "timestamp": _now(), "triggerReason": "Authorized",
                "seqNo": 0, "transactionInfo": {"transactionId": "T-2"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": UID, "type": "ISO14443"},
            })  # fmt: skip
            assert started["idTokenInfo"]["status"] == "Accepted"
            async with asyncio.timeout(30):
                while (await a_events.next(QUEUED)).data["object_key"] != "sessions/2":
                    pass
        async with a_ctx.uow() as s:
            rows = (await s.scalars(select(Decision).order_by(Decision.id))).all()
        # The first badge's decision serves the start that followed it; each other badge is
        # decided anew; the start at CP-2 had its own.
        assert [(d.station_id, d.how, d.realtime, d.allowed, d.transaction_id) for d in rows] == [
            ("CP-1", "WHITELIST", "UNREACHABLE", True, 1),
            ("CP-1", "WHITELIST", "UNREACHABLE", False, None),
            ("CP-1", "WHITELIST", "NOT_ASKED", True, None),
            ("CP-2", "WHITELIST", "NOT_ASKED", True, 2),
        ]
