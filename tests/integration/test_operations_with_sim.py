"""Remote operations against simulated stations of both versions, carried to the end:
firmware updated to Installed, logs uploaded and stored, and the command line's bulk run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from evhub.cli import app
from evhub.sim import SimEvse, SimStation
from tests.integration.live_server import PASSWORD, LiveServer


async def _stations(server: LiveServer) -> list[SimStation]:
    site = await server.add_site()
    stations = []
    for sid, version in (("SIM-16", "1.6"), ("SIM-201", "2.0.1")):
        await server.add_station(sid, site, evses=[{"evse_id": 1}])
        st = SimStation(sid, PASSWORD, version, server.ws_base, [SimEvse(1)])  # type: ignore[arg-type]
        st.firmware_step_s = 0.05
        await st.start()
        stations.append(st)
    return stations


async def _events(server: LiveServer, station_id: str, kind: str, last: str) -> list[str]:
    async with asyncio.timeout(10):
        while True:
            r = await server.http.get(
                f"/api/v1/stations/{station_id}/events", params={"kind": kind}
            )
            statuses = [e["status"] for e in reversed(r.json())]
            if statuses and statuses[-1] == last:
                return statuses
            await asyncio.sleep(0.05)


async def test_firmware_update_is_followed_to_installed(server: LiveServer) -> None:
    stations = await _stations(server)
    try:
        for st in stations:
            body = {"location": "https://fw.example.org/v2.bin"}
            r = await server.http.post(f"/api/v1/stations/{st.station_id}/firmware", json=body)
            assert r.status_code == 200 and r.json()["status"] == "Accepted"
            statuses = await _events(server, st.station_id, "firmware", "Installed")
            assert statuses[-4:] == ["Downloading", "Downloaded", "Installing", "Installed"]
    finally:
        for st in stations:
            await st.stop()


async def test_logs_are_uploaded_and_stored(server: LiveServer) -> None:
    stations = await _stations(server)
    try:
        for st in stations:
            r = await server.http.post(f"/api/v1/stations/{st.station_id}/logs")
            assert r.status_code == 200 and r.json()["status"] == "Accepted"
            kind = "diagnostics" if st.ocpp_version == "1.6" else "log"
            await _events(server, st.station_id, kind, "Uploaded")
            [stored] = (await server.http.get(f"/api/v1/stations/{st.station_id}/events",
                                              params={"kind": "log_upload"})).json()  # fmt: skip
            path = Path(stored["detail"].split(" (")[0])
            assert path.name.startswith(st.station_id) and path.stat().st_size > 0
    finally:
        for st in stations:
            await st.stop()


async def test_command_line_bulk_reset_with_one_result_per_station(server: LiveServer) -> None:
    stations = await _stations(server)
    key = server.http.headers.get("Authorization", "").removeprefix("Bearer ")
    base = str(server.http.base_url)
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, app,
            ["op", "bulk", "reset", "--param", "hard=false", "--server", base, "--api-key", key],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "SIM-16" in result.output and "SIM-201" in result.output
        assert result.output.count("Accepted") == 2
        one = await asyncio.to_thread(
            CliRunner().invoke, app, ["op", "reset", "SIM-201", "--server", base, "--api-key", key]
        )
        assert one.exit_code == 0 and "SIM-201: Accepted" in one.output
        missing = await asyncio.to_thread(
            CliRunner().invoke, app, ["op", "reset", "NOPE", "--server", base, "--api-key", key]
        )
        assert missing.exit_code == 1 and "409" in missing.output
    finally:
        for st in stations:
            await st.stop()
