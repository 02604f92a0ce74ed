"""`evhub bench v2g`: what a site pays for its cars' energy, online V2G against the baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from evhub.planning.acn import AcnSession, read_acn_sessions
from evhub.planning.residents import parse_residents_spec, resident_sessions
from evhub.planning.v2g_replay import V2gConfig, replay_v2g, to_v2g_cars
from evhub.prices.points import PriceFormatError, parse_price_csv


def _sessions(spec: str, days: int | None) -> list[AcnSession]:
    try:
        residents = parse_residents_spec(spec)
        if residents is not None:
            return resident_sessions(*residents, days=days or 7)
        return read_acn_sessions(Path(spec))
    except (OSError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="--sessions") from error


def _price_rows(path: Path) -> list[float]:
    try:
        points = parse_price_csv(path.read_text(encoding="utf-8"))
    except (OSError, PriceFormatError) as error:
        raise typer.BadParameter(str(error), param_hint="--prices") from error
    if not points:
        raise typer.BadParameter("no price in the file", param_hint="--prices")
    return [float(p.price_eur_per_mwh) for p in points]


def v2g(
    sessions: Annotated[
        str,
        typer.Option(help="ACN-Data sessions CSV (optionally .gz), or residents:SEED:COUNT"),
    ],
    prices: Annotated[Path, typer.Option(help="datetime_utc,price_eur_per_mwh CSV")],
    stations: Annotated[int, typer.Option(help="Keep the sessions of the first N stations")] = 54,
    days: Annotated[int, typer.Option(help="Keep the sessions arriving in the first D days")] = 7,
    station_kw: Annotated[float, typer.Option(help="Charge and discharge power (kW)")] = 6.656,
    capacity_kw: Annotated[float, typer.Option(help="Site import and export limit (kW)")] = 50.0,
    battery_kwh: Annotated[float, typer.Option(help="Each car's battery (kWh)")] = 60.0,
    arrival_soc: Annotated[float, typer.Option(help="State of charge at arrival (0-1)")] = 0.5,
    min_soc: Annotated[float, typer.Option(help="Lowest state of charge allowed (0-1)")] = 0.2,
    efficiency: Annotated[float, typer.Option(help="One-way efficiency (0-1]")] = 0.9,
    degradation_eur_per_kwh: Annotated[
        float, typer.Option(help="Cost of each kWh taken out of a battery (EUR)")
    ] = 0.02,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
) -> None:
    """Replay sessions under day-ahead prices: online V2G, smart, uncontrolled and offline costs."""
    try:
        config = V2gConfig(
            station_kw=station_kw,
            capacity_kw=capacity_kw,
            battery_kwh=battery_kwh,
            arrival_soc=arrival_soc,
            min_soc=min_soc,
            efficiency=efficiency,
            degradation_eur_per_kwh=degradation_eur_per_kwh,
            stations=stations,
            days=days,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    cars, dropped = to_v2g_cars(_sessions(sessions, days), config)
    if not cars:
        raise typer.BadParameter("no session to replay", param_hint="--sessions")
    result = replay_v2g(cars, config, _price_rows(prices), dropped)
    if json_output:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
        return
    for key, value in result.to_dict().items():
        typer.echo(f"{key:32} {value:.4f}" if isinstance(value, float) else f"{key:32} {value}")
