"""Drivers on their own and orders from dealers, against the real server and a real SMTP
server: every mail is read from the SMTP server, every link followed over HTTP."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from evhub.accounts import contract_ids
from tests.integration.live_server import LiveServer, run_server
from tests.mail_catcher import MailCatcher, link_in, smtp_server

PASSWORD = "correct horse battery"


def token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["token"][0]


async def sign_in(server: LiveServer, email: str, password: str) -> httpx.AsyncClient:
    anonymous = await server.client(None)
    r = await anonymous.post("/api/v1/accounts/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    driver = await server.client(None)
    driver.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return driver


async def test_a_driver_signs_up_verifies_signs_in_and_manages_the_account(
    database_url: str,
) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            await _driver_journey(server, smtp)


async def _driver_journey(server: LiveServer, smtp: MailCatcher) -> None:
    anonymous = await server.client(None)
    body = {"name": "Ada", "email": "ada@example.org", "password": PASSWORD}
    r = await anonymous.post("/api/v1/accounts/signup", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["email_verified"] is False and r.json()["plan"]["code"] == "payg"
    again = await anonymous.post("/api/v1/accounts/signup", json=body)
    assert again.status_code == 409 and "exists" in again.json()["detail"]
    login = {"email": "ada@example.org", "password": PASSWORD}
    unverified = await anonymous.post("/api/v1/accounts/login", json=login)
    assert unverified.status_code == 403, unverified.text
    mail = await smtp.next_mail()
    assert (mail["To"], mail["Subject"]) == ("ada@example.org", "Confirm your e-mail address")
    await smtp.next_mail()  # the link mailed again when signing in unverified
    token = token_of(link_in(mail, "/account/verify"))
    assert (
        await anonymous.post("/api/v1/accounts/verify", json={"token": token[:-3]})
    ).status_code == 422
    verified = await anonymous.post("/api/v1/accounts/verify", json={"token": token})
    assert verified.status_code == 200 and verified.json()["email_verified"] is True
    wrong = await anonymous.post("/api/v1/accounts/login", json=login | {"password": "nope!"})
    assert wrong.status_code == 401

    driver = await sign_in(server, "ada@example.org", PASSWORD)
    account = (await driver.get("/api/v1/me/account")).json()
    contract = contract_ids.parse(account["contract_id"])
    models = (await anonymous.get("/api/v1/accounts/vehicle-models")).json()
    zoe = next(m for m in models if m["model"].startswith("Zoe"))
    car = await driver.post("/api/v1/me/vehicles", json={"model_id": zoe["id"], "plate": "AB-1"})
    assert car.status_code == 201 and car.json()["model"]["battery_kwh"] == 52.0
    tokens = (await driver.get("/api/v1/me/tokens")).json()
    assert [(t["uid"], t["type"]) for t in tokens] == [(contract.compact, "eMAID")]
    blocked = await driver.patch(
        f"/api/v1/me/tokens/{contract.compact}", json={"status": "Blocked"}
    )
    assert blocked.status_code == 200 and blocked.json()["blocked_by"] == "driver"
    seen = await server.http.get(f"/api/v1/tokens/{contract.compact}/authorization")
    assert seen.json()["status"] == "Blocked"  # what a station is told
    plan = await driver.put("/api/v1/me/plan", json={"plan": "resident-night"})
    assert plan.json()["user_group"] == "resident"
    # The operator's view of the token agrees: blocked.
    listed = (await server.http.get("/api/v1/tokens")).json()
    assert [t["status"] for t in listed if t["uid"] == contract.compact] == ["Blocked"]

    assert (await driver.post("/api/v1/accounts/logout")).status_code == 204
    assert (await driver.get("/api/v1/me/account")).status_code == 401
    await _password_reset(server, smtp, anonymous)


async def _password_reset(server: LiveServer, smtp: MailCatcher, anonymous: Any) -> None:
    r = await anonymous.post("/api/v1/accounts/password-reset", json={"email": "ada@example.org"})
    unknown = await anonymous.post(
        "/api/v1/accounts/password-reset", json={"email": "nobody@example.org"}
    )
    assert r.status_code == unknown.status_code == 202
    mail = await smtp.next_mail()
    token = token_of(link_in(mail, "/account/password"))
    body = {"token": token, "password": "a brand new one"}
    assert (await anonymous.post("/api/v1/accounts/password", json=body)).status_code == 200
    used = await anonymous.post("/api/v1/accounts/password", json=body)
    assert used.status_code == 422 and "used already" in used.json()["detail"]
    await sign_in(server, "ada@example.org", "a brand new one")
    assert smtp.queue.empty()  # nothing was mailed to the unknown address


ORDER = {
    "reference": "DEALER-7-2026-0042",
    "plan": "resident-night",
    "buyer": {"name": "Grace Hopper", "email": "grace@example.org"},
    "vehicle": {"model_id": 4, "vin": "5YJ3E1EA7KF000001", "plate": "GH-42"},
}


async def test_an_order_is_placed_once_and_its_buyer_sets_a_password(database_url: str) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            dealer = await server.client("operator")
            viewer = await server.client("viewer")
            assert (await viewer.post("/api/v1/orders", json=ORDER)).status_code == 403
            # Two deliveries of the same order at once: one creates, the other replays.
            first, second = await asyncio.gather(
                dealer.post("/api/v1/orders", json=ORDER), dealer.post("/api/v1/orders", json=ORDER)
            )
            assert sorted([first.status_code, second.status_code]) == [200, 201], first.text
            assert first.json() == second.json()
            result = first.json()
            assert result["account_created"] and result["card"]["state"] == "to_post"
            other = await dealer.post("/api/v1/orders", json=ORDER | {"plan": "fleet"})
            assert other.status_code == 409 and "another content" in other.json()["detail"]
            fetched = await viewer.get(f"/api/v1/orders/{ORDER['reference']}")
            assert fetched.json() == result

            welcome = await smtp.next_mail()
            assert welcome["To"] == "grace@example.org"
            body = welcome.get_body(("plain",))
            assert body is not None and result["contract_id"] in body.get_content()
            token = token_of(link_in(welcome, "/account/password"))
            anonymous = await server.client(None)
            r = await anonymous.post(
                "/api/v1/accounts/password", json={"token": token, "password": PASSWORD}
            )
            assert r.status_code == 200 and r.json()["email_verified"] is True
            driver = await sign_in(server, "grace@example.org", PASSWORD)
            cars = (await driver.get("/api/v1/me/vehicles")).json()
            assert [c["vin"] for c in cars] == [ORDER["vehicle"]["vin"]]
            cards = (await driver.get("/api/v1/me/cards")).json()
            assert [c["state"] for c in cards] == ["to_post"]

            admin = server.http
            posted = await admin.post(
                f"/api/v1/cards/{cards[0]['id']}/posted", json={"uid": "04AABBCCDD"}
            )
            assert (
                posted.status_code == 200 and posted.json()["contract_id"] == result["contract_id"]
            )
            assert (await admin.get("/api/v1/cards/to-post")).json() == []
            assert smtp.queue.empty() and len(smtp.received) == 1  # one welcome, not two


async def test_driver_routes_refuse_anyone_without_a_driver_session(database_url: str) -> None:
    async with run_server(database_url) as server:
        nobody = await server.client(None)
        operator = await server.client("admin")  # an operator's key is no driver session
        forged = await server.client(None)
        forged.headers["Authorization"] = "Bearer drv_not-a-session"
        calls = [
            ("GET", "/api/v1/me/account", None), ("GET", "/api/v1/me/vehicles", None),
            ("POST", "/api/v1/me/vehicles", {"model_id": 1}), ("GET", "/api/v1/me/tokens", None),
            ("PATCH", "/api/v1/me/tokens/X", {"status": "Blocked"}),
            ("PUT", "/api/v1/me/plan", {"plan": "fleet"}), ("POST", "/api/v1/me/cards", None),
            ("DELETE", "/api/v1/me/vehicles/1", None), ("POST", "/api/v1/accounts/logout", None),
        ]  # fmt: skip
        for client in (nobody, operator, forged):
            for method, path, body in calls:
                r = await client.request(method, path, json=body)
                assert r.status_code == 401, (method, path, r.text)
                assert "not signed in" in r.json()["detail"]
        page = await nobody.get("/account")
        assert page.status_code == 303 and page.headers["location"] == "/account/login"
        action = await nobody.post("/account/cards", data={"csrf": "x"})
        assert action.status_code == 303 and action.headers["location"] == "/account/login"


async def test_a_cookie_session_needs_its_csrf_token_to_change_anything(database_url: str) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            anonymous = await server.client(None)
            body = {"name": "Ada", "email": "ada@example.org", "password": PASSWORD}
            assert (await anonymous.post("/api/v1/accounts/signup", json=body)).status_code == 201
            token = token_of(link_in(await smtp.next_mail(), "/account/verify"))
            assert (
                await anonymous.get("/account/verify", params={"token": token})
            ).status_code == 200
            browser = await server.client(None)
            form = await browser.get("/account/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            login = {"csrf": csrf.group(1), "email": "ada@example.org", "password": PASSWORD}
            forged_login = await browser.post("/account/login", data=login | {"csrf": "forged"})
            assert forged_login.status_code == 400
            assert (await browser.post("/account/login", data=login)).status_code == 303
            home = await browser.get("/account")
            session_csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
            assert home.status_code == 200 and session_csrf is not None
            refused = await browser.post("/account/cards", data={"csrf": "forged"})
            assert refused.status_code == 403
            api_refused = await browser.post("/api/v1/me/cards")
            assert api_refused.status_code == 403 and "CSRF" in api_refused.json()["detail"]
            assert (await browser.get("/api/v1/me/cards")).json() == []
            done = await browser.post("/account/cards", data={"csrf": session_csrf.group(1)})
            assert done.status_code == 303
            headers = {"X-CSRF-Token": session_csrf.group(1)}
            assert (await browser.post("/api/v1/me/cards", headers=headers)).status_code == 201
            assert len((await browser.get("/api/v1/me/cards")).json()) == 2
