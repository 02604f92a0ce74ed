"""SEPA identifiers: account numbers (IBAN, BIC; checked by schwifty), the creditor
identifier of the operator, and mandate references."""

from __future__ import annotations

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.iso7064 import mod_97_10

from evhub.errors import InvalidInput

# SEPA's Latin character set for identifiers (EPC217-08 §1.4), 1 to 35 characters
# (pain.008 MndtId: Max35Text); no leading or trailing space, no "//" (EPC SDD Core IG).
_REFERENCE = re.compile(
    r"^[A-Za-z0-9+?/\-:().,']([A-Za-z0-9+?/\-:().,' ]{0,33}[A-Za-z0-9+?/\-:().,'])?$"
)
# EPC262-08: country, check digits, creditor business code (3), national identifier (up to 28)
_CREDITOR_ID = re.compile(r"^([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


def checked_iban(value: str) -> str:
    """The IBAN in its compact form, if its country format and check digits are right."""
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise InvalidInput(f"not a valid IBAN: {exc}", field="iban") from exc


def checked_bic(value: str | None, iban: str) -> str:
    """The BIC given (checked), or the one the IBAN's bank code maps to."""
    try:
        if value:
            return str(BIC(value).compact)
        bic = IBAN(iban).bic
    except SchwiftyException as exc:
        raise InvalidInput(f"not a valid BIC: {exc}", field="bic") from exc
    if bic is None:
        raise InvalidInput("no BIC is known for this IBAN's bank: give it", field="bic")
    return str(bic.compact)


def checked_mandate_reference(value: str) -> str:
    if not _REFERENCE.fullmatch(value) or "//" in value:
        raise InvalidInput(
            "a mandate reference is 1-35 SEPA characters (A-Z a-z 0-9 + ? / - : ( ) . , ' "
            "and spaces inside), without '//'",
            field="reference",
        )
    return value


def creditor_id_valid(value: str) -> bool:
    """A SEPA creditor identifier (EPC262-08 §6): ISO 7064 MOD 97-10 over the national
    identifier, the country code and the check digits; the business code is not checked."""
    found = _CREDITOR_ID.fullmatch(value.replace(" ", "").upper())
    if found is None:
        return False
    country, check, _, national = found.groups()
    return bool(mod_97_10.is_valid(national + country + check))
