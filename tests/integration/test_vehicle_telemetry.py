"""A connected car reports through its maker's cloud, and the planner of the AC station it
charges at (which reports no SoC) plans from the car's SoC, target and departure, until the
driver says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import connect
from tests.integration.test_charging_needs import _planned
from tests.integration.test_driver_accounts import sign_in
from tests.integration.test_ocpp201_flows import event
from tests.mail_catcher import link_in, smtp_server

ORDER = {
    "reference": "DEALER-TELEMETRY-1",
    "plan": "resident-night",
    "buyer": {"name": "Ada Lovelace", "email": "ada@example.org"},
    "vehicle": {"model_id": 4, "vin": "5YJ3E1EA7KF000002", "plate": "AL-01"},
}


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_the_planner_plans_an_ac_charge_from_the_cars_own_report(
    server: LiveServer,
) -> None:
    site = await server.add_site(grid_limit_kw=50)
    await server.add_station(
        "CP-AC", site, evses=[{"evse_id": 1, "current_type": "AC", "max_power_kw": 22}]
    )
    order = (await server.http.post("/api/v1/orders", json=ORDER)).json()
    car = order["vehicle_id"]
    models = (await server.http.get("/api/v1/accounts/vehicle-models")).json()
    battery = next(m["battery_kwh"] for m in models if m["id"] == 4)
    issued = await server.http.post(f"/api/v1/vehicles/{car}/telemetry-token")
    assert issued.status_code == 201, issued.text
    cloud = await server.client(None)
    cloud.headers["Authorization"] = f"Bearer {issued.json()['token']}"

    now = datetime.now(UTC)
    leaves = (now + timedelta(hours=9)).replace(microsecond=0)
    report = {"measured_at": _iso(now - timedelta(minutes=1)), "soc_pct": 35.0,
              "plugged_in": True, "target_soc_pct": 80.0, "departure_at": _iso(leaves)}  # fmt: skip
    async with connect(server.ws_base, "CP-AC", "ocpp2.0.1") as st:
        started = event("Started", 0, _iso(now - timedelta(minutes=2)),
                        idToken={"idToken": order["app_token_uid"], "type": "Central"},
                        evse={"id": 1, "connectorId": 1})  # fmt: skip
        await st.result("TransactionEvent", started)
        assert (await _planned(server, site, "history"))["need_kwh"] == 20.0
        r = await cloud.post(f"/api/v1/vehicles/{car}/telemetry", json=report)
        assert r.status_code == 200, r.text
        tx_id = r.json()["transaction_id"]
        assert r.json()["stored"] and tx_id is not None
        planned = await _planned(server, site, "telemetry")
        assert planned["need_kwh"] == pytest.approx(battery * 0.45, abs=1e-6)
        assert datetime.fromisoformat(planned["departure"]) == leaves
        # The same report again (a cloud's retry) is acknowledged and changes nothing.
        again = await cloud.post(f"/api/v1/vehicles/{car}/telemetry", json=report)
        assert again.status_code == 200 and not again.json()["stored"]
        # The driver's own word comes first.
        r = await server.http.put(
            f"/api/v1/transactions/{tx_id}/need",
            json={"energy_kwh": 7.5, "departure": _iso(leaves)},
        )
        assert r.status_code == 200, r.text
        assert (await _planned(server, site, "driver"))["need_kwh"] == 7.5


async def test_reports_without_the_cars_token_or_with_bad_values_are_refused(
    server: LiveServer,
) -> None:
    order = (await server.http.post("/api/v1/orders", json=ORDER)).json()
    car = order["vehicle_id"]
    first = (await server.http.post(f"/api/v1/vehicles/{car}/telemetry-token")).json()["token"]
    rotated = (await server.http.post(f"/api/v1/vehicles/{car}/telemetry-token")).json()["token"]
    good = {"measured_at": _iso(datetime.now(UTC)), "soc_pct": 50.0, "plugged_in": False}
    anonymous = await server.client(None)
    url = f"/api/v1/vehicles/{car}/telemetry"
    assert (await anonymous.post(url, json=good)).status_code == 401
    for token in (first, server.http.headers["Authorization"].split()[-1]):  # old, operator key
        r = await anonymous.post(url, json=good, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, r.text
    other_car = await anonymous.post(
        f"/api/v1/vehicles/{car + 100}/telemetry", json=good,
        headers={"Authorization": f"Bearer {rotated}"},
    )  # fmt: skip
    assert other_car.status_code == 401
    cloud = await server.client(None)
    cloud.headers["Authorization"] = f"Bearer {rotated}"
    bad = {
        "soc_pct": good | {"soc_pct": 120},
        "measured_at": good | {"measured_at": "2026-12-02T10:00:00"},  # no offset
        "speed_kmh": good | {"speed_kmh": 30},
        "plugged_in": {k: v for k, v in good.items() if k != "plugged_in"},
    }
    for field, body in bad.items():
        r = await cloud.post(url, json=body)
        assert r.status_code == 422, r.text
        assert any(field in e["loc"] for e in r.json()["detail"]), r.json()
    future = good | {"measured_at": _iso(datetime.now(UTC) + timedelta(hours=1))}
    r = await cloud.post(url, json=future)
    assert r.status_code == 422 and "future" in r.json()["detail"]
    r = await cloud.post(url, json=good)
    assert r.status_code == 200 and r.json()["stored"] and r.json()["transaction_id"] is None
    viewer = await server.client("viewer")
    assert (await viewer.post(f"/api/v1/vehicles/{car}/telemetry-token")).status_code == 403


async def test_a_driver_issues_the_token_of_their_own_car_only(database_url: str) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            mine = (await server.http.post("/api/v1/orders", json=ORDER)).json()["vehicle_id"]
            link = link_in(await smtp.next_mail(), "/account/password")
            other = ORDER | {"reference": "DEALER-TELEMETRY-2",
                             "buyer": {"name": "Bob", "email": "bob@example.org"},
                             "vehicle": {"model_id": 4, "vin": "5YJ3E1EA7KF000009"}}  # fmt: skip
            theirs = (await server.http.post("/api/v1/orders", json=other)).json()["vehicle_id"]
            anonymous = await server.client(None)
            r = await anonymous.post(
                "/api/v1/accounts/password",
                json={"token": parse_qs(urlsplit(link).query)["token"][0], "password": "pw-" * 4},
            )
            assert r.status_code == 200, r.text
            driver = await sign_in(server, "ada@example.org", "pw-" * 4)
            url = "/api/v1/me/vehicles/{}/telemetry-token"
            assert (await anonymous.post(url.format(mine))).status_code == 401
            assert (await driver.post(url.format(theirs))).status_code == 404
            issued = await driver.post(url.format(mine))
            assert issued.status_code == 201, issued.text
            report = {"measured_at": _iso(datetime.now(UTC)), "soc_pct": 61.5, "plugged_in": False}
            r = await anonymous.post(
                f"/api/v1/vehicles/{mine}/telemetry", json=report,
                headers={"Authorization": f"Bearer {issued.json()['token']}"},
            )  # fmt: skip
            assert r.status_code == 200 and r.json()["stored"], r.text
