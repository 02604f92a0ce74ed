"""Fees after a return over HTTP: an operator charges a trip's cleaning fee and damage
franchise (once each, only on a returned trip, a franchise for a damage reported and within
the cap, over the API or the console's form), and both go once on the driver's invoice of the
month; a driver whose plan does not include car-sharing is refused a booking, and their cars
page says so."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from evhub.accounts import selfservice
from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.carsharing.policy import CarsharingPolicy
from tests.integration.carsharing_hub import INVOICING, PNG, ZOE, CarHub, car_hub, fresh_clock
from tests.integration.reservations_hub import NOW

H = timedelta(hours=1)
PASSWORD = "correct horse battery"


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[CarHub]:
    async with car_hub(database_url, fresh_clock(), **INVOICING) as live:
        yield live


async def _fee(client: httpx.AsyncClient, booking_id: int, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/fleet/bookings/{booking_id}/fees", json=body)


async def _after_report(hub: CarHub, booking_id: int, damage: str) -> int:
    data = {"phase": "after", "damage": damage, "cleanliness": "2", "note": "back"}
    files = [("photos", ("rear.png", PNG, "image/png"))]
    r = await hub.operator.post(
        f"/api/v1/carsharing/bookings/{booking_id}/reports", data=data, files=files
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_an_operator_charges_a_returned_trip_s_fees_billed_once(hub: CarHub) -> None:
    policy: CarsharingPolicy = hub.server.app.state.carsharing_policy
    zoe = int((await hub.add_vehicle(ZOE))["id"])
    ada = await hub.add_member("ada")
    r = await hub.book(ada, zoe, NOW + H)
    assert r.status_code == 201, r.text
    booking = int(r.json()["id"])
    cleaning = {"kind": "cleaning", "reason": "sand on the seats"}
    assert (await _fee(hub.operator, booking, **cleaning)).status_code == 409  # not driven yet
    assert (await hub.report(booking)).status_code == 201
    assert (await hub.operator.post(f"/api/v1/carsharing/bookings/{booking}/start")).is_success
    (await hub.car(zoe)).drive(25.0)
    damage = await _after_report(hub, booking, "minor")
    clean = await _after_report(hub, booking, "none")
    r = await _fee(hub.operator, booking, **cleaning)
    assert r.status_code == 409 and "returned trip" in r.json()["detail"]  # still in the trip
    hub.clock.current = NOW + 50 * timedelta(minutes=1)
    assert (await hub.operator.post(f"/api/v1/carsharing/bookings/{booking}/end")).is_success

    viewer, nobody = await hub.server.client("viewer"), await hub.server.client(None)
    assert (await _fee(viewer, booking, **cleaning)).status_code == 403
    assert (await _fee(nobody, booking, **cleaning)).status_code == 401
    r = await _fee(hub.operator, booking, **cleaning)
    assert r.status_code == 201, r.text
    fee = r.json()
    assert (fee["booking_id"], fee["kind"], Decimal(fee["amount"]), fee["currency"]) == (
        booking, "cleaning", policy.cleaning_fee, policy.late_fee.currency,
    )  # fmt: skip
    assert fee["description"] == "cleaning: sand on the seats"
    r = await _fee(hub.operator, booking, **cleaning | {"reason": "twice"})
    assert r.status_code == 409 and "already has a cleaning fee" in r.json()["detail"]
    r = await _fee(hub.operator, booking, **cleaning | {"kind": "damage_franchise"})
    assert r.status_code == 422  # a franchise states its amount and its report
    franchise = {"kind": "damage_franchise", "reason": "scratched door", "amount": "420.00"}
    r = await _fee(hub.operator, booking, **franchise)
    assert r.status_code == 422 and "report_id" in r.json()["detail"]
    r = await _fee(hub.operator, booking, **franchise | {"report_id": clean})
    assert r.status_code == 422 and "no damage" in r.json()["detail"]
    over = str(policy.franchise_cap + Decimal("0.01"))
    r = await _fee(hub.operator, booking, **franchise | {"report_id": damage, "amount": over})
    assert r.status_code == 422 and "at most" in r.json()["detail"]
    r = await _fee(hub.operator, booking, **franchise | {"report_id": damage})
    assert r.status_code == 201 and Decimal(r.json()["amount"]) == Decimal("420.00"), r.text
    r = await hub.server.http.post(f"/api/v1/fleet/vehicles/{zoe}/blocks", json={
        "starts_at": (NOW + 5 * H).isoformat(), "ends_at": (NOW + 6 * H).isoformat()})  # fmt: skip
    assert (await _fee(hub.operator, int(r.json()["id"]), **cleaning)).status_code == 422
    assert (await _fee(hub.operator, 999999, **cleaning)).status_code == 404
    listed = (await hub.operator.get(f"/api/v1/carsharing/bookings/{booking}")).json()
    assert [f["kind"] for f in listed["fees"]] == ["cleaning", "damage_franchise"]

    # The console's form: an operator's, with the session's CSRF token; answered in place.
    form = {"booking_id": str(booking), "kind": "cleaning", "reason": "again", "amount": ""}
    viewing, viewer_csrf = await hub.server.console("viewer")
    in_place = {"HX-Request": "true"}
    r = await viewing.post("/fleet/fees", data=form | {"csrf": viewer_csrf}, headers=in_place)
    assert r.status_code == 403
    console, csrf = await hub.server.console("operator")
    r = await console.post("/fleet/fees", data=form | {"csrf": "forged"}, headers=in_place)
    assert r.status_code == 403
    r = await console.post("/fleet/fees", data=form | {"csrf": csrf}, headers=in_place)
    assert r.status_code == 200 and "already has a cleaning fee" in r.text
    assert 'id="fleet-fees"' in (await console.get("/fleet")).text

    settings = hub.server.app.state.settings
    issued_at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    for _ in range(2):  # a second run finds everything billed
        await invoices.run_month(hub.server.app.state.services.uow, issued_at,
                                 invoices.issuer_of(settings), invoices.Month(2026, 11),
                                 sources(settings))  # fmt: skip
    (summary,) = (await hub.operator.get("/api/v1/invoices", params={"driver_id": ada})).json()
    invoice = (await hub.operator.get(f"/api/v1/invoices/{summary['id']}")).json()
    fees = [x for x in invoice["lines"] if x["source_ref"].startswith("trip-fee:")]
    assert [x["source_ref"].rsplit(":", 1)[1] for x in fees] == ["cleaning", "damage_franchise"]
    vat = policy.vat_rate * 100
    for line, amount in zip(fees, (policy.cleaning_fee, Decimal("420.00")), strict=True):
        assert (Decimal(line["amount_excl_vat"]), Decimal(line["vat_rate"])) == (amount, vat)
        assert Decimal(line["amount_incl_vat"]) == amount + amount * policy.vat_rate


async def _signed_up(hub: CarHub, name: str) -> tuple[int, httpx.AsyncClient]:
    """A self-service driver (on the default plan) with a licence on file, signed in."""
    app, email = hub.server.app, f"{name}@example.org"
    async with app.state.services.uow() as session:
        driver = await selfservice.sign_up(session, app.state.account_config, name, email,
                                           PASSWORD, NOW)  # fmt: skip
        driver.email_verified_at, driver_id = NOW, driver.id
    licence = {"driver_id": driver_id, "licence_number": f"L-{name}",
               "licence_expires_on": "2031-05-01"}  # fmt: skip
    assert (await hub.server.http.put("/api/v1/carsharing/members", json=licence)).is_success
    client = await hub.server.client(None)
    r = await client.post("/api/v1/accounts/login", json={"email": email, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return driver_id, client


async def test_a_plan_without_car_sharing_books_no_car(hub: CarHub) -> None:
    zoe = int((await hub.add_vehicle(ZOE))["id"])
    ada, page = await _signed_up(hub, "ada")
    plans = {p["code"]: p for p in (await page.get("/api/v1/accounts/plans")).json()}
    assert plans["payg"]["carsharing"] is True
    assert 'id="find"' in (await page.get("/account/cars")).text
    r = await hub.server.http.patch("/api/v1/accounts/plans/payg", json={"carsharing": None})
    assert r.status_code == 422
    r = await hub.server.http.patch("/api/v1/accounts/plans/payg", json={"carsharing": False})
    assert r.status_code == 200 and r.json()["carsharing"] is False, r.text

    r = await hub.book(ada, zoe, NOW + H)
    assert r.status_code == 409 and "does not include car-sharing" in r.json()["detail"], r.text
    text = (await page.get(f"/account/cars?site_id={hub.site_id}")).text
    assert 'id="no-carsharing"' in text and "does not include car-sharing" in text
    assert 'id="find"' not in text and not re.search(r'action="/account/cars/book"', text)
