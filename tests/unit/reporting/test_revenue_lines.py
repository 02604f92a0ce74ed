"""The monthly report's revenue counts every kind of line once, in its scope: charging at the
sites by plan (a corrected charge's credit deducted), V2G credits where the car fed the grid,
and, in the whole network's figures only, plan fees and our drivers' charging on partner
networks. Checked against the invoices of the month, before and after they are issued, on
SQLite and PostgreSQL.

November 2026: Mairie (Anse) and Centre (Jassans), energy at 0.25 EUR/kWh excl. VAT. Ada and Bo
hold the resident night pass (a monthly fee); Ada charges at Mairie (10 kWh, corrected to
8 kWh), feeds 3.456 kWh back at Centre, and charges in Berlin on a partner's network.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.billing import cdrs, invoices, service
from evhub.billing.lines import sources
from evhub.billing.models import InvoiceLineRecord
from evhub.billing.tariff import TariffBody
from evhub.billing.v2g_credit import EXPORT_REGISTER
from evhub.charging import service as charging
from evhub.charging.samples import Sample
from evhub.db import create_engine, session_factory
from evhub.reporting.monthly import Month, MonthlyReport, monthly_report
from evhub.reporting.revenue import RevenueSources
from evhub.uow import UnitOfWork
from tests.unit.billing.test_invoices import ISSUED, ISSUER, NOVEMBER, SETTINGS
from tests.unit.roaming.test_invoice_lines import _cdr, _receive

PARTY = service.Party("FR", "EVH")
PRICE = Decimal("0.25")
T0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
TARIFF = {"currency": "EUR", "elements": [
    {"price_components": [{"type": "ENERGY", "price": str(PRICE), "vat": "20", "step_size": 1}]}
]}  # fmt: skip
PLAN = "resident-night"


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def _network(uow: UnitOfWork) -> dict[str, int]:
    async with uow() as s:
        tariff = await service.create_tariff(s, T0, PARTY, TariffBody.model_validate(TARIFF))
        ids = {}
        for name, town, station in (("Mairie", "Anse", "CP-M"), ("Centre", "Jassans", "CP-J")):
            site = await assets.create_site(s, T0, name, "Europe/Paris", 100.0, town=town)
            await assets.update_site(s, site.id, T0, tariff_id=tariff.id)
            await assets.create_station(s, T0, station, site.id, "secret-password-1")
            ids[name] = site.id
        for name in ("Ada", "Bo"):
            driver = await accounts.create_driver(s, name, f"{name}@example.org", "visitor", T0)
            await plans.assign_plan(s, driver, PLAN)
            await accounts.create_token(s, f"TOK-{name}", "ISO14443", "Accepted", T0, driver.id)
            ids[name] = driver.id
        return ids


async def _charge(uow: UnitOfWork, n: int, station: str, wh: int, exported_wh: int = 0) -> int:
    """Ada's charge `n` (a day after the one before) of `wh`, feeding `exported_wh` back; its
    CDR issued. The CDR's id."""
    start, ocpp_id = T0 + timedelta(days=n), f"tx-{n}"
    exports = (0, 0) if not exported_wh else (1000, 1000 + exported_wh)
    samples = tuple(
        Sample(start + timedelta(minutes=m), EXPORT_REGISTER, float(v), "Wh", "", context)
        for m, v, context in ((0, exports[0], "Transaction.Begin"), (60, exports[1], ""))
        if exported_wh
    )
    async with uow() as s:
        begin = charging.TransactionStart(station, 1, 1, start, 0, "TOK-Ada", "2.1",
                                          station_transaction_id=ocpp_id)  # fmt: skip
        tx = (await charging.open_transaction(s, start, begin)).transaction
        if samples:
            step = charging.Step(1, "Updated", "MeterValuePeriodic", start + timedelta(hours=1))
            await charging.update_transaction(
                s, start, charging.TransactionUpdate(station, ocpp_id, step, samples=samples)
            )
        end = start + timedelta(hours=2)
        stop = charging.TransactionStop(
            station, ocpp_id, charging.Step(2, "Ended", "EVDeparted", end), wh, "Local"
        )
        await charging.close_transaction(s, end, stop)
    async with uow() as s:
        return (await cdrs.issue_for_transaction(s, end, PARTY, tx.id)).id


async def _report(uow: UnitOfWork, town: str | None = None) -> MonthlyReport:
    month = Month.parse("2026-11", "Europe/Paris")
    async with uow() as s:
        return await monthly_report(s, month, ISSUED, RevenueSources.of(SETTINGS), town)


async def _billed_by_source(uow: UnitOfWork) -> dict[str, Decimal]:
    async with uow() as s:
        rows = await s.execute(select(InvoiceLineRecord.source, InvoiceLineRecord.amount_excl_vat))
        out: dict[str, Decimal] = defaultdict(Decimal)
        for source, amount in rows:
            out[source] += amount
        return dict(out)


def _check(report: MonthlyReport, sites: dict[str, int], want: dict[str, Decimal]) -> None:
    """The report's figures per scope against the amounts worked out in the test."""
    by_site = {f.site_id: f for f in report.sites}
    mairie, centre = by_site[sites["Mairie"]], by_site[sites["Centre"]]
    assert mairie.charging_by_plan == {(PLAN, "EUR"): want["mairie"]}
    assert centre.charging_by_plan == {(PLAN, "EUR"): want["centre"]}
    assert (mairie.v2g_credits, centre.v2g_credits) == ({}, {"EUR": want["v2g"]})
    for scope in [*report.sites, *report.towns]:  # of no site or town
        assert scope.plan_fees_by_plan == {} and scope.partner_charging_by_plan == {}
    network = report.network
    assert network.plan_fees_by_plan == {(PLAN, "EUR"): want["plan_fees"]}
    assert network.partner_charging_by_plan == {(PLAN, "EUR"): want["partner"]}
    assert network.revenue_by_plan == {
        (PLAN, "EUR"): want["mairie"] + want["centre"] + want["plan_fees"] + want["partner"]
    }
    total = sum(want.values(), Decimal(0))
    assert network.revenue_excl_vat == {"EUR": total}


async def test_every_kind_of_line_counts_once_in_its_scope_before_and_after_invoicing(
    uow: UnitOfWork,
) -> None:
    ids = await _network(uow)
    corrected = await _charge(uow, 0, "CP-M", 10_000)
    await _charge(uow, 1, "CP-J", 6_000, exported_wh=3_456)
    async with uow() as s:
        await cdrs.correct(s, T0 + timedelta(days=3), PARTY, corrected,
                           cdrs.Correction("meter", energy_wh=8_000))  # fmt: skip
        fee = (await plans.plan_by_code(s, PLAN)).monthly_fee
    await _receive(uow, _cdr("CDR-1", "TOK-Ada", 4.2))  # passed through: no plan price set
    assert fee > 0
    want = {
        "mairie": (10 - 10 + 8) * PRICE,  # the charge, its credit and its correction
        "centre": 6 * PRICE,
        "v2g": Decimal("-0.41"),  # 3.456 kWh at 0.12 EUR, to the cent
        "plan_fees": 2 * fee,  # Ada and Bo
        "partner": Decimal("4.20"),
    }
    _check(await _report(uow), ids, want)

    assert len(await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))) == 2
    billed = await _billed_by_source(uow)
    # The invoices bill what the report counts, kind by kind, credits negative.
    assert billed == {
        "plan_fee": want["plan_fees"], "session": want["mairie"] + want["centre"],
        "v2g_credit": want["v2g"], "roaming": want["partner"],
    }  # fmt: skip
    # Once invoiced, a line counts as billed: a new fee does not change the month's.
    async with uow() as s:
        await plans.update_plan(s, PLAN, {"monthly_fee": fee + 7})
    _check(await _report(uow), ids, want)

    # A report of one town (or a funder's towns) has no plan fees nor partner charging.
    anse = await _report(uow, town="Anse")
    assert not anse.whole_network
    assert anse.network.plan_fees_by_plan == {} and anse.network.partner_charging_by_plan == {}
    assert anse.network.revenue_excl_vat == {"EUR": want["mairie"]}
