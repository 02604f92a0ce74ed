"""The issuer of invoices: the operator's legal identity, checked before anything is issued.

French invoices must carry the seller's name, SIREN, address and intra-community VAT number
(Code général des impôts, art. 242 nonies A). The SIREN is checked by its Luhn key and the VAT
number by its check digits (python-stdnum); a French VAT number must be the SIREN's.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat
from stdnum.fr import siren, tva

from evhub.errors import InvalidInput
from evhub.settings import Settings


@dataclass(frozen=True)
class LegalIdentity:
    name: str
    siren: str
    vat_number: str
    address: str
    postcode: str
    city: str
    country: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LegalIdentity:
        missing = [
            f"EVHUB_INVOICE_COMPANY_{name.upper()}"
            for name in ("name", "siren", "vat_number", "address", "postcode", "city")
            if not getattr(settings, f"invoice_company_{name}")
        ]
        if missing:
            raise InvalidInput("the operator's legal identity is not configured", missing=missing)
        assert settings.invoice_company_siren and settings.invoice_company_vat_number
        return cls(
            name=str(settings.invoice_company_name),
            siren=check_siren(settings.invoice_company_siren),
            vat_number=check_vat(
                settings.invoice_company_vat_number, settings.invoice_company_siren
            ),
            address=str(settings.invoice_company_address),
            postcode=str(settings.invoice_company_postcode),
            city=str(settings.invoice_company_city),
            country=settings.invoice_company_country,
        )


def check_siren(value: str) -> str:
    try:
        return str(siren.validate(value))
    except stdnum_errors.ValidationError as exc:
        raise InvalidInput(f"SIREN {value!r} is not valid: {exc}") from exc


def check_vat(value: str, siren_value: str | None = None) -> str:
    """An EU VAT number, compacted; a French one must name the SIREN it belongs to."""
    try:
        number = str(vat.validate(value))
    except stdnum_errors.ValidationError as exc:
        raise InvalidInput(f"VAT number {value!r} is not valid: {exc}") from exc
    if number.startswith("FR") and siren_value is not None:
        if tva.compact(number)[2:] != siren.compact(siren_value):
            raise InvalidInput(f"VAT number {value!r} is not that of SIREN {siren_value!r}")
    return number
