"""IBAN, BIC, creditor identifier and mandate reference checks; mandates as stored."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.payments import mandates
from evhub.payments.identifiers import (
    checked_bic,
    checked_iban,
    checked_mandate_reference,
    creditor_id_valid,
)
from evhub.payments.mandates import MandateRequest
from evhub.settings import Settings
from tests.unit.payments.conftest import NOW, Db

IBAN_DE = "DE89 3704 0044 0532 0130 00"
IBAN_FR = "FR14 2004 1010 0505 0001 3M02 606"


def test_an_iban_is_checked_and_compacted() -> None:
    assert checked_iban(IBAN_DE) == "DE89370400440532013000"
    assert checked_iban(IBAN_FR.lower()) == "FR1420041010050500013M02606"
    for wrong in ("DE88370400440532013000", "DE8937040044053201300", "XX89370400440532013000"):
        with pytest.raises(InvalidInput):
            checked_iban(wrong)


def test_a_bic_is_checked_or_found_from_the_iban() -> None:
    assert checked_bic(None, "DE89370400440532013000") == "COBADEFFXXX"
    assert checked_bic("COBADEFF", "DE89370400440532013000") == "COBADEFF"
    with pytest.raises(InvalidInput):
        checked_bic("COBA1EFF", "DE89370400440532013000")


def test_creditor_identifiers_by_their_check_digits() -> None:
    assert creditor_id_valid("DE98ZZZ09999999999")
    assert creditor_id_valid("FR72ZZZ123456")
    assert creditor_id_valid("fr72 abc 123456")  # the business code is not checked
    assert not creditor_id_valid("DE97ZZZ09999999999")
    assert not creditor_id_valid("FR72ZZZ")


def test_settings_refuse_a_wrong_creditor_identifier() -> None:
    assert Settings(sepa_creditor_id="fr72zzz123456").sepa_creditor_id == "FR72ZZZ123456"
    with pytest.raises(ValidationError):
        Settings(sepa_creditor_id="FR73ZZZ123456")
    with pytest.raises(ValidationError):
        Settings(sepa_creditor_iban="DE88370400440532013000")


def test_mandate_references_use_the_sepa_characters() -> None:
    assert checked_mandate_reference("EVH-12/2026(a)") == "EVH-12/2026(a)"
    for wrong in ("", " EVH", "EVH ", "EVH//1", "EVH_1", "A" * 36, "ÉVH"):
        with pytest.raises(InvalidInput):
            checked_mandate_reference(wrong)


async def test_a_mandate_reference_is_unique(db: Db) -> None:
    request = MandateRequest(db.ada, "Ada L", IBAN_DE, date(2026, 11, 1), reference="EVH-ADA-1")
    async with db.uow() as session:
        mandate = await mandates.create_mandate(session, request, NOW)
    assert (mandate.iban, mandate.bic) == ("DE89370400440532013000", "COBADEFFXXX")
    with pytest.raises(Conflict):
        async with db.uow() as session:
            await mandates.create_mandate(
                session, MandateRequest(db.bo, "Bo", IBAN_FR, date(2026, 11, 1), "BNPAFRPP",
                                        "EVH-ADA-1"), NOW,
            )  # fmt: skip


async def test_a_mandate_is_signed_by_a_known_driver_and_not_in_the_future(db: Db) -> None:
    with pytest.raises(InvalidInput):
        async with db.uow() as session:
            await mandates.create_mandate(
                session, MandateRequest(db.ada, "Ada", IBAN_DE, date(2026, 12, 25)), NOW
            )
    with pytest.raises(NotFound):
        async with db.uow() as session:
            await mandates.create_mandate(
                session, MandateRequest(999, "Nobody", IBAN_DE, date(2026, 11, 1)), NOW
            )
