"""Bookings on real stations of both OCPP versions: ReserveNow at lead time, a station that
answers Occupied, CancelReservation, transactions that start a booking, no-shows, and
Authorize refused outside the access window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation, answer_until, connect
from tests.integration.reservations_hub import (
    NOW,
    START,
    StoppedClock,
    add_driver,
    booking_body,
    hub_server,
    reservation_pass,
)

MIN = timedelta(minutes=1)
ACCEPTED = {"status": "Accepted"}


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(NOW)


@pytest.fixture
async def hub(database_url: str, clock: StoppedClock) -> AsyncIterator[LiveServer]:
    async with hub_server(database_url, clock) as live:
        yield live


async def _setup(server: LiveServer) -> tuple[int, int]:
    site = await server.add_site()
    await server.add_station("CP-16", site, evses=[{"evse_id": 1}])
    await server.add_station("CP-201", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    driver = await add_driver(server, "ada", "resident", group_id="FLAT-3")
    return site, driver


async def _book(server: LiveServer, site: int, driver: int, station: str, evse: int = 1) -> int:
    body = booking_body(site, driver, station_id=station, evse_id=evse)
    r = await server.http.post("/api/v1/bookings", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _booking(server: LiveServer, booking_id: int) -> dict[str, Any]:
    return dict((await server.http.get(f"/api/v1/bookings/{booking_id}")).json())


async def _answering(
    st: RawStation, work: Awaitable[object], action: str, reply: dict[str, Any]
) -> list[Any]:
    """Run `work` while the station answers the CSMS's calls; return the `action` Call."""
    task = asyncio.ensure_future(work)
    frame = await answer_until(st, action, reply)
    await task
    return frame


async def test_v16_reserve_now_at_lead_time_then_the_start_uses_it(
    hub: LiveServer, clock: StoppedClock
) -> None:
    site, ada = await _setup(hub)
    booking = await _book(hub, site, ada, "CP-16")
    async with connect(hub.ws_base, "CP-16", "ocpp1.6") as st:
        clock.current = START - 10 * MIN
        frame = await _answering(st, reservation_pass(hub), "ReserveNow", {"status": "Accepted"})
        assert frame[3] == {
            "connectorId": 1,
            "expiryDate": "2026-11-25T09:15:00.000Z",
            "idTag": "ADA-1",
            "reservationId": booking,
            "parentIdTag": "FLAT-3",
        }
        assert (await _booking(hub, booking))["state"] == "reserved"
        clock.current = START + 2 * MIN
        started = await st.result(
            "StartTransaction",
            {"connectorId": 1, "idTag": "ADA-1", "meterStart": 0,
             "timestamp": "2026-11-25T09:02:00Z", "reservationId": booking},
        )  # fmt: skip
    assert started["idTagInfo"]["status"] == "Accepted"
    in_use = await _booking(hub, booking)
    assert (in_use["state"], in_use["transaction_id"]) == ("in_use", started["transactionId"])


async def test_v201_reserve_now_and_cancel_reservation(
    hub: LiveServer, clock: StoppedClock
) -> None:
    site, ada = await _setup(hub)
    booking = await _book(hub, site, ada, "CP-201", 2)
    async with connect(hub.ws_base, "CP-201", "ocpp2.0.1") as st:
        clock.current = START - 10 * MIN
        frame = await _answering(st, reservation_pass(hub), "ReserveNow", {"status": "Accepted"})
        assert frame[3] == {
            "id": booking,
            "expiryDateTime": "2026-11-25T09:15:00.000Z",
            "idToken": {"idToken": "ADA-1", "type": "Central"},
            "evseId": 2,
            "groupIdToken": {"idToken": "FLAT-3", "type": "Central"},
        }
        cancel = hub.http.post(f"/api/v1/bookings/{booking}/cancel", json={})
        frame = await _answering(st, cancel, "CancelReservation", {"status": "Accepted"})
        assert frame[3] == {"reservationId": booking}
    cancelled = await _booking(hub, booking)
    assert (cancelled["state"], cancelled["fee_rule"]) == ("cancelled", "late_cancellation")


async def test_a_station_answering_occupied_sends_the_booking_elsewhere(
    hub: LiveServer, clock: StoppedClock
) -> None:
    site, ada = await _setup(hub)
    booking = await _book(hub, site, ada, "CP-16")
    async with (
        connect(hub.ws_base, "CP-16", "ocpp1.6") as v16,
        connect(hub.ws_base, "CP-201", "ocpp2.0.1") as v201,
    ):
        clock.current = START - 10 * MIN
        work = asyncio.ensure_future(reservation_pass(hub))
        await answer_until(v16, "ReserveNow", {"status": "Occupied"})
        accepted = await answer_until(v201, "ReserveNow", ACCEPTED)
        await work
    assert (accepted[3]["id"], accepted[3]["evseId"]) == (booking, 1)
    moved = await _booking(hub, booking)
    assert (moved["station_id"], moved["evse_id"], moved["state"]) == ("CP-201", 1, "reserved")
    assert moved["reassignments"] == 1


async def test_v201_removed_reservation_is_sent_again(hub: LiveServer, clock: StoppedClock) -> None:
    site, ada = await _setup(hub)
    booking = await _book(hub, site, ada, "CP-201")
    async with connect(hub.ws_base, "CP-201", "ocpp2.0.1") as st:
        clock.current = START - 10 * MIN
        await _answering(st, reservation_pass(hub), "ReserveNow", {"status": "Accepted"})
        await st.result(
            "ReservationStatusUpdate",
            {"reservationId": booking, "reservationUpdateStatus": "Removed"},
        )
        assert (await _booking(hub, booking))["state"] == "booked"
        clock.current = START - 5 * MIN
        frame = await _answering(st, reservation_pass(hub), "ReserveNow", {"status": "Accepted"})
        assert frame[3]["id"] == booking
        assert (await _booking(hub, booking))["state"] == "reserved"
        # A 2.0.1 start carries the idToken on the reserved EVSE: the booking is in use.
        await st.result(
            "TransactionEvent",
            {"eventType": "Started", "timestamp": "2026-11-25T09:00:00Z", "seqNo": 0,
             "triggerReason": "Authorized", "transactionInfo": {"transactionId": "t-1"},
             "evse": {"id": 1, "connectorId": 1},
             "idToken": {"idToken": "ADA-1", "type": "ISO14443"}, "reservationId": booking},
        )  # fmt: skip
    assert (await _booking(hub, booking))["state"] == "in_use"


async def test_a_no_show_frees_the_evse_on_the_station(
    hub: LiveServer, clock: StoppedClock
) -> None:
    site, ada = await _setup(hub)
    booking = await _book(hub, site, ada, "CP-16")
    async with connect(hub.ws_base, "CP-16", "ocpp1.6") as st:
        clock.current = START - 10 * MIN
        await _answering(st, reservation_pass(hub), "ReserveNow", {"status": "Accepted"})
        clock.current = START + 15 * MIN
        frame = await _answering(
            st, reservation_pass(hub), "CancelReservation", {"status": "Accepted"}
        )
        assert frame[3] == {"reservationId": booking}
    gone = await _booking(hub, booking)
    assert (gone["state"], gone["fee_rule"]) == ("no_show", "no_show")


async def _resident_windows(server: LiveServer, site: int) -> None:
    windows = [
        {"user_group": "resident", "days": [0, 1, 2, 3, 4], "start": "19:00", "end": "08:00"},
        {"user_group": "resident", "days": [5, 6], "start": "00:00", "end": "24:00"},
    ]
    r = await server.http.put(f"/api/v1/sites/{site}/access-windows", json=windows)
    assert r.status_code == 200, r.text


async def test_v201_authorize_outside_the_window_is_not_at_this_time(
    hub: LiveServer, clock: StoppedClock
) -> None:
    site, _ = await _setup(hub)
    await _resident_windows(hub, site)
    token = {"idToken": {"idToken": "ADA-1", "type": "ISO14443"}}
    async with connect(hub.ws_base, "CP-201", "ocpp2.0.1") as st:
        info = (await st.result("Authorize", token))["idTokenInfo"]
        assert info["status"] == "NotAtThisTime"
        message = info["personalMessage"]["content"]
        assert message.startswith("resident drivers may not charge at Test hub at Wed 09:00")
        assert "next opening Wed 25 Nov 19:00" in message
        clock.current = NOW + 11 * 60 * MIN  # 20:00 in Paris
        assert (await st.result("Authorize", token))["idTokenInfo"]["status"] == "Accepted"


async def test_v16_authorize_outside_the_window_is_invalid(hub: LiveServer) -> None:
    site, _ = await _setup(hub)
    await _resident_windows(hub, site)
    async with connect(hub.ws_base, "CP-16", "ocpp1.6") as st:
        reply = await st.result("Authorize", {"idTag": "ADA-1"})
    assert reply["idTagInfo"]["status"] == "Invalid"  # 1.6 has no NotAtThisTime
