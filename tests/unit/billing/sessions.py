"""Build the charging periods of a CDR the way a CPO writes them (OCPI 2.2.1 §10.4.6), and load
the vendored OCPI tariff examples."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from evhub.billing.pricing import CdrPeriods
from evhub.billing.tariff import ChargingPeriod, Tariff

DATA = Path(__file__).parent / "data"


def example(name: str) -> dict[str, Any]:
    """A file of the OCPI repository's examples/, numbers as decimals."""
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(), parse_float=Decimal)
    return loaded


def tariff(name: str, **changes: Any) -> Tariff:
    return Tariff.model_validate(example(name) | changes)


def hours(minutes: float) -> Decimal:
    """A duration as a CDR carries it: hours with 4 decimals (OCPI `number`)."""
    return round(Decimal(str(minutes)) / 60, 4)


@dataclass
class Session:
    """Periods appended one after the other from `start` (UTC)."""

    start: datetime
    periods: list[tuple[datetime, dict[str, Decimal]]] = field(default_factory=list)
    at: datetime | None = None

    def _add(self, minutes: float, dims: dict[str, Decimal]) -> Session:
        begin = self.at or self.start
        self.periods.append((begin, dims))
        self.at = begin + timedelta(minutes=minutes)
        return self

    def charge(self, minutes: float, kwh: float | None = None, **extra: float) -> Session:
        dims = {"TIME": hours(minutes)}
        if kwh is not None:
            dims["ENERGY"] = Decimal(str(kwh))
        dims |= {k.upper(): Decimal(str(v)) for k, v in extra.items()}
        return self._add(minutes, dims)

    def park(self, minutes: float) -> Session:
        return self._add(minutes, {"PARKING_TIME": hours(minutes)})

    def reserve(self, minutes: float) -> Session:
        return self._add(minutes, {"RESERVATION_TIME": hours(minutes)})

    def raw(self, minutes: float, **dims: float) -> Session:
        return self._add(minutes, {k.upper(): Decimal(str(v)) for k, v in dims.items()})

    @property
    def end(self) -> datetime:
        assert self.at is not None
        return self.at

    def cdr_periods(self) -> CdrPeriods:
        periods = [
            ChargingPeriod.model_validate(
                {
                    "start_date_time": begin,
                    "dimensions": [{"type": k, "volume": v} for k, v in d.items()],
                }
            )
            for begin, d in self.periods
        ]
        return CdrPeriods(tuple(periods), self.end)

    def cdr_json(self, currency: str = "EUR") -> dict[str, Any]:
        """The CDR of the contract of `evhub billing price`: no total_* fields."""
        return {
            "start_date_time": _text(self.start),
            "end_date_time": _text(self.end),
            "currency": currency,
            "charging_periods": [
                {
                    "start_date_time": _text(begin),
                    "dimensions": [{"type": k, "volume": float(v)} for k, v in d.items()],
                }
                for begin, d in self.periods
            ],
        }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _text(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
