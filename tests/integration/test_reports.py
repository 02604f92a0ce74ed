"""Monthly report over a month of known charges and faults, sent as OCPP 1.6 by a station:
the CSV's figures equal the ones worked out by hand, and the PDF renders for a town council.

Station CP-R1 (two points) in Anse, November 2026 (Europe/Paris: from 31 Oct 23:00 UTC);
the server's clock stands at 30 Nov 12:00 UTC, so the month is cut there (709 h).
- Both connectors Available from 1 Nov 00:00 UTC (the first hour is unknown, left out).
- Tx 1, resident, point 1: 10 Nov 08:00-10:00, 1 000 -> 21 000 Wh, Charging 2 h.
- Tx 2, visitor, point 2: 12 Nov 14:00-15:30, 0 -> 7 500 Wh, Charging 1 h then SuspendedEV.
- Tx 3, resident, point 1: 20 Nov 18:00-21:00, 21 000 -> 33 000 Wh, Charging 3 h.
- Point 2 Faulted 15 Nov 09:00-13:00 (4 h); point 1 Unavailable 25 Nov 08:00-10:00 (2 h,
  planned maintenance).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from evhub.billing.issuer import CONSUMER as CDR_ISSUER
from evhub.clock import FrozenClock
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import RawStation, connect
from tests.integration.payments_hub import handled
from tests.integration.test_maintenance import Tickets, eventually
from tests.screenshots import SCREENSHOTS

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(database_url, clock=FrozenClock(NOW)) as live:
        yield live


async def status(st: RawStation, connector: int, state: str, ts: str) -> None:
    body = {"connectorId": connector, "errorCode": "NoError", "status": state, "timestamp": ts}
    await st.result("StatusNotification", body)


async def charge(
    st: RawStation, connector: int, tag: str, wh: tuple[int, int], at: tuple[str, str]
) -> None:
    start = {"connectorId": connector, "idTag": tag, "meterStart": wh[0], "timestamp": at[0]}
    tx = (await st.result("StartTransaction", start))["transactionId"]
    stop = {"transactionId": tx, "meterStop": wh[1], "timestamp": at[1], "idTag": tag}
    await st.result("StopTransaction", stop | {"reason": "EVDisconnected"})


async def month_of_use(server: LiveServer) -> int:
    site = await server.add_site(town="Anse", name="Place de la Mairie")
    await server.add_station("CP-R1", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    for uid, group in (("RES-1", "resident"), ("VIS-1", "visitor")):
        r = await server.http.post("/api/v1/drivers", json={"name": uid, "user_group": group})
        await server.add_token(uid, driver_id=r.json()["id"])
    async with connect(server.ws_base, "CP-R1", "ocpp1.6") as st:
        await st.result("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
        for c in (1, 2):
            await status(st, c, "Available", "2026-11-01T00:00:00Z")
        await status(st, 1, "Charging", "2026-11-10T08:00:00Z")
        await charge(
            st, 1, "RES-1", (1000, 21000), ("2026-11-10T08:00:00Z", "2026-11-10T10:00:00Z")
        )
        await status(st, 1, "Available", "2026-11-10T10:00:00Z")
        await status(st, 2, "Charging", "2026-11-12T14:00:00Z")
        await status(st, 2, "SuspendedEV", "2026-11-12T15:00:00Z")
        await charge(st, 2, "VIS-1", (0, 7500), ("2026-11-12T14:00:00Z", "2026-11-12T15:30:00Z"))
        await status(st, 2, "Available", "2026-11-12T15:30:00Z")
        await status(st, 2, "Faulted", "2026-11-15T09:00:00Z")
        await status(st, 2, "Available", "2026-11-15T13:00:00Z")
        await status(st, 1, "Charging", "2026-11-20T18:00:00Z")
        await charge(
            st, 1, "RES-1", (21000, 33000), ("2026-11-20T18:00:00Z", "2026-11-20T21:00:00Z")
        )
        await status(st, 1, "Available", "2026-11-20T21:00:00Z")
        await status(st, 1, "Unavailable", "2026-11-25T08:00:00Z")
        await status(st, 1, "Available", "2026-11-25T10:00:00Z")
    # The fault monitor and the CDR issuer read the events once committed: the month is whole
    # when both tickets are closed and the issuer has handled every ended transaction.
    await eventually(server, both_closed, site_id=site)
    await handled(server, (CDR_ISSUER,))
    return site


def both_closed(found: Tickets) -> bool:
    return len(found) == 2 and all(t["state"] == "closed" for t in found)


async def report_rows(server: LiveServer, **params: object) -> dict[str, dict[str, str]]:
    viewer = await server.client("viewer")
    r = await viewer.get("/api/v1/reports/monthly", params={"month": "2026-11", **params})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return {row["scope"]: row for row in csv.DictReader(io.StringIO(r.text))}


async def test_monthly_figures_equal_the_sessions_and_tickets_made(server: LiveServer) -> None:
    site = await month_of_use(server)

    tickets = (await server.http.get("/api/v1/tickets", params={"site_id": site})).json()
    assert sorted((t["cause"], t["downtime_s"]) for t in tickets) == [
        ("faulted", 4 * 3600),
        ("unavailable", 2 * 3600),
    ]
    rows = await report_rows(server)
    assert set(rows) == {"network", "town", "site"}
    s = rows["site"]
    assert (s["town"], s["site_id"], s["site_name"]) == ("Anse", str(site), "Place de la Mairie")
    assert (s["points"], s["sessions"], s["unique_drivers"]) == ("2", "3", "2")
    assert s["drivers_by_group"] == "resident:1;visitor:1"
    assert float(s["energy_kwh"]) == 20 + 7.5 + 12
    assert float(s["hours_plugged"]) == 2 + 1.5 + 3
    assert float(s["hours_charging"]) == 2 + 1 + 3
    month_h = 30 * 24 - 11 + 0  # 31 Oct 23:00 UTC -> 30 Nov 12:00 UTC
    assert month_h == 709
    assert float(s["occupancy_pct"]) == pytest.approx(100 * 6.5 / (2 * 709), abs=0.005)
    known_h = 2 * (709 - 1)  # each connector unknown until its first report at 00:00 UTC
    assert float(s["availability_pct"]) == pytest.approx(100 * (known_h - 6) / known_h, abs=0.005)
    assert float(s["uptime_pct"]) == pytest.approx(100 * (known_h - 6) / (known_h - 2), abs=0.005)
    assert (s["downtime_faulted_h"], s["downtime_planned_h"]) == ("4.00", "2.00")
    assert (s["tickets_opened"], s["tickets_closed"], s["tickets_open_at_end"]) == ("2", "2", "0")
    assert s["tickets_by_cause"] == "faulted:1;unavailable:1"
    assert float(s["mean_repair_h"]) == 3.0
    # No tariff prices the site: its CDRs are issued at zero, the drivers have no plan.
    assert (s["revenue_excl_vat"], s["revenue_currency"]) == ("0.0000", "EUR")
    assert s["charging_revenue_by_plan"] == "no plan:EUR:0.0000"
    assert float(s["co2_avoided_kg"]) == pytest.approx(39.5 / 0.18 * 0.144 - 39.5 * 0.052, abs=0.05)
    for column in ("sessions", "energy_kwh", "hours_plugged", "uptime_pct"):
        assert rows["network"][column] == rows["town"][column] == s[column]


async def test_town_filter_and_pdf_for_the_council(server: LiveServer) -> None:
    await month_of_use(server)
    other = await server.add_site(town="Jassans", name="Gare")
    await server.add_station("CP-J1", other, evses=[{"evse_id": 1}])
    rows = await report_rows(server, town="Jassans")
    assert rows["site"]["sessions"] == "0" and rows["site"]["town"] == "Jassans"
    viewer = await server.client("viewer")
    r = await viewer.get("/api/v1/reports/monthly", params={"month": "2026-11", "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdftoppm, pdfinfo = shutil.which("pdftoppm"), shutil.which("pdfinfo")
    assert pdftoppm and pdfinfo, "apt-get install poppler-utils"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOTS / "monthly-report.pdf"
    pdf.write_bytes(r.content)
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True)
    # The summary, the network's revenue, then Anse and Jassans.
    assert re.search(r"^Pages:\s+4$", info.stdout, re.M)
    for page, name in ((1, "monthly-report-summary"), (3, "monthly-report-town")):
        target = SCREENSHOTS / name
        args = [pdftoppm, "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile"]
        subprocess.run([*args, str(pdf), str(target)], check=True, timeout=60)
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000


async def test_month_not_started_and_bad_month_are_refused(server: LiveServer) -> None:
    await month_of_use(server)
    viewer = await server.client("viewer")
    r = await viewer.get("/api/v1/reports/monthly", params={"month": "2026-12"})
    assert r.status_code == 422
    r = await viewer.get("/api/v1/reports/monthly", params={"month": "2026-13"})
    assert r.status_code == 422
    anonymous = await server.client(None)
    r = await anonymous.get("/api/v1/reports/monthly", params={"month": "2026-11"})
    assert r.status_code == 401
