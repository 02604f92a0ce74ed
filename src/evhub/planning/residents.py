"""Residents' overnight charging sessions, drawn from a seeded generator.

A residential hub sees evening-to-morning stays: the car comes home after work, stays plugged in
overnight and leaves in the morning, needing far less energy than the stay could give. That is
where vehicle-to-grid matters most (long, flexible stays spanning the evening price peak).

The shape follows what ElaadNL's open data on Dutch public charging reports for residential
sessions (arrivals concentrated in the late afternoon and evening, connection times around half
a day, around 10 kWh charged per session); the parameters below are evhub's choice within that
shape, not fitted figures:
  arrival      normal, mean 18:00, standard deviation 1.5 h, clipped to 15:00-23:30
  departure    next morning, normal, mean 07:30, standard deviation 1 h, clipped to 05:00-10:00
  energy       lognormal, median 9 kWh, sigma 0.5, clipped to 2-40 kWh (`delivered_energy`)
  presence     each resident plugs in on a given night with probability 0.85

The sessions come out as `AcnSession` records (one station per resident, `R0000`, `R0001`, ...),
so the replays slot them exactly as they slot ACN-Data files; a resident's declared values equal
the drawn ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from evhub.planning.acn import AcnSession

RESIDENTS_PREFIX = "residents:"
DEFAULT_START = datetime(2018, 1, 1, tzinfo=UTC) + timedelta(hours=-1)
"""Local midnight of 1 January 2018 in Paris (UTC+1), row 0 of the French price file."""
_ARRIVAL_MEAN_H, _ARRIVAL_SD_H, _ARRIVAL_RANGE_H = 18.0, 1.5, (15.0, 23.5)
_DEPARTURE_MEAN_H, _DEPARTURE_SD_H, _DEPARTURE_RANGE_H = 7.5, 1.0, (5.0, 10.0)
_ENERGY_MEDIAN_KWH, _ENERGY_SIGMA, _ENERGY_RANGE_KWH = 9.0, 0.5, (2.0, 40.0)
_PRESENCE = 0.85


def parse_residents_spec(spec: str) -> tuple[int, int] | None:
    """`residents:SEED:COUNT` -> (seed, count); None for anything else (a file path)."""
    if not spec.startswith(RESIDENTS_PREFIX):
        return None
    parts = spec[len(RESIDENTS_PREFIX) :].split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) < 1:
        raise ValueError(f"expected residents:SEED:COUNT with integers, got {spec!r}")
    return int(parts[0]), int(parts[1])


def resident_sessions(
    seed: int, count: int, days: int, start: datetime = DEFAULT_START
) -> list[AcnSession]:
    """`count` residents over `days` nights from local midnight `start`, sorted by arrival."""
    rng = np.random.default_rng(seed)
    tz = start.tzinfo
    out: list[AcnSession] = []
    for day in range(days):
        present = rng.random(count) < _PRESENCE
        arrive_h = np.clip(rng.normal(_ARRIVAL_MEAN_H, _ARRIVAL_SD_H, count), *_ARRIVAL_RANGE_H)
        leave_h = np.clip(
            rng.normal(_DEPARTURE_MEAN_H, _DEPARTURE_SD_H, count), *_DEPARTURE_RANGE_H
        )
        energy = np.clip(
            rng.lognormal(np.log(_ENERGY_MEDIAN_KWH), _ENERGY_SIGMA, count), *_ENERGY_RANGE_KWH
        )
        midnight = start + timedelta(days=day)
        for k in np.flatnonzero(present):
            arrival = (midnight + timedelta(hours=float(arrive_h[k]))).astimezone(tz)
            departure = (midnight + timedelta(days=1, hours=float(leave_h[k]))).astimezone(tz)
            kwh = round(float(energy[k]), 3)
            out.append(
                AcnSession(
                    session_id=f"R{k:04d}-{day:03d}",
                    station_id=f"R{k:04d}",
                    arrival=arrival,
                    departure=departure,
                    requested_energy_kwh=kwh,
                    delivered_energy_kwh=kwh,
                    estimated_departure=departure,
                    claimed=True,
                )
            )
    return sorted(out, key=lambda s: s.arrival)
