"""A month's direct debits: what each mandate's driver owes, FRST then RCUR, once per month,
as a pain.008.001.02 file that passes its XSD; a return re-opens the debt."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from xml.etree import ElementTree

from sqlalchemy import func, select

from evhub.ledger import service as ledger
from evhub.ledger.models import JournalEntry
from evhub.payments import card, mandates, sepa
from evhub.payments.mandates import MandateRequest
from evhub.payments.sepa import Creditor
from tests.unit.payments.conftest import NOW, Db

CREDITOR = Creditor("evhub Hubs", "FR1420041010050500013M02606", "PSSTFRPPXXX", "FR72ZZZ123456")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


async def _owe(db: Db, cdr_id: str, incl: str, days: int = 0) -> None:
    excl = str((Decimal(incl) / Decimal("1.2")).quantize(Decimal("0.01")))
    data = {
        "cdr_id": cdr_id,
        "transaction_id": None,
        "driver_id": db.ada,
        "total_incl_vat": incl,
        "total_excl_vat": excl,
        "currency": "EUR",
        "credit_of": None,
    }
    async with db.uow() as session:
        await card.record_cdr(session, data, NOW + timedelta(days=days))  # fmt: skip


async def _mandate(db: Db) -> None:
    request = MandateRequest(db.ada, "Ada Lovelace", "DE89370400440532013000", date(2026, 10, 3),
                             reference="EVH-ADA-2026")  # fmt: skip
    async with db.uow() as session:
        await mandates.create_mandate(session, request, NOW)


async def _batch(db: Db, month: str, days: int = 15) -> tuple[list[sepa.Payment], bytes]:
    async with db.uow() as session:
        payments = await sepa.collect_month(session, month, "EUR", NOW + timedelta(days=days))
        if not payments:
            return payments, b""
        document = await sepa.pain008(session, CREDITOR, payments, date(2026, 12, 5))
    return payments, document


async def test_the_month_collects_what_is_owed_as_a_valid_pain008(db: Db) -> None:
    await _mandate(db)
    await _owe(db, "CDR-N1", "12.00")
    await _owe(db, "CDR-N2", "7.50", days=5)
    await _owe(db, "CDR-D1", "3.00", days=12)  # December: next month's
    [payment], document = await _batch(db, "2026-11")
    assert (payment.captured_amount, payment.sequence_type) == (Decimal("19.50"), "FRST")
    root = ElementTree.fromstring(document)
    info = root.find("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    assert info is not None
    assert info.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS) == "FRST"
    assert info.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    assert info.findtext("p:ReqdColltnDt", namespaces=NS) == "2026-12-05"
    assert info.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == CREDITOR.iban
    assert info.findtext(".//p:CdtrSchmeId//p:Othr/p:Id", namespaces=NS) == "FR72ZZZ123456"
    [tx] = info.findall("p:DrctDbtTxInf", NS)
    amount = tx.find("p:InstdAmt", NS)
    assert amount is not None and (amount.text, amount.get("Ccy")) == ("19.50", "EUR")
    assert tx.findtext(".//p:MndtRltdInf/p:MndtId", namespaces=NS) == "EVH-ADA-2026"
    assert tx.findtext(".//p:MndtRltdInf/p:DtOfSgntr", namespaces=NS) == "2026-10-03"
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE89370400440532013000"
    assert tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == payment.end_to_end_id
    async with db.uow() as session:
        left = await sepa.owed_at(session, db.ada, "EUR", sepa.month_bounds("2026-12")[1])
    assert left == Decimal("3.00")


async def test_a_batch_made_again_books_nothing_twice(db: Db) -> None:
    await _mandate(db)
    await _owe(db, "CDR-N1", "12.00")
    first, _ = await _batch(db, "2026-11")
    again, _ = await _batch(db, "2026-11", days=16)
    assert [p.id for p in again] == [p.id for p in first]
    async with db.uow() as session:
        entries = await session.scalar(
            select(func.count()).where(JournalEntry.kind == "sepa_collection")
        )
        assert await ledger.balance(session, ledger.receivable(db.ada), "EUR") == 0
    assert entries == 1


async def test_recurrent_after_the_first_and_first_again_after_a_returned_first(db: Db) -> None:
    await _mandate(db)
    await _owe(db, "CDR-N1", "12.00")
    [first], _ = await _batch(db, "2026-11")
    async with db.uow() as session:
        returned = await sepa.record_return(session, str(first.end_to_end_id), "AM04", NOW)
        assert returned.status == "returned"
        assert await ledger.balance(session, ledger.receivable(db.ada), "EUR") == Decimal("12.00")
    await _owe(db, "CDR-D1", "6.00", days=12)
    [second], _ = await _batch(db, "2026-12", days=45)
    assert (second.sequence_type, second.captured_amount) == ("FRST", Decimal("18.00"))
    await _owe(db, "CDR-J1", "2.40", days=45)
    [third], _ = await _batch(db, "2027-01", days=75)
    assert (third.sequence_type, third.captured_amount) == ("RCUR", Decimal("2.40"))


async def test_a_return_that_ends_the_mandate_revokes_it(db: Db) -> None:
    await _mandate(db)
    await _owe(db, "CDR-N1", "12.00")
    [first], _ = await _batch(db, "2026-11")
    async with db.uow() as session:
        await sepa.record_return(session, str(first.end_to_end_id), "MD01", NOW)
        [mandate] = await session.scalars(mandates.mandates_query(db.ada))
    assert mandate.status == "revoked"
    payments, _ = await _batch(db, "2026-12", days=45)
    assert payments == []
