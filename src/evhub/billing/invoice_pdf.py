"""The invoice as a PDF (reportlab); for business customers a Factur-X PDF, its CII XML inside.

What the invoice must show in France (CGI annexe II art. 242 nonies A): its number and date,
the seller's name, address, SIREN and VAT number, the customer, each line with its quantity,
amount excl. VAT and VAT rate, the VAT per rate and the totals.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from evhub.billing.facturx_xml import cii_xml
from evhub.billing.identity import LegalIdentity
from evhub.billing.models import InvoiceLineRecord, InvoiceRecord


@dataclass(frozen=True)
class InvoiceDocument:
    seller: LegalIdentity
    invoice: InvoiceRecord
    lines: list[InvoiceLineRecord]
    customer_email: str | None = None

    def vat_by_rate(self) -> dict[Decimal, tuple[Decimal, Decimal]]:
        """Per VAT rate: (basis excl. VAT, VAT)."""
        groups: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for line in self.lines:
            group = groups[line.vat_rate]
            group[0] += line.amount_excl_vat
            group[1] += line.vat_amount
        return {rate: (basis, vat) for rate, (basis, vat) in sorted(groups.items())}


def render_invoice(doc: InvoiceDocument) -> bytes:
    """The PDF; a Factur-X one (CII XML checked against its XSD) for a business customer."""
    pdf = _pdf(doc)
    if not doc.invoice.business:
        return pdf
    import facturx  # a second of imports (lxml schemas), only for business customers

    xml = cii_xml(doc)
    facturx.xml_check_xsd(xml, flavor="factur-x", level="basic")
    result: bytes = facturx.generate_from_binary(
        pdf, xml, flavor="factur-x", level="basic", check_xsd=True, lang="fr-FR"
    )
    return result


def _pdf(doc: InvoiceDocument) -> bytes:
    out = io.BytesIO()
    inv, seller = doc.invoice, doc.seller
    styles = getSampleStyleSheet()
    story = [
        Paragraph(f"Invoice {inv.number}", styles["Title"]),
        Paragraph(
            f"{_escape(seller.name)}<br/>{_escape(seller.address)}<br/>"
            f"{_escape(seller.postcode)} {_escape(seller.city)}, {seller.country}<br/>"
            f"SIREN {seller.siren} · VAT {seller.vat_number}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            f"Customer: {_escape(inv.customer_name)} (#{inv.driver_id})<br/>"
            f"Issued {inv.issued_at:%Y-%m-%d} · Period {inv.month} · Currency {inv.currency}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        _lines_table(doc),
        Spacer(1, 6 * mm),
        _totals_table(doc),
    ]
    SimpleDocTemplate(
        out, pagesize=A4, title=f"Invoice {inv.number}", author=seller.name,
        leftMargin=18 * mm, rightMargin=18 * mm,
    ).build(story)  # fmt: skip
    return out.getvalue()


def _lines_table(doc: InvoiceDocument) -> Table:
    rows: list[list[str]] = [["#", "Description", "Qty", "Excl. VAT", "VAT %", "VAT", "Incl. VAT"]]
    for line in doc.lines:
        rows.append(
            [
                str(line.position), line.description[:70], f"{line.quantity:.3f} {line.unit}",
                _money(line.amount_excl_vat), f"{line.vat_rate:.2f}", _money(line.vat_amount),
                _money(line.amount_incl_vat),
            ]
        )  # fmt: skip
    table = Table(rows, repeatRows=1, colWidths=[8 * mm, 70 * mm, 22 * mm, 20 * mm, 14 * mm,
                                                 18 * mm, 22 * mm])  # fmt: skip
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    return table


def _totals_table(doc: InvoiceDocument) -> Table:
    inv = doc.invoice
    rows = [[f"VAT {rate:.2f} % on {_money(basis)}", _money(vat)]
            for rate, (basis, vat) in doc.vat_by_rate().items()]  # fmt: skip
    rows += [
        ["Total excl. VAT", _money(inv.total_excl_vat)],
        ["Total VAT", _money(inv.total_vat)],
        [f"Total incl. VAT ({inv.currency})", _money(inv.total_incl_vat)],
    ]
    table = Table(rows, colWidths=[60 * mm, 30 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("FONTSIZE", (0, 0), (-1, -1), 8)])
    )
    return table


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
