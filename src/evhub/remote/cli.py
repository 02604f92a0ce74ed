"""`evhub op ...`: remote operations from the command line, through a running server's API.

A station's WebSocket lives in the server process, so the command line asks the server, as
any integration would (EVHUB_SERVER and EVHUB_API_KEY, or --server and --api-key). Bulk
operations show a progress bar and one result per station.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

op_app = typer.Typer(help="Remote operations on stations (through a running server).")
console = Console()

Server = Annotated[str, typer.Option(envvar="EVHUB_SERVER", help="base URL of the running evhub")]
ApiKey = Annotated[str, typer.Option(envvar="EVHUB_API_KEY", help="API key (Bearer)")]
DEFAULT_SERVER = "http://127.0.0.1:8180"


def _client(server: str, api_key: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(base_url=server.rstrip("/"), headers=headers, timeout=60)


async def _send(server: str, api_key: str, method: str, path: str, body: Any) -> dict[str, Any]:
    async with _client(server, api_key) as http:
        r = await http.request(method, f"/api/v1{path}", json=body)
    if r.status_code >= 400:
        console.print(f"[red]{r.status_code}[/red] {r.text}")
        raise typer.Exit(1)
    return dict(r.json())


def _show(result: dict[str, Any]) -> None:
    extra = {k: v for k, v in result.get("detail", {}).items() if v not in (None, "", {})}
    console.print(f"{result['station_id']}: [bold]{result['status']}[/bold] {extra or ''}")


def _one(server: str, api_key: str, method: str, path: str, body: Any = None) -> None:
    _show(asyncio.run(_send(server, api_key, method, path, body)))


@op_app.command()
def reset(
    station: str, hard: bool = False, server: Server = DEFAULT_SERVER, api_key: ApiKey = ""
) -> None:
    """Reset a station (1.6 Soft/Hard, 2.0.1 OnIdle/Immediate)."""
    _one(server, api_key, "POST", f"/stations/{station}/reset", {"hard": hard})


@op_app.command()
def start(
    station: str, evse: int, token: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = ""
) -> None:
    """Start charging remotely for TOKEN on EVSE."""
    body = {"evse_id": evse, "id_token": token}
    _one(server, api_key, "POST", f"/stations/{station}/remote-start", body)


@op_app.command()
def stop(
    station: str, transaction: int, server: Server = DEFAULT_SERVER, api_key: ApiKey = ""
) -> None:
    """Stop a running transaction (evhub's transaction id)."""
    body = {"transaction_id": transaction}
    _one(server, api_key, "POST", f"/stations/{station}/remote-stop", body)


@op_app.command()
def availability(
    station: str,
    operative: Annotated[bool, typer.Option("--operative/--inoperative")],
    evse: int = 0,
    server: Server = DEFAULT_SERVER,
    api_key: ApiKey = "",
) -> None:
    """Make a station (EVSE 0) or one EVSE operative or inoperative."""
    body = {"evse_id": evse, "operative": operative}
    _one(server, api_key, "POST", f"/stations/{station}/availability", body)


@op_app.command()
def unlock(
    station: str, evse: int, connector: int = 1, server: Server = DEFAULT_SERVER,
    api_key: ApiKey = "",
) -> None:  # fmt: skip
    """Unlock a connector."""
    body = {"evse_id": evse, "connector_id": connector}
    _one(server, api_key, "POST", f"/stations/{station}/unlock", body)


@op_app.command()
def trigger(
    station: str, message: str, evse: int | None = None, server: Server = DEFAULT_SERVER,
    api_key: ApiKey = "",
) -> None:  # fmt: skip
    """Ask the station to send MESSAGE (StatusNotification, MeterValues, Heartbeat...)."""
    body = {"message": message, "evse_id": evse}
    _one(server, api_key, "POST", f"/stations/{station}/trigger", body)


@op_app.command("get-config")
def get_config(
    station: str, keys: str = "", server: Server = DEFAULT_SERVER, api_key: ApiKey = ""
) -> None:
    """Read configuration (1.6 keys, 2.0.1 Component.Variable), comma separated."""
    _one(server, api_key, "GET", f"/stations/{station}/configuration?keys={keys}")


@op_app.command("set-config")
def set_config(
    station: str, key: str, value: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = ""
) -> None:
    """Change one configuration key / variable."""
    _one(server, api_key, "PUT", f"/stations/{station}/configuration", {"key": key, "value": value})


@op_app.command("clear-cache")
def clear_cache(station: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = "") -> None:
    """Clear the station's authorisation cache."""
    _one(server, api_key, "POST", f"/stations/{station}/clear-cache")


@op_app.command()
def firmware(
    station: str, location: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = ""
) -> None:
    """Update firmware from LOCATION; progress shows in the station's events."""
    _one(server, api_key, "POST", f"/stations/{station}/firmware", {"location": location})


@op_app.command()
def logs(station: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = "") -> None:
    """Have the station upload its logs to evhub."""
    _one(server, api_key, "POST", f"/stations/{station}/logs")


@op_app.command()
def bulk(
    operation: Annotated[
        str, typer.Argument(help="reset, clear-cache, availability, firmware or configuration")
    ],
    site: Annotated[int | None, typer.Option(help="stations of this site")] = None,
    vendor: Annotated[str | None, typer.Option(help="stations of this vendor")] = None,
    model: Annotated[str | None, typer.Option(help="stations of this model")] = None,
    param: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, e.g. hard=true")] = None,
    server: Server = DEFAULT_SERVER,
    api_key: ApiKey = "",
) -> None:
    """Run OPERATION on every station matching the filter, with a progress bar."""
    params = dict(p.split("=", 1) for p in param or [])
    results = asyncio.run(_bulk(server, api_key, operation, site, vendor, model, params))
    table = Table("station", "status", "detail")
    for r in results:
        table.add_row(r["station_id"], r["status"], str(r.get("detail") or ""))
    console.print(table)


async def _bulk(
    server: str, api_key: str, operation: str, site: int | None, vendor: str | None,
    model: str | None, params: dict[str, str],
) -> list[dict[str, Any]]:  # fmt: skip
    """One request per station (the same as the bulk endpoint), so that progress shows."""
    async with _client(server, api_key) as http:
        query = {k: v for k, v in {"site_id": site}.items() if v is not None}
        stations = await _all_pages(http, "/api/v1/stations", query | {"limit": 1000})
        ids = [s["id"] for s in stations if (vendor is None or s["vendor"] == vendor)
               and (model is None or s["model"] == model)]  # fmt: skip
        results: list[dict[str, Any]] = []
        with Progress(console=console) as progress:
            task = progress.add_task(operation, total=len(ids))

            async def one(station_id: str) -> None:
                body = {"filter": {"station_ids": [station_id]}, "operation": operation,
                        "params": _typed(params)}  # fmt: skip
                r = await http.post("/api/v1/operations/bulk", json=body)
                if r.status_code >= 400:
                    results.append({"station_id": station_id, "status": f"HTTP {r.status_code}"})
                else:
                    results.extend(r.json()["results"])
                progress.advance(task)

            gate = asyncio.Semaphore(20)

            async def bounded(station_id: str) -> None:
                async with gate:
                    await one(station_id)

            await asyncio.gather(*(bounded(sid) for sid in ids))
    return sorted(results, key=lambda r: str(r["station_id"]))


async def _all_pages(
    http: httpx.AsyncClient, path: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every row of a paged list route, following its `Link: <...>; rel="next"` headers."""
    r = await http.get(path, params=params)
    r.raise_for_status()
    rows: list[dict[str, Any]] = r.json()
    while (following := r.links.get("next", {}).get("url")) is not None:
        r = await http.get(following)
        r.raise_for_status()
        rows.extend(r.json())
    return rows


def _typed(params: dict[str, str]) -> dict[str, Any]:
    return {k: {"true": True, "false": False}.get(v.lower(), v) for k, v in params.items()}


@op_app.command("local-list")
def local_list(station: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = "") -> None:
    """Send the whole token list to the station for offline authorisation."""
    _one(server, api_key, "POST", f"/stations/{station}/local-list")


@op_app.command()
def report(station: str, server: Server = DEFAULT_SERVER, api_key: ApiKey = "") -> None:
    """Ask for the station's full report (2.0.1 inventory; 1.6 configuration)."""
    _one(server, api_key, "POST", f"/stations/{station}/report")
