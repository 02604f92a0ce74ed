"""`evhub bench planning`: replay an ACN-Data session file through a planner and report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from evhub.planning.acn import AcnFormatError, read_acn_sessions
from evhub.planning.replay import (
    ALGORITHMS,
    PEAK_FLOORS,
    ReplayConfig,
    ReplayResult,
    replay,
    to_replay_sessions,
)


def _table(result: ReplayResult) -> Table:
    table = Table(title=f"Smart-charging replay: {result.file}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.to_dict().items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown)
    return table


def planning(
    sessions: Annotated[
        Path, typer.Option("--sessions", help="ACN-Data sessions CSV (optionally .gz)")
    ],
    stations: Annotated[
        int, typer.Option(help="Keep the sessions of the first N station ids")
    ] = 54,
    station_kw: Annotated[float, typer.Option(help="Maximum power of each station (kW)")] = 6.656,
    capacity_kw: Annotated[float, typer.Option(help="Site import limit (kW)")] = 50.0,
    algorithm: Annotated[str, typer.Option(help=f"One of {', '.join(ALGORITHMS)}")] = "lp",
    declared: Annotated[
        bool, typer.Option("--declared", help="Tell the planner the drivers' declared values")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    limit_days: Annotated[
        int | None, typer.Option(help="Replay only the first N days of the file")
    ] = None,
    peak_floor: Annotated[
        str, typer.Option(help=f"LP flattens the peak only above: {' or '.join(PEAK_FLOORS)}")
    ] = "capacity",
) -> None:
    """Replay recorded charging sessions through a smart-charging algorithm and measure it."""
    if algorithm not in ALGORITHMS:
        raise typer.BadParameter(f"expected one of {ALGORITHMS}", param_hint="--algorithm")
    if peak_floor not in PEAK_FLOORS:
        raise typer.BadParameter(f"expected one of {PEAK_FLOORS}", param_hint="--peak-floor")
    try:
        recorded = read_acn_sessions(sessions)
    except (OSError, AcnFormatError) as error:
        raise typer.BadParameter(str(error), param_hint="--sessions") from error
    slotted, skipped = to_replay_sessions(recorded, stations=stations, limit_days=limit_days)
    if not slotted:
        raise typer.BadParameter("no session to replay", param_hint="--sessions")
    config = ReplayConfig(
        capacity_kw=capacity_kw,
        station_kw=station_kw,
        algorithm=algorithm,
        declared=declared,
        peak_floor=peak_floor,
    )
    result = replay(slotted, config, file=sessions.name, stations=stations)
    result.sessions_skipped = skipped
    if json_output:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
    else:
        Console().print(_table(result))
