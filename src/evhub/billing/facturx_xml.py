"""The CII XML (UN/CEFACT Cross Industry Invoice) of an invoice, Factur-X profile BASIC.

Element order follows the Factur-X 1.0 BASIC XSD; amounts have 2 decimals, the VAT categories
are S (standard rate) and Z (zero rate, e.g. a CDR whose tariff names no VAT).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from evhub.billing.invoice_pdf import InvoiceDocument

_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
BASIC = "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"
_UNITS = {"kWh": "KWH", "min": "MIN", "km": "KMT", "h": "HUR", "unit": "C62"}  # UN/ECE Rec. 20


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{_NS[prefix]}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _category(rate: Decimal) -> str:
    return "S" if rate > 0 else "Z"


def cii_xml(doc: InvoiceDocument) -> bytes:
    inv = doc.invoice
    root = etree.Element(f"{{{_NS['rsm']}}}CrossIndustryInvoice", nsmap=_NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", BASIC)
    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", inv.number)
    _el(header, "ram:TypeCode", "380")  # commercial invoice (UNTDID 1001)
    issued = _el(header, "ram:IssueDateTime")
    _el(issued, "udt:DateTimeString", inv.issued_at.strftime("%Y%m%d"), format="102")
    trade = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        item = _el(trade, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        quantity = line.quantity if line.quantity else Decimal(1)
        unit_price = abs(line.amount_excl_vat / quantity) if quantity else Decimal(0)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        net = _el(agreement, "ram:NetPriceProductTradePrice")
        _el(net, "ram:ChargeAmount", f"{unit_price:.4f}")
        signed_quantity = abs(quantity) if line.amount_excl_vat >= 0 else -abs(quantity)
        _el(
            _el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity",
            f"{signed_quantity:.4f}", unitCode=_UNITS.get(line.unit, "C62"),
        )  # fmt: skip
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", _category(line.vat_rate))
        _el(tax, "ram:RateApplicablePercent", f"{line.vat_rate:.2f}")
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _amount(line.amount_excl_vat))
    _agreement(trade, doc)
    _el(trade, "ram:ApplicableHeaderTradeDelivery")
    _settlement(trade, doc)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _agreement(trade: etree._Element, doc: InvoiceDocument) -> None:
    seller, inv = doc.seller, doc.invoice
    agreement = _el(trade, "ram:ApplicableHeaderTradeAgreement")
    party = _el(agreement, "ram:SellerTradeParty")
    _el(party, "ram:Name", seller.name)
    _el(_el(party, "ram:SpecifiedLegalOrganization"), "ram:ID", seller.siren, schemeID="0002")
    address = _el(party, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", seller.postcode)
    _el(address, "ram:LineOne", seller.address)
    _el(address, "ram:CityName", seller.city)
    _el(address, "ram:CountryID", seller.country)
    _el(_el(party, "ram:SpecifiedTaxRegistration"), "ram:ID", seller.vat_number, schemeID="VA")
    buyer = _el(agreement, "ram:BuyerTradeParty")
    _el(buyer, "ram:ID", str(inv.driver_id))
    _el(buyer, "ram:Name", inv.customer_name)


def _settlement(trade: etree._Element, doc: InvoiceDocument) -> None:
    inv = doc.invoice
    settlement = _el(trade, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", inv.currency)
    for rate, (basis, vat) in doc.vat_by_rate().items():
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _amount(vat))
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:BasisAmount", _amount(basis))
        _el(tax, "ram:CategoryCode", _category(rate))
        _el(tax, "ram:RateApplicablePercent", f"{rate:.2f}")
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _amount(inv.total_excl_vat))
    _el(totals, "ram:TaxBasisTotalAmount", _amount(inv.total_excl_vat))
    _el(totals, "ram:TaxTotalAmount", _amount(inv.total_vat), currencyID=inv.currency)
    _el(totals, "ram:GrandTotalAmount", _amount(inv.total_incl_vat))
    _el(totals, "ram:DuePayableAmount", _amount(inv.total_incl_vat))
