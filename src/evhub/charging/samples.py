"""Meter samples in one shape for both OCPP versions, in base units (Wh, W, A, %)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from evhub.errors import InvalidInput

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
SOC = "SoC"

_SCALE = {"kWh": ("Wh", 1000.0), "kW": ("W", 1000.0), "kvarh": ("varh", 1000.0)}

# What a real meter can read, in base units: beyond it a value is a fault, not a measurement
# (a terawatt-hour register, a hundred-megawatt charger, a state of charge over 100 %).
_BOUNDS = {
    "Wh": (-1e12, 1e12),
    "varh": (-1e12, 1e12),
    "W": (-1e8, 1e8),
    "var": (-1e8, 1e8),
    "VA": (-1e8, 1e8),
    "A": (-1e5, 1e5),
    "V": (-1e5, 1e5),
    "Percent": (0.0, 100.0),
}
_OTHER_BOUNDS = (-1e6, 1e6)


class ImplausibleSample(InvalidInput):
    """A sampled value that no meter reads: not a number, infinite, or out of range."""


@dataclass(frozen=True)
class Sample:
    timestamp: datetime
    measurand: str
    value: float
    unit: str = ""
    phase: str = ""
    context: str = "Sample.Periodic"


def normalise(
    timestamp: datetime,
    value: float,
    measurand: str | None,
    unit: str | None,
    phase: str | None,
    context: str | None,
    multiplier: int = 0,
) -> Sample:
    """A sample in base units; OCPP defaults: energy register in Wh, periodic context."""
    measurand = measurand or ENERGY_REGISTER
    unit = unit or ("Wh" if measurand.startswith("Energy") else "")
    try:
        value = value * (10.0**multiplier)
    except OverflowError as exc:
        raise ImplausibleSample(f"{measurand} with multiplier {multiplier} overflows") from exc
    if unit in _SCALE:
        unit, factor = _SCALE[unit]
        value *= factor
    _check_plausible(measurand, value, unit)
    return Sample(
        timestamp=timestamp,
        measurand=measurand,
        value=value,
        unit=unit,
        phase=phase or "",
        context=context or "Sample.Periodic",
    )


def _check_plausible(measurand: str, value: float, unit: str) -> None:
    """Refuse what would corrupt totals or fail the write of others' samples (NaN is NULL in
    SQLite and cannot be rounded to Wh)."""
    if not math.isfinite(value):
        raise ImplausibleSample(f"{measurand} is {value}, not a finite number")
    low, high = _BOUNDS.get(unit, _OTHER_BOUNDS)
    if not low <= value <= high:
        raise ImplausibleSample(
            f"{measurand} of {value:g} {unit} is beyond what a meter reads", bounds=[low, high]
        )


def energy_register_wh(samples: list[Sample]) -> int | None:
    """The latest whole-meter import register reading among `samples`, in Wh."""
    reading = register_reading(samples)
    return None if reading is None else reading[1]


def register_reading(samples: list[Sample]) -> tuple[datetime, int] | None:
    """The newest time of a whole-meter import register reading among `samples` and the
    reading then, in Wh (the highest, should one time carry two)."""
    readings = [s for s in samples if s.measurand == ENERGY_REGISTER and not s.phase]
    if not readings:
        return None
    newest = max(s.timestamp for s in readings)
    return newest, round(max(s.value for s in readings if s.timestamp == newest))


def is_newer_reading(
    reading: tuple[datetime, int], than_at: datetime | None, than_wh: int | None
) -> bool:
    """Whether `reading` replaces the one kept: a later time, or a higher value at its time
    (the order of the watchdog's register, so that samples delivered late change nothing)."""
    at, wh = reading
    return than_at is None or at > than_at or (at == than_at and (than_wh is None or wh > than_wh))


def latest(samples: list[Sample], measurand: str) -> float | None:
    """The latest value of `measurand` (summed over phases when only per-phase values exist)."""
    matching = [s for s in samples if s.measurand == measurand]
    if not matching:
        return None
    newest = max(s.timestamp for s in matching)
    at_newest = [s for s in matching if s.timestamp == newest]
    total = [s for s in at_newest if not s.phase]
    if total:
        return total[-1].value
    return sum(s.value for s in at_newest if s.phase in ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N"))


@dataclass(frozen=True)
class SignedReading:
    """A signed meter value (OCPP 2.0.1 SignedMeterValueType §2.45; OCPP 1.6 a sampled value of
    format SignedData), kept as sent: `data` is what the meter signed (OCMF for most)."""

    timestamp: datetime
    context: str
    data: str
    signing_method: str = ""
    encoding_method: str = "OCMF"
    public_key: str = ""
