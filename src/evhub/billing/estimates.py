"""What a running charge costs so far, and what a driver would pay at a site: the same
tariff lookup and pricing engine that price the CDR, applied to the charge up to now.

The estimate reads what is stored of the transaction (its energy register readings, the last
one being the latest the station sent), so the figure a driver sees while charging is the one
the CDR will bill had the charge ended at that reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.billing.periods import Reading, charging_periods
from evhub.billing.pricing import CdrPeriods, Cost, price
from evhub.billing.service import EvseRef, tariff_for
from evhub.billing.tariff import PriceComponent, Tariff, TariffDimensionType, TariffElement
from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.charging.samples import ENERGY_REGISTER

CENTS = Decimal("0.01")
UNITS = {
    TariffDimensionType.ENERGY: "/kWh",
    TariffDimensionType.TIME: "/h charging",
    TariffDimensionType.PARKING_TIME: "/h parked",
    TariffDimensionType.FLAT: " per charge",
}


@dataclass(frozen=True)
class Estimate:
    """The cost of a charge up to `until`, in the tariff's currency."""

    cost: Cost
    currency: str
    energy_kwh: Decimal
    until: datetime
    tariff_id: str


async def driver_tariff(
    session: AsyncSession, site_id: int, driver_id: int, at: datetime
) -> Tariff | None:
    """The tariff that would price the driver's charge at the site now: the plan's tariff
    before the site's public one (`billing.service.tariff_for`)."""
    return await tariff_for(session, site_id, None, driver_id, at)


async def cost_so_far(
    session: AsyncSession, tx: Transaction, driver_id: int | None, now: datetime
) -> Estimate | None:
    """The charge priced as if it ended at its latest reading (None: no tariff prices it)."""
    station = await assets.get_station(session, tx.station_id)
    site = await assets.get_site(session, station.site_id)
    tariff = await tariff_for(
        session, site.id, EvseRef(tx.station_id, tx.evse_id), driver_id, tx.started_at
    )
    if tariff is None:
        return None
    end = tx.stopped_at or max(now, tx.started_at)
    last = tx.meter_start_wh + tx.energy_wh
    values = await charging.meter_values_of(session, tx.id)
    readings = [Reading(tx.started_at, tx.meter_start_wh)]
    # Readings stored after `tx` was read (a station keeps metering) are left out: the estimate
    # is of the charge as `tx` says it is, whatever the isolation of the caller's reads.
    readings += [
        Reading(v.timestamp, round(v.value))
        for v in values
        if v.measurand == ENERGY_REGISTER
        and not v.phase
        and tx.started_at <= v.timestamp <= end
        and round(v.value) <= last
    ]
    readings.append(Reading(end, last))
    tz = ZoneInfo(site.timezone)
    periods = charging_periods(tx.started_at, end, readings, tariff.elements, tz)
    costs = price(tariff, CdrPeriods(periods, end, tx.started_at), tz)
    return Estimate(costs.total_cost, tariff.currency, costs.total_energy, end, tariff.id)


def describe(tariff: Tariff) -> list[str]:
    """The tariff in a few words for a phone: its English alternative text when it has one,
    else each element's components with their VAT, and the hours an element holds."""
    texts = [t.text for t in tariff.tariff_alt_text if t.language == "en"]
    if texts:
        return texts
    return [_element(element, tariff.currency) for element in tariff.elements]


def _element(element: TariffElement, currency: str) -> str:
    parts = ", ".join(_component(c, currency) for c in element.price_components)
    r = element.restrictions
    if r is not None and r.start_time is not None and r.end_time is not None:
        parts += f" ({r.start_time}–{r.end_time})"
    return parts


def _component(component: PriceComponent, currency: str) -> str:
    incl = component.price * (1 + (component.vat or 0) / Decimal(100))
    shown = incl.quantize(Decimal("0.001"), ROUND_HALF_UP)
    if shown == shown.quantize(CENTS):
        shown = shown.quantize(CENTS)
    vat = f"incl. {component.vat.normalize():f} % VAT" if component.vat else "no VAT"
    return f"{shown:f} {currency}{UNITS[component.type]} {vat}"
