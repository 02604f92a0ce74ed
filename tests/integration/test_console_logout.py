"""Signing out revokes the session on the server: a copy of its cookie is refused after."""

from __future__ import annotations

import httpx

from evhub.auth.deps import SESSION_COOKIE
from tests.integration.live_server import USER_PASSWORD, LiveServer, login


async def test_a_cookie_copied_before_logout_is_refused_after(server: LiveServer) -> None:
    browser, csrf = await server.console("admin")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as thief:
        thief.cookies.set(SESSION_COOKIE, browser.cookies[SESSION_COOKIE])
        assert (await thief.get("/api/v1/me")).json()["kind"] == "user"
        assert (await thief.get("/tickets")).status_code == 200

        r = await browser.post("/logout", data={"csrf": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/login"

        assert (await thief.get("/api/v1/me")).status_code == 401
        r = await thief.get("/tickets")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        r = await thief.post("/api/v1/sites", json={}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 401


async def test_signing_out_ends_only_that_session(server: LiveServer) -> None:
    browser, csrf = await server.console("viewer")
    name = (await browser.get("/api/v1/me")).json()["name"]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as phone:
        await login(phone, name, USER_PASSWORD)
        await browser.post("/logout", data={"csrf": csrf})
        assert (await browser.get("/api/v1/me")).status_code == 401
        assert (await phone.get("/api/v1/me")).json()["name"] == name
