"""SEPA direct debit as an operator runs it: a driver's mandate through the API, the month's
pain.008 file from `evhub payments sepa-batch` (a child process on the server's database),
the reconciliation from `evhub payments reconcile`, and a return recorded through the API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

from tests.integration.live_server import run_server
from tests.integration.payments_hub import add_driver, handled, issue_cdr

CLI = [sys.executable, "-c", "from evhub.cli import app; app()", "payments"]
CREDITOR = {
    "sepa_creditor_name": "evhub Hubs",
    "sepa_creditor_iban": "FR1420041010050500013M02606",
    "sepa_creditor_bic": "PSSTFRPPXXX",
    "sepa_creditor_id": "FR72ZZZ123456",
}
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


async def _evhub(*args: str, **settings: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVHUB_")}
    env |= {f"EVHUB_{k.upper()}": v for k, v in settings.items()} | {"COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_mandate_monthly_batch_reconciliation_and_return(
    database_url: str, tmp_path: Path
) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    async with run_server(database_url) as server:
        ada = await add_driver(server, "Ada", "TAG-ADA")
        operator, viewer = await server.client("operator"), await server.client("viewer")
        body = {"driver_id": ada, "debtor_name": "Ada Lovelace", "signed_on": "2026-11-02",
                "iban": "DE89 3704 0044 0532 0130 00", "reference": "EVH-ADA-1"}  # fmt: skip
        wrong = await operator.post("/api/v1/payments/mandates", json=body | {"iban": "DE00"})
        assert wrong.status_code == 422, wrong.text
        r = await operator.post("/api/v1/payments/mandates", json=body)
        assert r.status_code == 201, r.text
        assert (r.json()["bic"], r.json()["status"]) == ("COBADEFFXXX", "active")
        again = await operator.post("/api/v1/payments/mandates", json=body)
        assert again.status_code == 409, again.text
        assert (await viewer.get("/api/v1/payments/mandates")).status_code == 403
        listed = await operator.get("/api/v1/payments/mandates", params={"driver_id": ada})
        assert [m["reference"] for m in listed.json()] == ["EVH-ADA-1"]
        assert listed.headers["X-Total-Count"] == "1"
        await issue_cdr(server, "CDR-S1", 999, ada, "24.00", "20.00")
        await issue_cdr(server, "CDR-S2", 998, ada, "6.00", "5.00")
        await handled(server, ("payments.cdrs",))  # booked, without any acquirer

        out_file = tmp_path / "sdd.xml"
        settings = {"database_url": database_url, **CREDITOR}
        code, out = await _evhub("sepa-batch", "--month", month, "--out", str(out_file), **settings)
        assert code == 0, out
        tx = ElementTree.parse(out_file).getroot().findall(".//p:DrctDbtTxInf", NS)
        assert [t.findtext("p:InstdAmt", namespaces=NS) for t in tx] == ["30.00"]
        assert tx[0].findtext(".//p:MndtId", namespaces=NS) == "EVH-ADA-1"
        code, out = await _evhub("sepa-batch", "--month", month, "--out", str(out_file), **settings)
        assert code == 0, out  # made again: the same collection, booked once
        [debit] = (await operator.get("/api/v1/payments", params={"method": "sepa"})).json()
        assert (debit["status"], debit["sequence_type"]) == ("submitted", "FRST")
        assert Decimal(debit["captured_amount"]) == Decimal("30.00")

        code, out = await _evhub("reconcile", "--month", month, "--json", **settings)
        assert code == 0, out
        report = json.loads(out.strip().splitlines()[-1])
        assert [b["driver_id"] for b in report["open_balances"]] == []  # collected

        r = await operator.post(
            "/api/v1/payments/sepa/returns",
            json={"end_to_end_id": debit["end_to_end_id"], "reason_code": "AM04"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["failure_reason"]) == ("returned", "AM04")
        r = await operator.get(f"/api/v1/payments/reconciliation/{month}")
        owed = {b["driver_id"]: Decimal(b["balance"]) for b in r.json()["open_balances"]}
        assert owed == {ada: Decimal("30.00")}

    code, out = await _evhub("sepa-batch", "--month", month, "--out", str(out_file),
                             database_url=database_url)  # fmt: skip
    assert code == 2 and "EVHUB_SEPA_CREDITOR_IBAN" in out
