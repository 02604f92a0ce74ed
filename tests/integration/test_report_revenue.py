"""Revenue excl. VAT in the monthly report, over a month of priced charges, bookings with fees
and a car-sharing trip made through the real server: the report's amounts are the ones worked
out here from what was made, per plan, site, town and network, in CSV, JSON, PDF and console.

November 2026, Europe/Paris. Two towns: Anse (sites Mairie and Gare) and Jassans (Centre).
The public tariff is 0.30 EUR/kWh excl. VAT; the resident plan's own tariff 0.20 EUR/kWh.
Drivers: Ada (resident-night plan), Bo (payg plan), Cy (no plan), and a token with no driver
of ours (a roaming charge). One charge is corrected after its CDR was issued (credit and new
CDR); one charge started in October, by Paris time, and is left out.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from evhub.billing.issuer import CONSUMER as CDR_ISSUER
from tests.integration.carsharing_hub import PNG, ZOE
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import connect
from tests.integration.payments_hub import handled
from tests.integration.reservations_hub import StoppedClock, reservation_pass
from tests.screenshots import SCREENSHOTS

T0 = datetime.fromisoformat("2026-11-25T08:00:00+00:00")  # bookings and the trip
NOW = datetime.fromisoformat("2026-11-30T12:00:00+00:00")  # the report: the month cut here
PUBLIC, RESIDENT = Decimal("0.30"), Decimal("0.20")  # EUR/kWh excl. VAT
HUB = (45.9369, 4.7206)
BOOT = {"chargePointVendor": "A", "chargePointModel": "B"}


def tariff(price: Decimal) -> dict[str, Any]:
    component = {"type": "ENERGY", "price": float(price), "vat": 20, "step_size": 1}
    return {"currency": "EUR", "elements": [{"price_components": [component]}]}


@dataclass(frozen=True)
class Charge:
    station: str
    connector: int
    tag: str
    wh: int
    start: str  # UTC
    end: str


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(T0)


@pytest.fixture
async def server(database_url: str, clock: StoppedClock) -> AsyncIterator[LiveServer]:
    async with run_server(
        database_url, clock=clock, reservation_period_s=3600, plan_interval_s=3600,
        carsharing_period_s=3600,
    ) as live:  # fmt: skip
        yield live


async def order(server: LiveServer, operator: Any, name: str, plan: str) -> tuple[int, str]:
    """A driver on `plan`, as a dealer's order opens one: (driver id, app token uid)."""
    models = (await server.http.get("/api/v1/accounts/vehicle-models")).json()
    body = {
        "reference": f"ORDER-{name}", "plan": plan, "rfid_card": False,
        "buyer": {"name": name, "email": f"{name.lower()}@example.org"},
        "vehicle": {"model_id": models[0]["id"]},
    }  # fmt: skip
    r = await operator.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["driver_id"]), str(r.json()["app_token_uid"])


async def network(server: LiveServer) -> dict[str, Any]:
    """Tariffs, plans, sites, stations and the four kinds of token."""
    public = (await server.http.post("/api/v1/tariffs", json=tariff(PUBLIC))).json()["id"]
    resident = (await server.http.post("/api/v1/tariffs", json=tariff(RESIDENT))).json()["id"]
    r = await server.http.patch(
        "/api/v1/accounts/plans/resident-night", json={"tariff_id": resident}
    )
    assert r.status_code == 200, r.text
    sites = {}
    for town, name, station in (("Anse", "Mairie", "CP-M"), ("Anse", "Gare", "CP-G"),
                                ("Jassans", "Centre", "CP-J")):  # fmt: skip
        site = await server.add_site(
            town=town, name=name, latitude=HUB[0], longitude=HUB[1], address="1 place"
        )
        r = await server.http.patch(f"/api/v1/sites/{site}", json={"tariff_id": public})
        assert r.status_code == 200, r.text
        await server.add_station(station, site, evses=[{"evse_id": 1}, {"evse_id": 2}])
        sites[name] = site
    operator = await server.client("operator")
    ada, ada_tag = await order(server, operator, "Ada", "resident-night")
    bo, bo_tag = await order(server, operator, "Bo", "payg")
    cy = await server.http.post("/api/v1/drivers", json={"name": "Cy", "user_group": "staff"})
    await server.add_token("CY-1", driver_id=cy.json()["id"])
    await server.add_token("ROAM-1")  # a token with no driver of ours
    return {
        "sites": sites, "operator": operator, "ada": ada, "bo": bo,
        "tags": {"ada": ada_tag, "bo": bo_tag, "cy": "CY-1", "roam": "ROAM-1"},
    }  # fmt: skip


def charges(tags: dict[str, str]) -> list[Charge]:
    return [
        # 31 Oct 23:30 in Paris: October's, not in the report.
        Charge("CP-M", 1, tags["bo"], 9_000, "2026-10-31T22:30:00Z", "2026-10-31T23:00:00Z"),
        # 1 Nov 00:30 in Paris: November's.
        Charge("CP-M", 1, tags["ada"], 10_000, "2026-10-31T23:30:00Z", "2026-11-01T01:00:00Z"),
        Charge("CP-M", 2, tags["bo"], 20_000, "2026-11-05T09:00:00Z", "2026-11-05T11:00:00Z"),
        Charge("CP-M", 1, tags["roam"], 5_500, "2026-11-06T12:00:00Z", "2026-11-06T13:00:00Z"),
        Charge("CP-G", 1, tags["cy"], 7_300, "2026-11-08T08:00:00Z", "2026-11-08T09:00:00Z"),
        Charge("CP-G", 2, tags["ada"], 3_100, "2026-11-09T18:00:00Z", "2026-11-09T19:00:00Z"),
        Charge("CP-J", 1, tags["bo"], 12_000, "2026-11-10T07:00:00Z", "2026-11-10T08:30:00Z"),
        Charge("CP-J", 2, tags["ada"], 4_000, "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z"),
    ]


async def charge_all(server: LiveServer, made: list[Charge]) -> None:
    for station in sorted({c.station for c in made}):
        async with connect(server.ws_base, station, "ocpp1.6") as st:
            await st.result("BootNotification", BOOT)
            for c in (c for c in made if c.station == station):
                start = {"connectorId": c.connector, "idTag": c.tag, "meterStart": 1_000,
                         "timestamp": c.start}  # fmt: skip
                tx = (await st.result("StartTransaction", start))["transactionId"]
                stop = {"transactionId": tx, "meterStop": 1_000 + c.wh, "timestamp": c.end,
                        "idTag": c.tag, "reason": "EVDisconnected"}  # fmt: skip
                await st.result("StopTransaction", stop)


async def bookings_with_fees(server: LiveServer, clock: StoppedClock, sites: dict[str, int],
                             bo: int, ada: int) -> None:  # fmt: skip
    """At Mairie a booking cancelled late (a fee) and one cancelled in time (none); at
    Centre a booking nobody came to (a no-show fee). All start in November."""
    start = T0 + timedelta(hours=1)

    async def book(site: int, starts_at: datetime, driver: int) -> int:
        body = {
            "site_id": site,
            "driver_id": driver,
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=1)).isoformat(),
            "energy_kwh": 10.0,
        }
        r = await server.http.post("/api/v1/bookings", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    late = await book(sites["Mairie"], start, bo)
    in_time = await book(sites["Mairie"], start + timedelta(hours=3), bo)
    nobody = await book(sites["Centre"], start, ada)
    r = await server.http.post(f"/api/v1/bookings/{in_time}/cancel", json={})
    assert r.json()["fee_rule"] is None
    clock.current = start - timedelta(minutes=29)
    r = await server.http.post(f"/api/v1/bookings/{late}/cancel", json={})
    assert r.json()["fee_rule"] == "late_cancellation"
    clock.current = start + timedelta(minutes=16)
    await reservation_pass(server)
    r = await server.http.get(f"/api/v1/bookings/{nobody}")
    assert (r.json()["state"], r.json()["fee_rule"]) == ("no_show", "no_show")


async def car_trip(server: LiveServer, clock: StoppedClock, operator: Any, site: int) -> Decimal:
    """A trip of a car based at Mairie, ended in November, 50 minutes and 42 km within the
    booked hour: what it costs at the server's car-sharing prices (no late fee)."""
    car = await server.http.post("/api/v1/fleet/vehicles", json=ZOE | {"home_site_id": site})
    assert car.status_code == 201, car.text
    driver = (await server.http.post("/api/v1/drivers", json={"name": "Di"})).json()["id"]
    licence = {"driver_id": driver, "licence_number": "L-Di", "licence_expires_on": "2031-05-01"}
    assert (await server.http.put("/api/v1/carsharing/members", json=licence)).status_code == 200
    clock.current = T0 + timedelta(days=1)
    body = {"driver_id": driver, "vehicle_id": car.json()["id"],
            "ends_at": (clock.current + timedelta(hours=1)).isoformat()}  # fmt: skip
    booking = (await operator.post("/api/v1/carsharing/bookings", json=body)).json()
    files = [("photos", ("side.png", PNG, "image/png"))]
    data = {"phase": "before", "damage": "none", "cleanliness": "5"}
    path = f"/api/v1/carsharing/bookings/{booking['id']}"
    assert (await operator.post(f"{path}/reports", data=data, files=files)).status_code == 201
    assert (await operator.post(f"{path}/start")).status_code == 200
    (await server.app.state.vehicle_control.car(car.json()["id"])).drive(42.0)
    clock.current += timedelta(minutes=50)
    r = await operator.post(f"{path}/end")
    assert r.status_code == 200, r.text
    assert r.json()["distance_km"] == 42.0
    assert r.json()["booking"]["fees"] == []  # back in time
    prices = server.app.state.settings
    time = (prices.carsharing_price_per_hour * 50 / 60).quantize(Decimal("0.01"))
    return time + prices.carsharing_price_per_km * 42


def expected_charging(made: list[Charge], tags: dict[str, str], site_of: dict[str, int],
                      corrected_wh: int) -> dict[int, dict[str, Decimal]]:  # fmt: skip
    """Per site, per plan: each November charge's kWh at its tariff, Bo's 20 kWh at Mairie
    counted as corrected."""
    plan = {tags["ada"]: "resident-night", tags["bo"]: "payg", tags["cy"]: "no plan",
            tags["roam"]: "roaming"}  # fmt: skip
    out: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for c in made:
        if c.start < "2026-10-31T23:00:00Z":
            continue
        wh = corrected_wh if (c.tag, c.wh) == (tags["bo"], 20_000) else c.wh
        price = RESIDENT if plan[c.tag] == "resident-night" else PUBLIC
        out[site_of[c.station]][plan[c.tag]] += Decimal(wh) / 1000 * price
    return out


def by_scope(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["scope"], s["site_name"] or s["town"]): s for s in report["scopes"]}


def amounts(items: list[dict[str, str]], key: str = "currency") -> dict[str, Decimal]:
    return {i[key]: Decimal(i["amount_excl_vat"]) for i in items}


def plans(scope: dict[str, Any]) -> dict[str, Decimal]:
    found = scope["revenue"]["charging_by_plan"]
    assert {p["currency"] for p in found} <= {"EUR"}
    return amounts(found, "plan")


async def test_revenue_by_plan_fees_and_trips_equal_what_was_made(
    server: LiveServer, clock: StoppedClock
) -> None:
    made_network = await network(server)
    sites, tags = made_network["sites"], made_network["tags"]
    await bookings_with_fees(server, clock, sites, made_network["bo"], made_network["ada"])
    trip_fees = await car_trip(server, clock, made_network["operator"], sites["Mairie"])
    clock.current = NOW
    made = charges(tags)
    await charge_all(server, made)
    # Each CDR is issued by a consumer of the event log once its transaction has ended: the
    # figures are whole once that consumer has handled the log up to its head.
    await handled(server, (CDR_ISSUER,))
    cdrs = (await server.http.get("/api/v1/cdrs", params={"driver_id": made_network["bo"]})).json()
    assert len(cdrs) == 3  # October's, Mairie's and Centre's
    (twenty,) = [c for c in cdrs if Decimal(c["total_energy_kwh"]) == 20]
    r = await server.http.post(
        f"/api/v1/cdrs/{twenty['id']}/correction", json={"reason": "meter", "energy_wh": 15_000}
    )
    assert r.status_code == 201, r.text

    site_of = {"CP-M": sites["Mairie"], "CP-G": sites["Gare"], "CP-J": sites["Centre"]}
    charging = expected_charging(made, tags, site_of, corrected_wh=15_000)
    fees = {sites["Mairie"]: Decimal("5.00"), sites["Centre"]: Decimal("10.00"),
            sites["Gare"]: Decimal(0)}  # fmt: skip  # late cancellation, no-show: default prices
    trips = {sites["Mairie"]: trip_fees, sites["Gare"]: Decimal(0), sites["Centre"]: Decimal(0)}
    assert trip_fees > 0

    # Plan fees of the month, of no site: in the whole network's scope only. Ada's and Bo's
    # plans at the fees the plans list; Cy and Di hold none.
    listed = (await server.http.get("/api/v1/accounts/plans")).json()
    fee_of = {p["code"]: Decimal(p["monthly_fee"]) for p in listed}
    plan_fees = {plan: fee_of[plan] for plan in ("resident-night", "payg") if fee_of[plan] > 0}
    assert plan_fees  # the night pass has a fee

    viewer = await server.client("viewer")
    params = {"month": "2026-11", "format": "json"}
    r = await viewer.get("/api/v1/reports/monthly", params=params)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    scopes = by_scope(r.json())
    towns = {"Anse": [sites["Mairie"], sites["Gare"]], "Jassans": [sites["Centre"]]}
    groups = {f"{kind}:{name}": ids for kind, name, ids in
              [("site", n, [i]) for n, i in sites.items()]
              + [("town", t, ids) for t, ids in towns.items()]
              + [("network", "", list(sites.values()))]}  # fmt: skip
    for key, ids in groups.items():
        kind, name = key.split(":")
        scope = scopes[(kind, name)]
        want_plans: dict[str, Decimal] = defaultdict(Decimal)
        for i in ids:
            for plan, amount in charging[i].items():
                want_plans[plan] += amount
        assert plans(scope) == dict(want_plans), key
        want_fees = sum((fees[i] for i in ids), Decimal(0))
        want_trips = sum((trips[i] for i in ids), Decimal(0))
        revenue = scope["revenue"]
        assert amounts(revenue["reservation_fees"]) == ({"EUR": want_fees} if want_fees else {})
        assert amounts(revenue["carsharing"]) == ({"EUR": want_trips} if want_trips else {})
        want_plan_fees = plan_fees if kind == "network" else {}
        assert amounts(revenue["plan_fees"], "plan") == want_plan_fees, key
        assert revenue["v2g_credits"] == revenue["partner_charging_by_plan"] == [], key
        total = sum(want_plans.values(), Decimal(0)) + want_fees + want_trips
        total += sum(want_plan_fees.values(), Decimal(0))
        assert amounts(revenue["total"]) == {"EUR": total}, key
    network_scope = scopes[("network", "")]
    assert network_scope["drivers_by_group"] == {
        "resident": 1, "visitor": 1, "staff": 1, "unregistered": 1,
    }  # fmt: skip
    assert network_scope["figures"]["sessions"] == "7"
    assert network_scope["figures"]["carsharing_trips"] == "1"
    assert network_scope["figures"]["carsharing_km"] == "42.0"
    assert network_scope["figures"]["booking_fees_by_rule"] == "late_cancellation:1;no_show:1"
    methods = " ".join(r.json()["methods"])
    assert "planned maintenance" in methods and "ADEME Base Carbone" in methods

    # A funder of Jassans: its network is Jassans alone, revenue included.
    funder = await server.client("funder", towns=["Jassans"])
    r = await funder.get("/api/v1/reports/monthly", params=params)
    assert r.status_code == 200, r.text
    own = by_scope(r.json())
    assert set(own) == {("network", ""), ("town", "Jassans"), ("site", "Centre")}
    want = sum(charging[sites["Centre"]].values(), Decimal(0)) + fees[sites["Centre"]]
    assert amounts(own[("network", "")]["revenue"]["total"]) == {"EUR": want}

    csv_rows = await _csv(viewer)
    mairie = csv_rows[("site", "Mairie")]
    want = charging[sites["Mairie"]]
    assert mairie["charging_revenue_by_plan"] == ";".join(
        f"{plan}:EUR:{want[plan].quantize(Decimal('0.0001'))}" for plan in sorted(want)
    )
    assert mairie["reservation_fees_excl_vat"] == "EUR:5.0000"
    assert Decimal(mairie["revenue_excl_vat"]) == sum(want.values()) + 5 + trip_fees
    assert mairie["revenue_currency"] == "EUR"
    assert mairie["carsharing_fees"] == f"EUR:{trip_fees.quantize(Decimal('0.0001'))}"
    assert csv_rows[("site", "Gare")]["reservation_fees_excl_vat"] == ""

    await _pdf_and_console(
        server, viewer, charging[sites["Mairie"]]["resident-night"], plan_fees["resident-night"]
    )


async def _csv(viewer: Any) -> dict[tuple[str, str], dict[str, str]]:
    r = await viewer.get("/api/v1/reports/monthly", params={"month": "2026-11"})
    assert r.status_code == 200, r.text
    return {
        (row["scope"], row["site_name"] or row["town"]): row
        for row in csv.DictReader(io.StringIO(r.text))
    }


async def _pdf_and_console(
    server: LiveServer, viewer: Any, resident_at_mairie: Decimal, night_pass_fee: Decimal
) -> None:
    """The PDF has its summary, the network's revenue and a page per town with its revenue
    table, rendered to PNG;
    the console shows each plan's revenue to the cent."""
    r = await viewer.get("/api/v1/reports/monthly", params={"month": "2026-11", "format": "pdf"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pdftoppm, pdfinfo = shutil.which("pdftoppm"), shutil.which("pdfinfo")
    assert pdftoppm and pdfinfo, "apt-get install poppler-utils"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOTS / "monthly-report-revenue.pdf"
    pdf.write_bytes(r.content)
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+4$", info.stdout, re.M)
    target = SCREENSHOTS / "monthly-report-revenue-anse"
    args = [pdftoppm, "-png", "-r", "80", "-f", "3", "-l", "3", "-singlefile"]
    subprocess.run([*args, str(pdf), str(target)], check=True, timeout=60)
    assert (SCREENSHOTS / "monthly-report-revenue-anse.png").stat().st_size > 10_000

    browser, _ = await server.console("viewer")
    page = await browser.get("/reports", params={"month": "2026-11"})
    assert page.status_code == 200
    cents = resident_at_mairie.quantize(Decimal("0.01"))
    assert f'<span data-plan="resident-night">resident-night: {cents} EUR</span>' in page.text
    fee = f"resident-night: {night_pass_fee.quantize(Decimal('0.01'))} EUR"
    assert page.text.count(f'<span data-plan-fee="resident-night">{fee}</span>') == 1  # network
    assert 'id="revenue-table"' in page.text and "Car-sharing trips / km" in page.text
    # Drivers by user group, and the methods: uptime with planned maintenance apart, CO2's
    # reference with its source.
    assert "(resident 1, staff 1, unregistered 1, visitor 1)" in page.text
    assert "planned maintenance" in page.text and "ADEME Base Carbone" in page.text
    link = re.search(r'id="download-json" href="([^"]+)"', page.text)
    assert link is not None
    r = await browser.get(link.group(1).replace("&amp;", "&"))
    assert r.status_code == 200 and r.json()["month"] == "2026-11"
