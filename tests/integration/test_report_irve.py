"""IRVE open data end to end: an undescribed network publishes nothing (the CLI exits non-zero
and writes no file), the demo's descriptions make both files valid, served publicly with a
validator for caches. The demo hub registers itself fully described."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from frictionless import Resource, Schema, validate

from evhub.demo.hub import register_hub, shopping_centre_layout
from tests.integration.live_server import LiveServer, run_server

SCHEMAS = Path(__file__).resolve().parents[1] / "irve_schemas"


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(database_url) as live:
        yield live


async def hub(server: LiveServer) -> int:
    layout = shopping_centre_layout(ac_points=4, dc_points=1)
    site = await server.add_site(
        town="Villefranche", address="Parking P2", latitude=45.99, longitude=4.72
    )
    for spec in layout:
        evses = [{"evse_id": e.evse_id, "current_type": "DC" if e.dc else "AC",
                  "max_power_kw": e.max_kw, "standard": "cCCS2" if e.dc else "IEC62196Type2"}
                 for e in spec.evses]  # fmt: skip
        await server.add_station(spec.station_id, site, evses=evses)
    return site


async def evhub(database_url: str, *args: str) -> tuple[int, str]:
    """The real command line, in its own process, on the server's database."""
    env = os.environ | {"EVHUB_DATABASE_URL": database_url, "COLUMNS": "200"}
    code = "import sys; from evhub.cli import app; sys.argv[0] = 'evhub'; app()"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


def errors(path: Path, schema_file: str) -> list[str]:
    schema = Schema.from_descriptor(json.loads((SCHEMAS / schema_file).read_text("utf-8")))
    report = validate(Resource(path=path.name, basepath=str(path.parent), schema=schema))
    return [e.message for task in report.tasks for e in task.errors]


async def test_undescribed_network_publishes_nothing(
    server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    await hub(server)
    anonymous = await server.client(None)
    r = await anonymous.get("/open-data/irve-statique.csv")
    assert r.status_code == 404
    assert {"scope": "network", "missing": ["operator identity"]} in r.json()["missing"]
    out = tmp_path / "out" / "irve.csv"
    out.parent.mkdir()
    code, output = await evhub(database_url, "report", "irve", "--out", str(out))
    assert code == 2, output
    assert "operator identity" in output and "point AC-01 EVSE 2" in output
    assert list(out.parent.iterdir()) == []  # no file, no temporary file left


async def test_described_network_is_valid_open_data(
    server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    demo = await register_hub(server.http, layout=shopping_centre_layout(4, 1), drivers=2)
    site = demo.site_id
    anonymous = await server.client(None)
    r = await anonymous.get("/open-data/irve-statique.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "max-age=" in r.headers["cache-control"]
    again = await anonymous.get(
        "/open-data/irve-statique.csv", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    static = tmp_path / "statique.csv"
    static.write_bytes(r.content)
    assert r.text.count("\n") == 1 + 5  # header, 2 x 2 AC points, 1 DC point
    assert errors(static, "schema-statique.json") == []
    r = await anonymous.get("/open-data/irve-dynamique.csv")
    assert r.status_code == 200 and "etag" in r.headers
    dynamic = tmp_path / "dynamique.csv"
    dynamic.write_bytes(r.content)
    assert errors(dynamic, "schema-dynamique.json") == []

    for args, name in (([], "cli-statique.csv"), (["--dynamic"], "cli-dynamique.csv")):
        out = tmp_path / name
        code, output = await evhub(database_url, "report", "irve", "--out", str(out), *args)
        assert code == 0, output
        schema = "schema-dynamique.json" if args else "schema-statique.json"
        assert errors(out, schema) == []
    bad = await server.http.put(
        f"/api/v1/sites/{site}/open-data", json={"insee_code": "123", "implantation": "Voirie"}
    )
    assert bad.status_code == 422
    operator = (await server.http.get("/api/v1/open-data/operator")).json()
    wrong = operator | {"installer_siren": "200040591"}
    assert (await server.http.put("/api/v1/open-data/operator", json=wrong)).status_code == 422
