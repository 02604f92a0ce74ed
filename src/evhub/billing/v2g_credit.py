"""What vehicle-to-grid earned a driver: one credit line per charge whose car fed the grid.

The energy fed back is what the station's meter exported during the charge (OCPP 2.1 / 2.0.1
measurand `Energy.Active.Export.Register`, a register in Wh): the last reading of the charge
minus the register when it began. That start is the charge's own `Transaction.Begin` reading
when the station sends one (configure the export register among the measurands sampled at the
start, OCPP 2.0.1 J02 SampledDataTxStartedMeasurands); else the EVSE's last reading before
the charge; else the first reading within the charge, which may miss what was fed before it
but never credits what was not measured.

The price is a setting, `v2g_credit_per_kwh` (excl. VAT): the driver knows beforehand what a
kWh fed back earns, and the operator, who sells it at the market price of its slot, bears the
difference (the planner discharges only when that price pays for the round trip and the
battery's wear). The credit reduces what the driver pays for charging, so it carries the VAT
rate of the invoice's charging lines. Amounts are exact: Wh are integers, kWh a Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Token
from evhub.assets.models import Station
from evhub.billing import lines as invoice_lines  # a module: `lines.sources` names this one
from evhub.billing.models import InvoiceLineRecord
from evhub.charging.models import MeterValue, Transaction
from evhub.settings import Settings

EXPORT_REGISTER = "Energy.Active.Export.Register"
BEGIN = "Transaction.Begin"
WH_PER_KWH = Decimal(1000)


@dataclass(frozen=True)
class FedBack:
    """A finished charge whose car fed the grid, and how much (Wh, measured)."""

    transaction_pk: int
    driver_id: int | None
    site_id: int
    station_id: str
    evse_id: int
    started_at: datetime
    stopped_at: datetime
    exported_wh: int

    @property
    def energy_kwh(self) -> Decimal:
        return Decimal(self.exported_wh) / WH_PER_KWH


def credit_of(fed: FedBack, per_kwh: Decimal) -> Decimal:
    """What the driver is credited (positive, excl. VAT, rounded to the cent)."""
    return (fed.energy_kwh * per_kwh).quantize(invoice_lines.CENTS, ROUND_HALF_UP)


async def fed_back(
    session: AsyncSession,
    until: datetime,
    since: datetime | None = None,
    driver_id: int | None = None,
    site_id: int | None = None,
) -> list[FedBack]:
    """Finished charges (ended in [since, until)) whose meter exported energy, in end order."""
    readings = (
        select(
            MeterValue.transaction_pk,
            func.max(MeterValue.value).label("last"),
            func.min(MeterValue.value).label("first"),
        )
        .where(MeterValue.measurand == EXPORT_REGISTER, MeterValue.phase == "")
        .group_by(MeterValue.transaction_pk)
        .subquery()
    )
    query = (
        select(Transaction, Token.driver_id, Station.site_id, readings.c.last, readings.c.first)
        .join(readings, readings.c.transaction_pk == Transaction.id)
        .join(Station, Station.id == Transaction.station_id)
        .outerjoin(Token, Token.id == Transaction.token_id)
        .where(Transaction.state == "ended", Transaction.stopped_at < until)
        .order_by(Transaction.stopped_at, Transaction.id)
    )
    if since is not None:
        query = query.where(Transaction.stopped_at >= since)
    if driver_id is not None:
        query = query.where(Token.driver_id == driver_id)
    if site_id is not None:
        query = query.where(Station.site_id == site_id)
    out = []
    for tx, driver, site, last, first in (await session.execute(query)).all():
        start = await _register_at_start(session, tx, float(first))
        exported = round(float(last) - start)
        if exported > 0 and tx.stopped_at is not None:
            out.append(FedBack(tx.id, driver, site, tx.station_id, tx.evse_id, tx.started_at,
                               tx.stopped_at, exported))  # fmt: skip
    return out


async def _register_at_start(session: AsyncSession, tx: Transaction, first: float) -> float:
    """The export register when the charge began (see the module's docstring)."""
    begin = await session.scalar(
        select(func.min(MeterValue.value)).where(
            MeterValue.transaction_pk == tx.id,
            MeterValue.measurand == EXPORT_REGISTER,
            MeterValue.phase == "",
            MeterValue.context == BEGIN,
        )  # fmt: skip
    )
    if begin is not None:
        return float(begin)
    before = await session.scalar(
        select(MeterValue.value)
        .where(
            MeterValue.station_id == tx.station_id,
            MeterValue.evse_id == tx.evse_id,
            MeterValue.measurand == EXPORT_REGISTER,
            MeterValue.phase == "",
            MeterValue.timestamp < tx.started_at,
        )  # fmt: skip
        .order_by(MeterValue.timestamp.desc())
        .limit(1)
    )
    return first if before is None or float(before) > first else float(before)


class V2gCredits:
    """An invoice line source: each finished charge that fed the grid, as a negative line."""

    name = "v2g_credit"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[invoice_lines.LineDraft]:
        invoiced = set(
            await session.scalars(
                select(InvoiceLineRecord.source_ref).where(InvoiceLineRecord.source == self.name)
            )
        )
        rate = self.settings.v2g_credit_per_kwh
        return [
            invoice_lines.LineDraft(
                source=self.name,
                source_ref=f"tx:{fed.transaction_pk}",
                driver_id=fed.driver_id,
                at=fed.stopped_at,
                description=(
                    f"V2G credit {fed.station_id}/{fed.evse_id} {fed.started_at:%Y-%m-%d %H:%M}"
                    f" UTC, {fed.energy_kwh.normalize():f} kWh fed back at {rate.normalize():f}"
                    f" {self.settings.invoice_currency}/kWh"
                )[:255],
                quantity=-fed.energy_kwh,
                unit="kWh",
                amount_excl_vat=-credit_of(fed, rate),
                vat_rate=self.settings.invoice_vat_rate,
                currency=self.settings.invoice_currency,
            )  # fmt: skip
            for fed in await fed_back(session, until, driver_id=driver_id)
            if fed.driver_id is not None and f"tx:{fed.transaction_pk}" not in invoiced
        ]
