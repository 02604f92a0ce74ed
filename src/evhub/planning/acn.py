"""Reading ACN-Data session exports (Caltech, JPL, Office001) as used by ACN-Sim.

One CSV row per session with columns `arrival, departure, requested_energy (kWh),
delivered_energy (kWh), station_id, session_id, estimated_departure, claimed`; times are ISO 8601
with their UTC offset. Files may be gzip-compressed (`.gz`).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_COLUMNS = {
    "arrival": ("arrival",),
    "departure": ("departure",),
    "requested": ("requested_energy (kWh)", "requested_energy"),
    "delivered": ("delivered_energy (kWh)", "delivered_energy"),
    "station": ("station_id",),
    "session": ("session_id",),
    "estimated_departure": ("estimated_departure",),
    "claimed": ("claimed",),
}


class AcnFormatError(ValueError):
    """The file is not an ACN-Data session export."""


@dataclass(frozen=True, slots=True)
class AcnSession:
    session_id: str
    station_id: str
    arrival: datetime
    departure: datetime
    requested_energy_kwh: float
    delivered_energy_kwh: float
    estimated_departure: datetime
    claimed: bool


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", newline="")


def _column_names(header: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key, candidates in _COLUMNS.items():
        found = next((c for c in candidates if c in header), None)
        if found is None:
            raise AcnFormatError(f"missing column {candidates[0]!r}; header is {header}")
        names[key] = found
    return names


def _aware(text: str, row: int) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise AcnFormatError(f"row {row}: time {text!r} has no UTC offset")
    return value


def iter_acn_sessions(path: Path) -> Iterator[AcnSession]:
    """Sessions of an ACN-Data CSV export, in file order."""
    with _open_text(path) as text:
        reader = csv.DictReader(text)
        names = _column_names(list(reader.fieldnames or []))
        for number, row in enumerate(reader, start=2):
            try:
                yield AcnSession(
                    session_id=row[names["session"]],
                    station_id=row[names["station"]],
                    arrival=_aware(row[names["arrival"]], number),
                    departure=_aware(row[names["departure"]], number),
                    requested_energy_kwh=float(row[names["requested"]]),
                    delivered_energy_kwh=float(row[names["delivered"]]),
                    estimated_departure=_aware(row[names["estimated_departure"]], number),
                    claimed=row[names["claimed"]].strip().lower() == "true",
                )
            except (KeyError, ValueError) as error:
                if isinstance(error, AcnFormatError):
                    raise
                raise AcnFormatError(f"row {number}: {error}") from error


def read_acn_sessions(path: Path) -> list[AcnSession]:
    """All sessions of the file, sorted by arrival."""
    return sorted(iter_acn_sessions(path), key=lambda s: s.arrival)
