"""A driver's vehicle-to-grid choice from the phone app (`/api/v1/me/v2g`): the page's JSON
twin, refused with the page's reasons, saved with its event, and shown on the page as saved."""

from __future__ import annotations

import json

from sqlalchemy import select

from evhub.events.models import OutboxEvent
from tests.integration.driver_hub import signed_up
from tests.integration.live_server import LiveServer, run_server
from tests.mail_catcher import smtp_server

URL = "/api/v1/me/v2g"


async def _changes(server: LiveServer) -> list[dict[str, object]]:
    async with server.app.state.services.uow() as s:
        rows = await s.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.kind == "driver.v2x_settings_changed")
        )
        return [json.loads(p) for p in rows]


async def test_a_driver_reads_and_sets_vehicle_to_grid_from_the_app(database_url: str) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            driver = await signed_up(server, smtp, "ada@example.org")
            anonymous = await server.client(None)
            assert (await anonymous.get(URL)).status_code == 401
            assert (await anonymous.put(URL, json={"consent": True})).status_code == 401

            r = await driver.get(URL)
            assert r.status_code == 200, r.text
            assert r.json() == {
                "consent": False, "min_soc_pct": None, "target_soc_pct": None,
                "earned": {"amount": "0.00", "currency": "EUR"}, "charges": [],
            }  # fmt: skip

            for body, reason in (
                ({"consent": True, "min_soc_pct": 85, "target_soc_pct": 80}, "above the target"),
                ({"consent": True, "min_soc_pct": -1}, "between 0 and 100"),
                ({"consent": True, "target_soc_pct": 120}, "between 0 and 100"),
            ):
                r = await driver.put(URL, json=body)
                assert r.status_code == 422 and reason in r.json()["detail"], r.text
            r = await driver.put(URL, json={"consent": "maybe"})
            assert r.status_code == 422, r.text
            assert await _changes(server) == []  # nothing refused was written

            choice = {"consent": True, "min_soc_pct": 30.0, "target_soc_pct": 80.0}
            r = await driver.put(URL, json=choice)
            assert r.status_code == 200, r.text
            assert r.json() == choice | {"earned": {"amount": "0.00", "currency": "EUR"},
                                         "charges": []}  # fmt: skip
            (event,) = await _changes(server)
            assert (await driver.get(URL)).json() == r.json()

            # Consent taken back: the floor and target not given are cleared, as on the page.
            r = await driver.put(URL, json={"consent": False})
            assert r.status_code == 200 and r.json()["min_soc_pct"] is None, r.text
            assert len(await _changes(server)) == 2
            assert event["driver_id"] == (await _changes(server))[1]["driver_id"]
