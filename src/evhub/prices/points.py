"""Day-ahead prices as plain values, and their CSV form (`datetime_utc,price_eur_per_mwh`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

CSV_COLUMNS = ("datetime_utc", "price_eur_per_mwh")


class PriceFormatError(ValueError):
    """A price file or document that cannot be read."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    """The price of one market time unit starting at `starts_at` (UTC), in EUR/MWh."""

    starts_at: datetime
    price_eur_per_mwh: Decimal
    resolution_minutes: int = 60


def parse_utc(text: str, line: int) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise PriceFormatError(f"line {line}: bad time {text!r}") from error
    if value.tzinfo is None:
        raise PriceFormatError(f"line {line}: time {text!r} has no UTC offset")
    return value.astimezone(UTC)


def parse_price_csv(text: str, resolution_minutes: int = 60) -> list[PricePoint]:
    """The rows of a `datetime_utc,price_eur_per_mwh` file, in file order."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_COLUMNS:
        raise PriceFormatError(f"expected the header {','.join(CSV_COLUMNS)}, got {header}")
    points: list[PricePoint] = []
    for line, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2:
            raise PriceFormatError(f"line {line}: expected 2 fields, got {len(row)}")
        try:
            price = Decimal(row[1].strip())
        except InvalidOperation as error:
            raise PriceFormatError(f"line {line}: bad price {row[1]!r}") from error
        if not price.is_finite():
            raise PriceFormatError(f"line {line}: bad price {row[1]!r}")
        points.append(PricePoint(parse_utc(row[0], line), price, resolution_minutes))
    return points


def check_unique(points: Iterable[PricePoint]) -> None:
    """Refuse two prices for the same start (a file that contradicts itself)."""
    seen: set[datetime] = set()
    for p in points:
        if p.starts_at in seen:
            raise PriceFormatError(f"two prices for {p.starts_at.isoformat()}")
        seen.add(p.starts_at)
