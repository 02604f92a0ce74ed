"""`evhub report monthly --format json`, run as a command on the configured database: the
month's revenue is the CDR billing issued for its one charge."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from evhub.billing import cdrs
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork
from tests.integration.test_invoice_cli import _evhub
from tests.unit.billing.test_cdrs import PARTY, T0, charge
from tests.unit.billing.test_invoices import ISSUED


@pytest.mark.timeout(300)  # two interpreters, each importing the whole application
async def test_the_command_writes_the_months_report_as_json(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    try:
        uow = UnitOfWork(session_factory(engine))
        tx_id = await charge(uow)
        async with uow() as s:
            cdr = await cdrs.issue_for_transaction(s, ISSUED, PARTY, tx_id)
            issued = (cdr.total_excl_vat, cdr.currency)
    finally:
        await engine.dispose()
    out = tmp_path / "report.json"
    month = f"{T0:%Y-%m}"
    code, said = await _evhub("report", "monthly", "--month", month, "--format", "json",
                              "--out", str(out), database_url=database_url)  # fmt: skip
    assert code == 0, said
    report = json.loads(out.read_text())
    network = next(s for s in report["scopes"] if s["scope"] == "network")
    assert network["figures"]["sessions"] == "1"
    (total,) = network["revenue"]["total"]
    assert (Decimal(total["amount_excl_vat"]), total["currency"]) == issued
    assert issued[0] > 0
    (fleet,) = network["revenue"]["charging_by_plan"]
    assert fleet["plan"] == "no plan"  # the charge's driver has no plan
    code, said = await _evhub("report", "monthly", "--month", month, "--format", "xml",
                              "--out", str(out), database_url=database_url)  # fmt: skip
    assert code == 2 and "csv, pdf or json" in said
