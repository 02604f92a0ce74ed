"""Who may call what: every API route and console page, derived from the application's routes,
so that a route added without a rule fails here."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from evhub.accounts.driver_deps import current_driver
from evhub.app import create_app
from evhub.auth.deps import Require
from evhub.auth.roles import Role
from evhub.planning.telemetry_api import authenticated_car
from evhub.settings import Settings
from evhub.web.console import PageRequire
from tests.integration.live_server import LiveServer

ROLES = (Role.FUNDER, Role.VIEWER, Role.OPERATOR, Role.ADMIN)
# Called by stations, which hold no key: guarded by a signed token in the URL instead.
STATION_ROUTES = re.compile(r"^/api/v1/uploads/")
OPEN_PAGES = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}
# Public feeds (GBFS, open data) are for anyone, on purpose.
PUBLIC_FEEDS = re.compile(r"^/(gbfs|open-data)/")
# Creating or changing the network, its drivers and its credentials is for admins.
ADMIN_ONLY = {
    ("POST", "/api/v1/sites"), ("PATCH", "/api/v1/sites/{site_id}"),
    ("POST", "/api/v1/stations"), ("PATCH", "/api/v1/stations/{station_id}"),
    ("POST", "/api/v1/drivers"), ("POST", "/api/v1/tokens"), ("PATCH", "/api/v1/tokens/{uid}"),
    ("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/{user_id}"),
    ("GET", "/api/v1/api-keys"), ("POST", "/api/v1/api-keys"),
    ("DELETE", "/api/v1/api-keys/{key_id}"),
}  # fmt: skip
# Drivers' own routes: open before sign-in (sign-up, mailed links, the catalogue), else behind
# the driver's session (`accounts.driver_deps.current_driver`), never an operator's role.
OPEN_DRIVER_ROUTES = {
    ("POST", "/api/v1/accounts/signup"), ("POST", "/api/v1/accounts/verify"),
    ("POST", "/api/v1/accounts/login"), ("POST", "/api/v1/accounts/password-reset"),
    ("POST", "/api/v1/accounts/password"), ("GET", "/api/v1/accounts/plans"),
    ("GET", "/api/v1/accounts/vehicle-models"),
}  # fmt: skip
DRIVER_PAGES = re.compile(r"^/account(/|$)")
INT_PARAMS = re.compile(r"\{(\w*_id|request_id)\}")


def _app() -> FastAPI:
    return create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"), migrate=False)


def _endpoints(app: FastAPI) -> list[tuple[str, str, Dependant]]:
    """(method, path, dependant) of every HTTP route, with the routers' own dependencies."""
    return [
        (method, str(context.path), context.dependant)
        for context in routing.iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in sorted(context.methods or ())
    ]


def _rule(dependant: Dependant) -> Require | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Require):
            return dep.call
        found = _rule(dep)
        if found is not None:
            return found
    return None


def _for_drivers(dependant: Dependant) -> bool:
    return any(d.call is current_driver or _for_drivers(d) for d in dependant.dependencies)


def _for_cars(dependant: Dependant) -> bool:
    """A connected car's route: its own telemetry token, neither a role nor a driver."""
    return any(d.call is authenticated_car or _for_cars(d) for d in dependant.dependencies)


def api_rules() -> list[tuple[str, str, Role | None]]:
    return [
        (method, path, rule.role_for(method) if (rule := _rule(dependant)) else None)
        for method, path, dependant in _endpoints(_app())
        if path.startswith("/api/")
        and not STATION_ROUTES.match(path)
        and (method, path) not in OPEN_DRIVER_ROUTES
        and not _for_drivers(dependant)
        and not _for_cars(dependant)
    ]


def test_driver_routes_are_open_or_behind_a_driver_session_never_both() -> None:
    endpoints = [(m, p, d) for m, p, d in _endpoints(_app()) if p.startswith("/api/v1/me/")]
    assert len(endpoints) >= 8
    assert all(_for_drivers(d) and _rule(d) is None for _, _, d in endpoints)
    opened = {(m, p) for m, p, d in _endpoints(_app()) if (m, p) in OPEN_DRIVER_ROUTES}
    assert opened == OPEN_DRIVER_ROUTES  # each still exists, and none needs a session
    assert not any(_for_drivers(d) or _rule(d) for m, p, d in _endpoints(_app())
                   if (m, p) in OPEN_DRIVER_ROUTES)  # fmt: skip


def test_a_cars_route_takes_only_the_cars_own_token() -> None:
    cars = [(m, p, d) for m, p, d in _endpoints(_app()) if _for_cars(d)]
    assert [(m, p) for m, p, _ in cars] == [("POST", "/api/v1/vehicles/{vehicle_id}/telemetry")]
    assert all(_rule(d) is None and not _for_drivers(d) for _, _, d in cars)


def page_rules() -> list[tuple[str, str, Role | None, bool]]:
    out = []
    for method, path, dependant in _endpoints(_app()):
        if path.startswith("/api/") or (method, path) in OPEN_PAGES or PUBLIC_FEEDS.match(path):
            continue
        if DRIVER_PAGES.match(path):  # drivers' pages: tested in test_driver_accounts
            continue
        rule = _rule(dependant)
        out.append((method, path, rule.role_for(method) if rule else None,
                    isinstance(rule, PageRequire)))  # fmt: skip
    return out


def test_every_api_route_states_a_role() -> None:
    rules = api_rules()
    assert len(rules) > 40
    missing = [(m, p) for m, p, role in rules if role is None]
    assert not missing, f"routes without a role: {missing}"
    writes_for_viewers = [(m, p) for m, p, role in rules if m != "GET" and role == Role.VIEWER]
    assert not writes_for_viewers, f"viewers may not change anything: {writes_for_viewers}"
    declared = {(m, p): role for m, p, role in rules}
    wrong = {key: declared.get(key) for key in ADMIN_ONLY if declared.get(key) != Role.ADMIN}
    assert not wrong, f"these are for admins only: {wrong}"


def test_every_console_page_states_a_role() -> None:
    rules = page_rules()
    pages = {"/", "/sites/{site_id}", "/stations/{station_id}", "/transactions", "/reservations"}
    assert {p for _, p, _, _ in rules} >= pages | {"/tickets", "/logout"}
    missing = [(m, p) for m, p, role, page in rules if role is None or not page]
    assert not missing, f"console routes without a page rule: {missing}"


def _url(path: str) -> str:
    return INT_PARAMS.sub("999999", re.sub(r"\{(\w+)\}", lambda m: _sample(m.group(0)), path))


def _sample(param: str) -> str:
    return "999999" if INT_PARAMS.fullmatch(param) else "CP-NONE"


async def _status(client: httpx.AsyncClient, method: str, path: str, **extra: Any) -> int:
    body: dict[str, Any] = {} if method in ("GET", "DELETE") else {"json": {}}
    request = client.build_request(method, _url(path), **body, **extra)
    response = await client.send(request, stream=True)  # the event feed never ends
    await response.aclose()
    return response.status_code


@pytest.mark.timeout(300)
async def test_api_answers_each_role_as_its_rule_says(server: LiveServer) -> None:
    clients = {role: await server.client(role) for role in ROLES}
    anonymous = await server.client(None)
    failures = []
    for method, path, required in api_rules():
        assert required is not None
        got = await _status(anonymous, method, path)
        if got != 401:
            failures.append(f"anonymous {method} {path}: {got}")
        for role, client in clients.items():
            got = await _status(client, method, path)
            denied = not role.allows(required)
            if denied and got != 403 or not denied and got in (401, 403):
                failures.append(f"{role} {method} {path} (needs {required}): {got}")
    assert not failures, "\n".join(failures)


async def test_console_pages_need_a_login_and_actions_an_operator(server: LiveServer) -> None:
    anonymous = await server.client(None)
    funder, funder_csrf = await server.console("funder")
    viewer, viewer_csrf = await server.console("viewer")
    operator, operator_csrf = await server.console("operator")
    failures = []
    for method, path, required, _ in page_rules():
        assert required is not None
        got = await _status(anonymous, method, path)
        if got != 303:
            failures.append(f"anonymous {method} {path}: {got}")
        if (method, path) == ("POST", "/logout"):
            continue  # it would end the sessions the rest of the loop uses
        for role, client, csrf in ((Role.FUNDER, funder, funder_csrf),
                                   (Role.VIEWER, viewer, viewer_csrf),
                                   (Role.OPERATOR, operator, operator_csrf)):  # fmt: skip
            got = await _status(client, method, path, headers={"X-CSRF-Token": csrf})
            denied = not role.allows(required)
            if denied and got != 403 or not denied and got in (401, 403):
                failures.append(f"{role} {method} {path} (needs {required}): {got}")
    assert not failures, "\n".join(failures)


async def test_unauthenticated_answers_say_why(server: LiveServer) -> None:
    anonymous = await server.client(None)
    r = await anonymous.get("/api/v1/sites")
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await anonymous.get("/api/v1/sites", headers={"Authorization": "Bearer evh_wrong"})
    assert r.status_code == 401
    viewer = await server.client("viewer")
    r = await viewer.post("/api/v1/sites", json={})
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/openapi.json")).status_code == 200


async def test_a_revoked_key_is_refused(server: LiveServer) -> None:
    r = await server.http.post("/api/v1/api-keys", json={"name": "tool", "role": "viewer"})
    key = r.json()
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert (await server.http.get("/api/v1/sites", headers=headers)).status_code == 200
    listed = {k["id"]: k for k in (await server.http.get("/api/v1/api-keys")).json()}
    assert listed[key["id"]]["last_used_at"] is not None
    assert "key" not in listed[key["id"]]
    assert (await server.http.delete(f"/api/v1/api-keys/{key['id']}")).status_code == 200
    assert (await server.http.get("/api/v1/sites", headers=headers)).status_code == 401


async def test_the_console_session_calls_the_api_with_its_csrf_token(server: LiveServer) -> None:
    browser, csrf = await server.console("operator")
    assert (await browser.get("/api/v1/sites")).status_code == 200
    me = (await browser.get("/api/v1/me")).json()
    assert me["kind"] == "user" and me["role"] == "operator"
    r = await browser.post("/api/v1/tickets/999999/close", json={"note": "x"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = await browser.post(
        "/api/v1/tickets/999999/close", json={"note": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 404


async def test_upload_urls_are_only_good_with_their_token(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-U", site)
    anonymous = await server.client(None)
    r = await anonymous.put("/api/v1/uploads/CP-U/12/not-the-token/x.log", content=b"x")
    assert r.status_code == 404
    r = await anonymous.put("/api/v1/uploads/CP-U/12/x.log", content=b"x")
    # Redirected to the same path with a slash, where "x.log" would be the token: refused.
    assert r.status_code in (307, 404, 405)
    r = await anonymous.put("/api/v1/uploads/CP-U/12/x.log/", content=b"x")
    assert r.status_code == 404
