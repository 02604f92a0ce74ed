"""What the driver's V2G page and app show: the standing choice, and what V2G earned in the
invoice's month so far, from the meter's export register at the credit setting; and what a
charge exported since a connected car's report, from the same register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.unit.billing.test_invoices import SETTINGS
from tests.unit.billing.test_v2g_credit import T0, _charge, _hub, uow

from evhub.charging.models import Transaction
from evhub.planning import v2g_account, v2x_settings
from evhub.planning.v2x_soc import exported_since_wh
from evhub.uow import UnitOfWork

__all__ = ["uow"]
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def test_the_account_shows_the_choice_and_this_months_credit_only(uow: UnitOfWork) -> None:
    driver = await _hub(uow)
    async with uow() as s:
        empty = await v2g_account.account_of(s, SETTINGS, driver, NOW)
    assert (empty.consent, empty.min_soc_pct, empty.target_soc_pct) == (False, None, None)
    assert (empty.earned, empty.currency, empty.charges) == (Decimal("0.00"), "EUR", [])

    await _charge(uow, 0, [(0, 1000, "Transaction.Begin"), (120, 4456, "Sample.Periodic")])
    # 1 December 17:00 UTC to 2 December: this month's; 2.5 kWh at 0.12 EUR.
    await _charge(uow, 21, [(0, 5000, "Transaction.Begin"), (90, 7500, "Sample.Periodic")])
    async with uow() as s:
        await v2x_settings.save(s, driver, v2x_settings.check(True, 30.0, 80.0), NOW)
    async with uow() as s:
        account = await v2g_account.account_of(s, SETTINGS, driver, NOW)
    assert (account.consent, account.min_soc_pct, account.target_soc_pct) == (True, 30.0, 80.0)
    assert (account.earned, account.currency) == (Decimal("0.30"), "EUR")
    async with uow() as s:
        november = await v2g_account.account_of(s, SETTINGS, driver, T0 + timedelta(days=15))
    assert november.earned == Decimal("0.41")  # 3.456 kWh, rounded to the cent


async def test_what_a_charge_exported_since_a_report_is_read_from_the_export_register(
    uow: UnitOfWork,
) -> None:
    await _hub(uow)
    fed = await _charge(
        uow, 0, [(0, 1000, "Transaction.Begin"), (60, 2200, "Sample.Periodic"),
                 (120, 4456, "Sample.Periodic")],
    )  # fmt: skip
    quiet = await _charge(uow, 1, [])
    async with uow() as s:
        tx = await s.get(Transaction, fed)
        assert tx is not None
        assert await exported_since_wh(s, tx, T0 + timedelta(minutes=30)) == 3456
        assert await exported_since_wh(s, tx, T0 + timedelta(minutes=90)) == 2256
        assert await exported_since_wh(s, tx, T0 - timedelta(hours=1)) == 3456  # from the first
        none = await s.get(Transaction, quiet)
        assert none is not None and await exported_since_wh(s, none, T0) == 0.0
