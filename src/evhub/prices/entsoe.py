"""ENTSO-E Transparency Platform day-ahead prices: the A44 `Publication_MarketDocument`.

Schema: IEC 62325-451-3 publication document, namespace
`urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3` (ENTSO-E's published XSD and its
example "Energy Prices [12.1.D]"). A document holds TimeSeries, each with `curveType` and one or
more `Period` (`timeInterval` start/end in UTC, `resolution` as an ISO 8601 duration, `Point`s
numbered from 1 with `price.amount` in `currency_Unit.name` per `price_Measure_Unit.name`).

Curve type A01 (sequential fixed size blocks) lists every position; A03 (variable sized blocks)
omits a position whose price equals the one before it, so a missing position repeats the last
price given, up to the end of the period's interval.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from evhub.prices.points import PriceFormatError, PricePoint, parse_utc

NAMESPACE_PREFIX = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:"
DAY_AHEAD_PRICES = "A44"
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_SUPPORTED_MINUTES = (15, 30, 60)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in node if _local(c.tag) == name), None)


def _children(node: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in node if _local(c.tag) == name]


def _text(node: ET.Element, *path: str) -> str:
    current: ET.Element | None = node
    for name in path:
        current = _child(current, name) if current is not None else None
    if current is None or current.text is None:
        raise PriceFormatError(f"missing {'/'.join(path)}")
    return current.text.strip()


def resolution_minutes(duration: str) -> int:
    """`PT60M`, `PT15M`, `PT1H`... as minutes (only 15, 30 and 60 are market time units here)."""
    match = _DURATION.match(duration.strip())
    if match is None or not any(match.groups()):
        raise PriceFormatError(f"unsupported resolution {duration!r}")
    minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if minutes not in _SUPPORTED_MINUTES:
        raise PriceFormatError(f"unsupported resolution {duration!r}")
    return minutes


def _period_points(period: ET.Element, curve_type: str) -> list[PricePoint]:
    start = parse_utc(_text(period, "timeInterval", "start"), 0)
    end = parse_utc(_text(period, "timeInterval", "end"), 0)
    minutes = resolution_minutes(_text(period, "resolution"))
    step = timedelta(minutes=minutes)
    slots = int((end - start) / step)
    given: dict[int, Decimal] = {}
    for point in _children(period, "Point"):
        try:
            given[int(_text(point, "position"))] = Decimal(_text(point, "price.amount"))
        except (ValueError, InvalidOperation) as error:
            raise PriceFormatError(f"bad point in period from {start.isoformat()}") from error
    if not given:
        return []
    if min(given) < 1 or max(given) > slots:
        raise PriceFormatError(f"a position lies outside the period from {start.isoformat()}")
    out: list[PricePoint] = []
    last: Decimal | None = None
    for position in range(1, slots + 1):
        if position in given:
            last = given[position]
        elif curve_type != "A03" or last is None:
            continue  # A01: a missing position is a missing price, not a repeated one
        out.append(PricePoint(start + (position - 1) * step, last, minutes))
    return out


def parse_publication_document(xml: bytes | str) -> tuple[str, list[PricePoint]]:
    """The bidding zone (EIC code of `in_Domain`) and the prices of an A44 document, by start."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as error:
        raise PriceFormatError(f"not XML: {error}") from error
    if _local(root.tag) != "Publication_MarketDocument" or not root.tag.startswith(
        "{" + NAMESPACE_PREFIX
    ):
        raise PriceFormatError(f"not a Publication_MarketDocument: {root.tag}")
    if _text(root, "type") != DAY_AHEAD_PRICES:
        raise PriceFormatError(f"document type {_text(root, 'type')}, expected A44")
    zone = ""
    points: dict[datetime, PricePoint] = {}
    for series in _children(root, "TimeSeries"):
        zone = zone or _text(series, "in_Domain.mRID")
        unit = _text(series, "price_Measure_Unit.name")
        currency = _text(series, "currency_Unit.name")
        if unit != "MWH" or currency != "EUR":
            raise PriceFormatError(f"prices in {currency}/{unit}, expected EUR/MWH")
        curve = _child(series, "curveType")
        curve_type = curve.text.strip() if curve is not None and curve.text else "A01"
        for period in _children(series, "Period"):
            for p in _period_points(period, curve_type):
                points[p.starts_at] = p
    return zone, [points[k] for k in sorted(points)]
