"""`evhub billing invoice --month`, run as a command: issues the month's invoices on the
configured database, and says what is missing when the operator's identity is not set."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime

import pytest

from evhub.billing import cdrs
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork
from tests.unit.billing.test_cdrs import PARTY, charge
from tests.unit.billing.test_invoices import ISSUED

IDENTITY = {
    "invoice_company_name": "Hubs de Lyon SAS",
    "invoice_company_siren": "732829320",
    "invoice_company_vat_number": "FR44732829320",
    "invoice_company_address": "9 quai Rambaud",
    "invoice_company_postcode": "69002",
    "invoice_company_city": "Lyon",
}

CLI = [sys.executable, "-c", "from evhub.cli import app; app()"]


async def _evhub(*args: str, **settings: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVHUB_")}
    env |= {f"EVHUB_{k.upper()}": v for k, v in settings.items()} | {"COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


@pytest.mark.timeout(300)  # three interpreters, each importing the whole application
async def test_the_command_invoices_a_month_once(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        uow = UnitOfWork(session_factory(engine))
        tx_id = await charge(uow)
        async with uow() as s:
            await cdrs.issue_for_transaction(s, ISSUED, PARTY, tx_id)
    finally:
        await engine.dispose()
    args = ("billing", "invoice", "--month", "2026-11")
    code, out = await _evhub(*args, database_url=database_url)
    assert code == 2 and "legal identity" in out
    code, out = await _evhub(*args, database_url=database_url, **IDENTITY)
    year = datetime.now().year  # numbered in the year the invoice is issued
    assert (code, json.loads(out)["issued"]) == (0, [f"EVH-{year}-000001"])
    code, out = await _evhub("billing", "invoice", "--month", "2026-13", database_url=database_url,
                             **IDENTITY)  # fmt: skip
    assert code == 2 and "YYYY-MM" in out
